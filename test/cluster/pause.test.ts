import { expect, it } from 'vitest';
import { leaderOf, useTestCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/eventually.js';

/**
 * A leader paused past its lease (SIGSTOP: a frozen VM, a stalled disk) wakes up believing it
 * leads. By then another node does: the paused one must send nothing, and say so.
 */

const cluster = useTestCluster({
  name: 'pause',
  settings: { grace: 2 },
  webhook: true,
  fleet: { count: 10, prefix: 'p' },
});

it('a leader stopped past its lease and resumed sends nothing once another leads, and logs that it no longer leads', async () => {
  const paused = await leaderOf(cluster.nodes);
  await eventually(async () => {
    const { messages } = (await paused.get('/api/outbox?state=pending')) as { messages: unknown[] };
    expect(messages).toEqual([]);
  }, 20_000);
  // The down of p0000 falls due while the leader is frozen: it would announce it on waking.
  cluster.fleet.silence(['p0000']);
  paused.serving.process.kill('SIGSTOP');
  const others = cluster.nodes.filter((node) => node !== paused);
  const next = await leaderOf(others, 15_000);
  expect(next.name).not.toBe(paused.name);
  await eventually(() => {
    const hosts = cluster.webhook.requests.flatMap((request) => request.body.hosts.map((host) => host.name));
    expect(hosts).toContain('p0000');
  }, 20_000);

  paused.serving.process.kill('SIGCONT');
  const line = await paused.serving.waitForLog(
    (entry) => String(entry.msg).includes('no longer leads'),
    15_000,
  );
  expect(line.level).toBe('warn');
  await leaderOf(cluster.nodes, 15_000);
  // The woken node heard the fleet all along and knows p0000 is down; the new leader announced it,
  // and nothing the woken node had scheduled went out: each host announced once.
  const counts = new Map<string, number>();
  for (const request of cluster.webhook.requests) {
    for (const host of request.body.hosts) counts.set(host.name, (counts.get(host.name) ?? 0) + 1);
  }
  expect(counts.get('p0000')).toBe(1);
  const keys = cluster.webhook.requests.map((request) => request.body.dedup_key);
  expect(keys.length).toBe(new Set(keys).size);
  expect(paused.serving.process.exitCode).toBeNull();
}, 120_000);
