import dgram from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/passwords.js';
import { encodeHeartbeat } from '../../src/protocol/encode.js';
import { runHbd } from '../helpers/cli.js';
import { API_TOKEN, type ClusterNodeProcess, leaderOf, useTestCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/eventually.js';
import { parseExposition } from '../prometheus/exposition.js';
import { findPromtool, PROMTOOL_MISSING, promtool } from '../prometheus/promtool.js';

/** What every node shares through the database: logins, silences, replay protection, the view of the fleet. */

const SECRET = 'the-key-of-signed1-0123456789abcdef';
const PASSWORD = 'correct horse battery staple';

const cluster = useTestCluster({
  name: 'shared',
  settings: {
    keys: { signed1: SECRET },
    auth_users: { ops: { password: await hashPassword(PASSWORD), role: 'admin' } },
  },
  webhook: true,
  fleet: { count: 20, prefix: 'w' },
});

const follower = async () => {
  const leader = await leaderOf(cluster.nodes);
  return cluster.nodes.find((node) => node !== leader)!;
};

async function metric(node: ClusterNodeProcess, series: string): Promise<number> {
  const text = await node.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

function sendTo(port: number, datagram: Buffer): Promise<void> {
  const socket = dgram.createSocket('udp4');
  return new Promise((resolve, reject) =>
    socket.send(datagram, port, '127.0.0.1', (error) => {
      socket.close();
      if (error) reject(error);
      else resolve();
    }),
  );
}

describe('logins', () => {
  it('a session made on one node works on another, and a logout on that one ends it everywhere', async () => {
    const [a, b] = cluster.nodes;
    const login = await fetch(`${a!.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'ops', password: PASSWORD }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const sessionOn = async (node: ClusterNodeProcess) =>
      (
        (await (await fetch(`${node.url}/api/session`, { headers: { cookie } })).json()) as {
          user: string | null;
        }
      ).user;
    expect(await sessionOn(b!)).toBe('ops');
    const { csrf } = (await (await fetch(`${b!.url}/api/session`, { headers: { cookie } })).json()) as {
      csrf: string;
    };
    const logout = await fetch(`${b!.url}/api/logout`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrf },
    });
    expect(logout.status).toBeLessThan(300);
    expect(await sessionOn(a!)).toBeNull();
  });
});

describe('silences', () => {
  it('a silence added on a follower holds on the leader at once: its host goes down unannounced', async () => {
    const node = await follower();
    const added = await fetch(`${node.url}/api/silences`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ pattern: 'w0001', duration: '1h', reason: 'maintenance' }),
    });
    expect(added.status).toBe(201);
    for (const other of cluster.nodes) {
      await eventually(async () => {
        const { silences } = (await other.get('/api/silences')) as { silences: { pattern: string }[] };
        expect(silences.map((silence) => silence.pattern)).toContain('w0001');
      }, 1000);
    }
    // w0000 is the control: it goes down with w0001, and only it is announced.
    cluster.fleet.silence(['w0000', 'w0001']);
    await eventually(() => {
      const hosts = cluster.webhook.requests.flatMap((request) =>
        request.body.hosts.map((host) => host.name),
      );
      expect(hosts).toContain('w0000');
    }, 20_000);
    const leader = await leaderOf(cluster.nodes);
    await eventually(async () => {
      const events = (await leader.get('/api/events?host=w0001')) as { to: string | null }[];
      expect(events.map((event) => event.to)).toContain('down');
    }, 10_000);
    const hosts = cluster.webhook.requests.flatMap((request) => request.body.hosts.map((host) => host.name));
    expect(hosts).not.toContain('w0001');
  }, 60_000);
});

describe('replay protection', () => {
  it('a signed heartbeat accepted by one node is refused when replayed to another, and after that node restarts', async () => {
    const [a, b] = cluster.nodes;
    const datagram = encodeHeartbeat({ host: 'signed1', ts: Date.now() / 1000, seq: 1 }, { secret: SECRET });
    await sendTo(a!.udpPort, datagram);
    await eventually(async () => {
      const host = (await b!.get('/api/hosts/signed1')) as { signed: boolean };
      expect(host.signed).toBe(true);
    }, 2000);
    const replays = await metric(b!, 'hbd_datagrams_dropped_total{reason="replay"}');
    await sendTo(b!.udpPort, datagram);
    await eventually(
      async () => expect(await metric(b!, 'hbd_datagrams_dropped_total{reason="replay"}')).toBe(replays + 1),
      2000,
    );

    expect(await b!.stop()).toBe(0);
    await b!.restart();
    await sendTo(b!.udpPort, datagram);
    await eventually(
      async () => expect(await metric(b!, 'hbd_datagrams_dropped_total{reason="replay"}')).toBe(1),
      2000,
    );
  }, 60_000);
});

describe('a follower restarted', () => {
  it('comes back with the whole fleet and no false alarm, and the cluster sees three nodes up', async () => {
    const node = await follower();
    expect(await node.stop()).toBe(0);
    // A clean stop is a bye: the node's host leaves, and nobody is paged.
    const leader = await leaderOf(cluster.nodes.filter((other) => other !== node));
    await eventually(async () => {
      const events = (await leader.get(`/api/events?host=hbd-node-${node.name}`)) as { to: string | null }[];
      expect(events[0]?.to).toBe('left');
    }, 10_000);
    await node.restart();
    await eventually(async () => {
      const view = (await node.get('/api/cluster')) as { nodes: { state: string }[] };
      expect(view.nodes.map((row) => row.state)).toEqual(['up', 'up', 'up']);
    }, 10_000);
    for (const host of cluster.fleet.beating) {
      const detail = (await node.get(`/api/hosts/${host}`)) as { state: string };
      expect(detail.state).toBe('up');
    }
    for (const host of cluster.fleet.beating) {
      const events = (await leader.get(`/api/events?host=${host}`)) as { to: string | null }[];
      expect(events.map((event) => event.to)).toEqual(['up']);
    }
  }, 60_000);
});

describe('node names', () => {
  it("a second process with a running node's name refuses to start, and says why", async () => {
    const [a] = cluster.nodes;
    const twin = join(cluster.dir, 'twin.yaml');
    const config = readFileSync(a!.configPath, 'utf8')
      .replace(/^hb_port: .*$/m, 'hb_port: 0')
      .replace(/^hbd_port: .*$/m, 'hbd_port: 0');
    writeFileSync(twin, config, { mode: 0o600 });
    const result = await runHbd(['serve', '-c', twin]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('another hbd node named \\"a\\" is running');
  }, 30_000);
});

describe('metrics', () => {
  it('every node says whether it leads, how many nodes are up, and how fast heartbeats travel', async () => {
    let leaders = 0;
    for (const node of cluster.nodes) {
      leaders += await metric(node, 'hbd_cluster_leader');
      // As of the node's last read of the others' rows, a second ago at most.
      await eventually(async () => expect(await metric(node, 'hbd_cluster_nodes{state="up"}')).toBe(3), 5000);
      await eventually(
        async () =>
          expect(await metric(node, 'hbd_cluster_propagation_lag_seconds_count')).toBeGreaterThan(0),
        5000,
      );
    }
    expect(leaders).toBe(1);
  }, 30_000);

  it("a cluster node's scrape checks clean with promtool, and its cluster series are documented", async () => {
    const promtoolPath = findPromtool();
    if (!promtoolPath) throw new Error(PROMTOOL_MISSING);
    const scrape = await cluster.nodes[0]!.metrics();
    expect(await promtool(promtoolPath, ['check', 'metrics'], { input: scrape })).toEqual({
      code: 0,
      output: '',
    });
    const doc = readFileSync(fileURLToPath(new URL('../../docs/prometheus.md', import.meta.url)), 'utf8');
    const names = new Set(
      parseExposition(scrape)
        .map((sample) => sample.name.replace(/_(bucket|sum|count)$/, ''))
        .filter((name) => name.startsWith('hbd_cluster_')),
    );
    expect([...names].sort()).toEqual([
      'hbd_cluster_leader',
      'hbd_cluster_nodes',
      'hbd_cluster_propagation_lag_seconds',
    ]);
    expect([...names].filter((name) => !doc.includes(`| \`${name}`))).toEqual([]);
  });
});

describe('a node retired', () => {
  it('forgetting its host on any node removes it from the fleet and from the cluster, everywhere', async () => {
    const retired = await follower();
    await retired.kill();
    const running = cluster.running();
    const leader = await leaderOf(running);
    await eventually(async () => {
      const events = (await leader.get(`/api/events?host=hbd-node-${retired.name}`)) as {
        to: string | null;
      }[];
      expect(events[0]?.to).toBe('down');
    }, 20_000);
    const asked = running.find((node) => node !== leader)!;
    const result = await runHbd([
      'forget',
      `hbd-node-${retired.name}`,
      '--url',
      asked.url,
      '--token',
      API_TOKEN,
    ]);
    expect(result).toMatchObject({ code: 0, stdout: `forgot hbd-node-${retired.name}\n` });
    for (const node of running) {
      await eventually(async () => {
        const view = (await node.get('/api/cluster')) as { nodes: { name: string; state: string }[] };
        expect(view.nodes.map((row) => `${row.name} ${row.state}`)).toEqual(
          running.map((other) => `${other.name} up`).sort(),
        );
        const hosts = (await node.get('/api/hosts')) as { name: string }[];
        expect(hosts.map((host) => host.name)).not.toContain(`hbd-node-${retired.name}`);
      }, 10_000);
    }
  }, 60_000);
});
