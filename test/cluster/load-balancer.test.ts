import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ClusterNodeProcess, leaderOf, useTestCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/eventually.js';
import { UdpBalancer } from '../helpers/udp-balancer.js';

/**
 * The other topology: hosts send to one address, a UDP load balancer spreads them over the
 * nodes, so each node hears a part of the fleet and learns the rest from the others. Losing a
 * node (a follower, then the leader) moves its hosts elsewhere and declares none of them down.
 */

const FLEET = 300;

const cluster = useTestCluster({ name: 'balanced', fleet: { count: FLEET, prefix: 'lb' } });
let balancer: UdpBalancer;

beforeAll(async () => {
  balancer = new UdpBalancer(cluster.nodes.map((node) => node.udpPort));
  await balancer.start();
  cluster.fleet.reroute(() => [balancer.port]);
});

afterAll(async () => {
  await balancer?.close();
});

async function accepted(node: ClusterNodeProcess): Promise<number> {
  return Number(/^hbd_heartbeats_accepted_total (\S+)/m.exec(await node.metrics())?.[1] ?? 0);
}

/** The newest event's id, so a test reads only the events stored after it. */
async function lastEventId(): Promise<number> {
  const { rows } = await cluster.pg.query<{ id: string | null }>(
    cluster.store,
    'SELECT max(id) AS id FROM events',
  );
  return Number(rows[0]?.id ?? 0);
}

/** Fleet hosts' state changes stored after event `since`, as `host state`. */
async function fleetChangesSince(since: number): Promise<string[]> {
  const { rows } = await cluster.pg.query<{ host: string; to: string }>(
    cluster.store,
    `SELECT host, to_value AS "to" FROM events
      WHERE kind = 'state' AND id > $1 AND host LIKE 'lb%' AND to_value IN ('late', 'down') ORDER BY id`,
    [since],
  );
  return rows.map((row) => `${row.host} ${row.to}`);
}

it('each node hears a part of the fleet and shows all of it', async () => {
  for (const node of cluster.nodes) {
    // From the per-host series: the host list is rationed per client, the scrape is not.
    await eventually(
      async () =>
        expect((await node.metrics()).match(/^hbd_host_up\{host="lb\d+"\} 1$/gm)).toHaveLength(FLEET),
      20_000,
    );
  }
  const before = await Promise.all(cluster.nodes.map(accepted));
  await eventually(async () => {
    const heard = (await Promise.all(cluster.nodes.map(accepted))).map((count, i) => count - before[i]!);
    const total = heard.reduce((sum, n) => sum + n, 0);
    expect(total).toBeGreaterThanOrEqual(FLEET);
    for (const count of heard) {
      expect(count).toBeGreaterThan(0);
      expect(count).toBeLessThan(total);
    }
  }, 10_000);
}, 60_000);

it.each(['a follower', 'the leader'])(
  'losing %s moves its hosts to the others and declares none of them down',
  async (which) => {
    const since = await lastEventId();
    const running = cluster.running();
    const leader = await leaderOf(running);
    const victim = which === 'the leader' ? leader : running.find((node) => node !== leader)!;
    const victimsHosts = cluster.fleet.hosts.filter((host) => balancer.routeOf(host) === victim.udpPort);
    expect(victimsHosts.length).toBeGreaterThan(0);
    await victim.kill();
    balancer.markDown(victim.udpPort);
    const next = await leaderOf(cluster.running(), 15_000);
    // Long enough for any of its hosts to have gone down: the dead node's own host does.
    await eventually(async () => {
      const events = (await next.get(`/api/events?host=hbd-node-${victim.name}`)) as { to: string | null }[];
      expect(events[0]?.to).toBe('down');
    }, 30_000);
    const changes = await fleetChangesSince(since);
    // No host is down. The heartbeats the dying node had not shared yet died with it, so its
    // own hosts may have been late for a moment (docs/cluster.md); no other host was.
    expect(changes.filter((change) => change.endsWith(' down'))).toEqual([]);
    const lateElsewhere = changes.filter((change) => !victimsHosts.includes(change.split(' ')[0]!));
    expect(lateElsewhere).toEqual([]);
    await eventually(async () => {
      const hosts = (await next.get('/api/hosts')) as { name: string; state: string }[];
      const notUp = hosts.filter((host) => host.name.startsWith('lb') && host.state !== 'up');
      expect(notUp).toEqual([]);
    }, 10_000);
    await victim.restart();
    balancer.markUp(victim.udpPort);
  },
  90_000,
);
