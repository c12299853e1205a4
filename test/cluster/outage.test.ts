import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { type ClusterNodeProcess, leaderOf, useTestCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/eventually.js';

/**
 * PostgreSQL stopped for 20 s under a running cluster: every node keeps hearing and serving from
 * memory and says it is degraded; nothing is sent that could not be recorded; once the database
 * is back, what happened meanwhile is stored and announced, once. No crash, no busy loop, few
 * log lines.
 */

const OUTAGE_MS = 20_000;

const cluster = useTestCluster({ name: 'outage', webhook: true, fleet: { count: 30, prefix: 'o' } });

/** CPU seconds (user + system) the process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The log lines about leading, from every node, for a failure to explain itself. */
const roleLines = () =>
  cluster.nodes.flatMap((node) =>
    node.serving.logs
      .filter((line) => /lead|closing with|cluster.store/.test(String(line.msg)))
      .map((line) => `${node.name} ${line.time} ${line.msg}`),
  );

const errorLines = (node: ClusterNodeProcess) =>
  node.serving.logs.filter((line) => line.level === 'error' || line.level === 50);

it('a 20 s database outage: heard and served from memory, degraded, then everything stored and announced once', async () => {
  const leader = await leaderOf(cluster.nodes);
  await eventually(async () => {
    const { messages } = (await leader.get('/api/outbox?state=pending')) as { messages: unknown[] };
    expect(messages).toEqual([]);
  }, 20_000);
  const errorsBefore = cluster.nodes.map((node) => errorLines(node).length);

  await cluster.pg.stop();
  const stoppedAt = performance.now();
  // Goes down while nothing can be recorded.
  cluster.fleet.silence(['o0000']);

  for (const node of cluster.nodes) {
    await eventually(async () => {
      const health = (await node.get('/healthz')) as { ok: boolean; degraded?: string[] };
      expect(health.ok).toBe(true);
      expect(health.degraded?.join('; ')).toMatch(/cluster: cannot/);
    }, 15_000);
    const host = (await node.get('/api/hosts/o0001')) as { state: string };
    expect(host.state).toBe('up');
  }
  // No busy loop: over a few seconds of the outage, each node uses a fraction of a core.
  const pids = cluster.nodes.map((node) => node.serving.process.pid!);
  const cpuBefore = pids.map(cpuSeconds);
  const windowStart = performance.now();
  await eventually(() => performance.now() - windowStart >= 4000, 10_000);
  const seconds = (performance.now() - windowStart) / 1000;
  for (const [i, pid] of pids.entries())
    expect((cpuSeconds(pid) - cpuBefore[i]!) / seconds).toBeLessThan(0.5);
  // Nothing announced that could not be recorded.
  expect(
    cluster.webhook.requests.flatMap((request) => request.body.hosts.map((host) => host.name)),
  ).not.toContain('o0000');

  await eventually(() => performance.now() - stoppedAt >= OUTAGE_MS, OUTAGE_MS + 5000);
  for (const node of cluster.nodes) {
    // A few lines at the start of the outage, one per thing that failed, not one per attempt.
    expect(errorLines(node).length - errorsBefore[cluster.nodes.indexOf(node)]!).toBeLessThanOrEqual(8);
    expect(node.serving.process.exitCode).toBeNull();
  }
  await cluster.pg.start();

  const next = await leaderOf(cluster.nodes, 30_000);
  await eventually(async () => {
    const events = (await next.get('/api/events?host=o0000')) as { to: string | null; reason: string }[];
    expect(
      events.map((event) => event.to),
      JSON.stringify({ events, logs: roleLines() }),
    ).toEqual(['down', 'up']);
  }, 60_000);
  await eventually(() => {
    const announced = cluster.webhook.requests.filter((request) =>
      request.body.hosts.some((host) => host.name === 'o0000' && host.state === 'down'),
    );
    expect(announced).toHaveLength(1);
  }, 60_000);
  for (const node of cluster.nodes) {
    await eventually(async () => {
      const health = (await node.get('/healthz')) as { degraded?: unknown[] };
      expect(health.degraded).toBeUndefined();
    }, 60_000);
  }
  const keys = cluster.webhook.requests.map((request) => request.body.dedup_key);
  expect(keys.length).toBe(new Set(keys).size);
}, 240_000);
