/**
 * Finding 4: unsigned datagrams could create hosts without end. 200,000 hosts from 2.2 MB of
 * traffic grew SQLite to 109 MB and RSS to 1.6 GB, with no cap and no key to set one. Now
 * `limits.max_hosts` and `limits.new_hosts_per_minute` hold unsigned traffic back (dropped as
 * `limit`); hosts that exist, and heartbeats signed with a configured key, are never held.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { encodeHeartbeat } from '../../src/protocol/encode.js';
import { eventually, getJson, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

const SECRET = 'a-key-the-operator-configured-0123';

let hbd: TestDaemon | undefined;
afterEach(async () => {
  await hbd?.stop();
  hbd = undefined;
});

async function metric(name: string): Promise<number> {
  const text = await (await fetch(hbd!.url('/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.split(' ')[1]);
}

/** Sends unsigned heartbeats for new hosts `${prefix}0` … and waits until hbd has read them all. */
async function flood(prefix: string, count: number): Promise<void> {
  const daemon = hbd!;
  const before = daemon.daemon.stats.received;
  for (let i = 0; i < count; i++) await daemon.send(`host=${prefix}${i} seq=1`);
  await eventually(() => expect(daemon.daemon.stats.received).toBe(before + count), 10_000);
}

function signed(host: string): Buffer {
  return encodeHeartbeat({ host, ts: Date.now() / 1000 }, { secret: SECRET });
}

async function hostStatus(name: string): Promise<number> {
  return (await fetch(hbd!.url(`/api/hosts/${name}`))).status;
}

describe('finding 4: unsigned traffic cannot grow the host table without end', () => {
  it('stops at limits.max_hosts; the hosts already there keep beating', async () => {
    hbd = await startTestDaemon({ limits: { max_hosts: 50, new_hosts_per_minute: 100_000 } });
    await flood('outsider', 300);

    expect(hbd.daemon.hosts.count).toBe(50);
    expect(hbd.daemon.stats.dropped.limit).toBe(250);
    expect(await metric('hbd_datagrams_dropped_total{reason="limit"}')).toBe(250);
    expect(await hostStatus('outsider49')).toBe(200);
    expect(await hostStatus('outsider50')).toBe(404);
    const warning = hbd.logs.find((line) => line.reason === 'limit');
    expect(warning?.msg).toMatch(/new host "outsider50" refused: 50 hosts known, limits.max_hosts is 50/);

    // An existing host is never held back by the limit.
    const accepted = hbd.daemon.stats.accepted;
    await hbd.send('host=outsider7 seq=2 status=warn');
    await eventually(() => expect(hbd!.daemon.stats.accepted).toBe(accepted + 1));
    const { body } = await getJson<{ status: string }>(hbd.url('/api/hosts/outsider7'));
    expect(body.status).toBe('warn');
  });

  it('on the defaults, a burst of 1,500 new hosts stops at 1,000 (limits.new_hosts_per_minute)', async () => {
    hbd = await startTestDaemon();
    expect(hbd.config.limits.new_hosts_per_minute).toBe(1000);
    await flood('burst', 1500);

    expect(hbd.daemon.hosts.count).toBe(1000);
    expect(hbd.daemon.stats.dropped.limit).toBe(500);
    const warning = hbd.logs.find((line) => line.reason === 'limit');
    expect(warning?.msg).toMatch(/1000 new hosts in the last minute, limits.new_hosts_per_minute is 1000/);
  }, 30_000);

  it('a heartbeat signed with a configured key is held by neither limit', async () => {
    const keys = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`mine${i}`, SECRET]));
    hbd = await startTestDaemon({ keys, limits: { max_hosts: 4, new_hosts_per_minute: 2 } });
    await flood('outsider', 10);
    expect(hbd.daemon.hosts.count).toBe(2);

    for (let i = 0; i < 5; i++) await hbd.send(signed(`mine${i}`));
    await eventually(() => expect(hbd!.daemon.hosts.count).toBe(7));
    expect(hbd.daemon.stats.dropped.limit).toBe(8);
    expect(await hostStatus('mine4')).toBe(200);
  });

  it('the limits change on reload (SIGHUP), without forgetting the minute', async () => {
    hbd = await startTestDaemon({ limits: { max_hosts: 10, new_hosts_per_minute: 5 } });
    await flood('a', 8);
    expect(hbd.daemon.hosts.count).toBe(5);

    const reloaded = (limits: Record<string, number>) =>
      parseConfig(JSON.stringify({ ...rawConfig(hbd!), limits }), {
        sourceName: 'test.yaml',
        baseDir: hbd!.dir,
        env: {},
        home: hbd!.dir,
      }).config;
    // Raising the budget lets exactly the difference through within the same minute.
    hbd.daemon.reload(reloaded({ max_hosts: 10, new_hosts_per_minute: 7 }));
    await flood('b', 5);
    expect(hbd.daemon.hosts.count).toBe(7);
    // Lowering max_hosts below the table's size keeps every host, and adds none.
    hbd.daemon.reload(reloaded({ max_hosts: 3, new_hosts_per_minute: 1000 }));
    await flood('c', 5);
    expect(hbd.daemon.hosts.count).toBe(7);
    expect(await hostStatus('a0')).toBe(200);
  });
});

/** The test daemon's config keys as a YAML document would give them (ports stay 0: reload never rebinds). */
function rawConfig(daemon: TestDaemon): Record<string, unknown> {
  return {
    hb_host: '127.0.0.1',
    hb_port: 0,
    hbd_host: '127.0.0.1',
    hbd_port: 0,
    pickfile: daemon.config.pickfile,
  };
}
