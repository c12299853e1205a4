import dgram from 'node:dgram';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { encodeHeartbeat } from '../../src/protocol/encode.js';
import { type ClusterNodeProcess, leaderOf, useTestCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/eventually.js';
import { type NamedServer, startNamed } from '../helpers/named.js';

/**
 * Only the leader updates DNS, against a real BIND: a new leader converges on every host's
 * newest address, and a leader paused past its lease sends no update once resumed.
 */

const SECRET = 'the-key-of-web1-0123456789abcdefgh';
const NAME = 'web1.dyn.example.test';

let named: NamedServer;
beforeAll(async () => {
  named = await startNamed();
});
afterAll(async () => {
  await named?.stop();
});

const cluster = useTestCluster({
  name: 'dns',
  settings: () => ({
    keys: { web1: SECRET },
    dyndomains: ['dyn.example.test'],
    dns: {
      method: 'rfc2136',
      server: named.host,
      port: named.port,
      tsig_name: named.tsig.name,
      tsig_secret: named.tsig.secret,
      tsig_algorithm: named.tsig.algorithm,
      retry_max: 1,
    },
  }),
});

let ts = Math.floor(Date.now() / 1000);

/** web1 reports a new address, signed with a fresh `ts`, to the nodes given. */
async function web1At(ip4: string, nodes: readonly ClusterNodeProcess[]): Promise<void> {
  const datagram = encodeHeartbeat({ host: 'web1', ts: ++ts, every: 60, ip4 }, { secret: SECRET });
  const socket = dgram.createSocket('udp4');
  for (const node of nodes) {
    await new Promise<void>((resolve, reject) =>
      socket.send(datagram, node.udpPort, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
    );
  }
  socket.close();
}

async function dnsUpdatesSent(node: ClusterNodeProcess): Promise<number> {
  const text = await node.metrics();
  return Number(/^hbd_dns_updates_total\{outcome="ok"\} (\S+)/m.exec(text)?.[1] ?? 0);
}

it('the leader publishes a new address, every node shows it; after the leader is killed, the next one publishes the newest', async () => {
  await web1At('198.51.100.7', cluster.nodes);
  await eventually(async () => expect(await named.dig(NAME, 'A')).toEqual(['198.51.100.7']), 10_000);
  // Every node shows what the leader published, followers too.
  for (const node of cluster.nodes) {
    await eventually(async () => {
      const host = (await node.get('/api/hosts/web1')) as { dns: { published: { A: string | null } } | null };
      expect(host.dns?.published.A).toBe('198.51.100.7');
    }, 5000);
  }

  const leader = await leaderOf(cluster.running());
  await leader.kill();
  // Heard while no node leads: nobody may publish it yet, and the next leader must.
  const survivors = cluster.running();
  await web1At('198.51.100.8', survivors);
  const next = await leaderOf(survivors, 15_000);
  await eventually(async () => expect(await named.dig(NAME, 'A')).toEqual(['198.51.100.8']), 10_000);
  expect(await dnsUpdatesSent(next)).toBeGreaterThan(0);
  await leader.restart();
}, 60_000);

it('a leader paused past its lease and resumed publishes nothing: the new leader does', async () => {
  const paused = await leaderOf(cluster.running());
  const sentBefore = await dnsUpdatesSent(paused);
  const linesBefore = paused.serving.logs.length;
  paused.serving.process.kill('SIGSTOP');
  try {
    // Waiting in its socket: the first thing it reads as it wakes, believing it still leads.
    await web1At('198.51.100.9', [paused]);
    await leaderOf(
      cluster.running().filter((node) => node !== paused),
      15_000,
    );
  } finally {
    paused.serving.process.kill('SIGCONT');
  }
  await paused.serving.waitForLog(
    (line) =>
      paused.serving.logs.indexOf(line) >= linesBefore && String(line.msg).includes('no longer leads'),
    10_000,
  );
  // It shares what it heard; the new leader publishes it.
  await eventually(async () => expect(await named.dig(NAME, 'A')).toEqual(['198.51.100.9']), 10_000);
  expect(await dnsUpdatesSent(paused)).toBe(sentBefore);
}, 60_000);
