import { afterAll, beforeAll, expect, it } from 'vitest';
import { API_TOKEN, type ClusterNodeProcess, leaderOf, startCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/eventually.js';
import { FleetSender } from '../helpers/fleet-sender.js';
import { type PgServer, startPostgres } from '../helpers/postgres.js';
import { makeServerDir, removeServerDir } from '../helpers/server-process.js';
import { UdpBalancer } from '../helpers/udp-balancer.js';

/**
 * The other topology: hosts send to one address, a UDP load balancer spreads them over the
 * nodes, so each node hears a part of the fleet and learns the rest from the others. Losing a
 * node (a follower, then the leader) moves its hosts elsewhere and declares none of them down.
 */

const FLEET = 300;

let pg: PgServer;
let dir: string;
let nodes: ClusterNodeProcess[];
let balancer: UdpBalancer;
let fleet: FleetSender;
let store: string;

beforeAll(async () => {
  pg = await startPostgres();
  dir = makeServerDir('hbd-balanced-');
  store = await pg.createDatabase();
  nodes = await startCluster({
    dir,
    store,
    names: ['a', 'b', 'c'],
    lease: 2,
    shared: { interval: 1, grace: 3 },
  });
  balancer = new UdpBalancer(nodes.map((node) => node.udpPort));
  await balancer.start();
  fleet = new FleetSender({ count: FLEET, prefix: 'lb', intervalMs: 1000, route: () => [balancer.port] });
  fleet.start();
}, 120_000);

afterAll(async () => {
  await fleet?.close();
  await balancer?.close();
  await Promise.all((nodes ?? []).map((node) => node.kill()));
  await pg?.destroy();
  if (dir) removeServerDir(dir);
});

async function metrics(node: ClusterNodeProcess): Promise<string> {
  return (await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).text();
}

async function accepted(node: ClusterNodeProcess): Promise<number> {
  return Number(/^hbd_heartbeats_accepted_total (\S+)/m.exec(await metrics(node))?.[1] ?? 0);
}

/** Fleet hosts the leaders declared late or down, from the database. */
async function falseAlarms(): Promise<string[]> {
  const { rows } = await pg.query<{ host: string; to: string }>(
    store,
    `SELECT host, to_value AS "to" FROM events WHERE kind = 'state' AND to_value IN ('late', 'down') AND host LIKE 'lb%'`,
  );
  return rows.map((row) => `${row.host} ${row.to}`);
}

it('each node hears a part of the fleet and shows all of it', async () => {
  for (const node of nodes) {
    // From the per-host series: the host list is rationed per client, the scrape is not.
    await eventually(
      async () =>
        expect((await metrics(node)).match(/^hbd_host_up\{host="lb\d+"\} 1$/gm)).toHaveLength(FLEET),
      20_000,
    );
  }
  const heard = await Promise.all(nodes.map(accepted));
  const total = heard.reduce((sum, n) => sum + n, 0);
  for (const count of heard) {
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThan(total);
  }
}, 60_000);

it.each(['a follower', 'the leader'])(
  'losing %s moves its hosts to the others and declares none of them down',
  async (which) => {
    const leader = await leaderOf(nodes.filter((node) => node.serving.process.exitCode === null));
    const victim =
      which === 'the leader'
        ? leader
        : nodes.find((node) => node !== leader && node.serving.process.exitCode === null)!;
    await victim.kill();
    balancer.markDown(victim.udpPort);
    const survivors = nodes.filter(
      (node) =>
        node !== victim && node.serving.process.exitCode === null && node.serving.process.signalCode === null,
    );
    const next = await leaderOf(survivors, 15_000);
    // Long enough for any of its hosts to have gone down: the dead node's own host does.
    await eventually(async () => {
      const events = (await next.get(`/api/events?host=hbd-node-${victim.name}`)) as { to: string | null }[];
      expect(events[0]?.to).toBe('down');
    }, 30_000);
    expect(await falseAlarms()).toEqual([]);
    await victim.restart();
    balancer.markUp(victim.udpPort);
  },
  90_000,
);
