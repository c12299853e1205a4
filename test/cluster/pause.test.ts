import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ClusterNodeProcess, leaderOf, startCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/eventually.js';
import { FleetSender } from '../helpers/fleet-sender.js';
import { type PgServer, startPostgres } from '../helpers/postgres.js';
import { makeServerDir, removeServerDir } from '../helpers/server-process.js';
import { type ReceivedWebhook, type Standin, startWebhookStandin } from '../helpers/standins/webhook.js';

/**
 * A leader paused past its lease (SIGSTOP: a frozen VM, a stalled disk) wakes up believing it
 * leads. By then another node does: the paused one must send nothing, and say so.
 */

const LEASE_S = 2;

let pg: PgServer;
let dir: string;
let webhook: Standin<ReceivedWebhook>;
let nodes: ClusterNodeProcess[];
let fleet: FleetSender;

beforeAll(async () => {
  pg = await startPostgres();
  dir = makeServerDir('hbd-pause-');
  webhook = await startWebhookStandin();
  nodes = await startCluster({
    dir,
    store: await pg.createDatabase(),
    names: ['a', 'b', 'c'],
    lease: LEASE_S,
    shared: {
      interval: 1,
      grace: 2,
      notify: { group_wait: 0, restart_grace: 0, retry_min: 1, webhook: { url: `${webhook.url}/hooks/hbd` } },
    },
  });
  fleet = new FleetSender({
    count: 10,
    prefix: 'p',
    intervalMs: 1000,
    route: () => nodes.map((n) => n.udpPort),
  });
  fleet.start();
}, 120_000);

afterAll(async () => {
  await fleet?.close();
  for (const node of nodes ?? []) node.serving.process.kill('SIGCONT');
  await Promise.all((nodes ?? []).map((node) => node.kill()));
  await webhook?.close();
  await pg?.destroy();
  if (dir) removeServerDir(dir);
});

it('a leader stopped past its lease and resumed sends nothing once another leads, and logs that it no longer leads', async () => {
  const paused = await leaderOf(nodes);
  await eventually(async () => {
    const { messages } = (await paused.get('/api/outbox?state=pending')) as { messages: unknown[] };
    expect(messages).toEqual([]);
  }, 20_000);
  // The down of p0000 falls due while the leader is frozen: it would announce it on waking.
  fleet.silence(['p0000']);
  paused.serving.process.kill('SIGSTOP');
  const others = nodes.filter((node) => node !== paused);
  const next = await leaderOf(others, 15_000);
  expect(next.name).not.toBe(paused.name);
  await eventually(() => {
    const hosts = webhook.requests.flatMap((request) => request.body.hosts.map((host) => host.name));
    expect(hosts).toContain('p0000');
  }, 20_000);

  paused.serving.process.kill('SIGCONT');
  const line = await paused.serving.waitForLog(
    (entry) => String(entry.msg).includes('no longer leads'),
    15_000,
  );
  expect(line.level).toBe('warn');
  await leaderOf(nodes, 15_000);
  // The woken node heard the fleet all along and knows p0000 is down; the new leader announced it,
  // and nothing the woken node had scheduled went out: each host announced once.
  const counts = new Map<string, number>();
  for (const request of webhook.requests) {
    for (const host of request.body.hosts) counts.set(host.name, (counts.get(host.name) ?? 0) + 1);
  }
  expect(counts.get('p0000')).toBe(1);
  const keys = webhook.requests.map((request) => request.body.dedup_key);
  expect(keys.length).toBe(new Set(keys).size);
  expect(paused.serving.process.exitCode).toBeNull();
}, 120_000);
