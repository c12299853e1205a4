import { afterAll, beforeAll, expect, it } from 'vitest';
import { runHbd } from '../helpers/cli.js';
import { type ClusterNodeProcess, leaderOf, startCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/eventually.js';
import { type PgServer, startPostgres } from '../helpers/postgres.js';
import { makeServerDir, removeServerDir } from '../helpers/server-process.js';

let pg: PgServer;
let dir: string;
let nodes: ClusterNodeProcess[];

beforeAll(async () => {
  pg = await startPostgres();
  dir = makeServerDir('hbd-cluster-');
  nodes = await startCluster({
    dir,
    store: await pg.createDatabase(),
    names: ['a', 'b', 'c'],
    lease: 2,
    shared: { interval: 1, grace: 3 },
  });
}, 60_000);

afterAll(async () => {
  await Promise.all((nodes ?? []).map((node) => node.kill()));
  await pg?.destroy();
  if (dir) removeServerDir(dir);
});

it('one node leads, and a heartbeat heard by one node shows on every node', async () => {
  const leader = await leaderOf(nodes);
  expect(nodes.map((n) => n.name)).toContain(leader.name);
  const sent = await runHbd(['send', '--server', `127.0.0.1:${nodes[0]!.udpPort}`, '--host', 'web1']);
  expect(sent.code).toBe(0);
  for (const node of nodes) {
    await eventually(async () => {
      const host = (await node.get('/api/hosts/web1')) as { state: string };
      expect(host.state).toBe('up');
    }, 5000);
  }
  const view = (await nodes[1]!.get('/api/cluster')) as { nodes: { name: string; state: string }[] };
  expect(view.nodes.map((n) => [n.name, n.state])).toEqual([
    ['a', 'up'],
    ['b', 'up'],
    ['c', 'up'],
  ]);
}, 60_000);
