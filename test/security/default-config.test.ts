/**
 * Finding 12: on the defaults (`hb_host: ::`, `auth: optional`, no keys) anyone who could reach
 * the UDP port could create hosts and impersonate any host (`status=bye` hiding its real
 * death), and nothing said so. Now unsigned heartbeats are accepted only from
 * `unsigned_networks` (loopback and private ranges by default), and hbd warns once at start
 * when its port is open beyond loopback to unsigned heartbeats.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeHeartbeat } from '../../src/protocol/encode.js';
import { eventually, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

const SECRET = 'the-key-of-web1-0123456789abcdef';

let hbd: TestDaemon | undefined;
afterEach(async () => {
  await hbd?.stop();
  hbd = undefined;
});

function exposureWarnings(daemon: TestDaemon): Record<string, unknown>[] {
  return daemon.logs.filter((line) => String(line.msg).startsWith('heartbeats are accepted unsigned'));
}

/** Sends datagrams and waits until hbd has read them all. */
async function sendAll(datagrams: (string | Buffer)[]): Promise<void> {
  const daemon = hbd!;
  const before = daemon.daemon.stats.received;
  for (const datagram of datagrams) await daemon.send(datagram);
  await eventually(() => expect(daemon.daemon.stats.received).toBe(before + datagrams.length));
}

describe('finding 12: the start-up warning', () => {
  it('listening on 0.0.0.0 without keys: one warning, saying what an outsider can do and how to fix it', async () => {
    hbd = await startTestDaemon({ hb_host: '0.0.0.0' });
    const warnings = exposureWarnings(hbd);
    expect(warnings).toHaveLength(1);
    const [warning] = warnings;
    expect(warning).toMatchObject({ level: 40, udp: `0.0.0.0:${hbd.daemon.udp.port}` });
    const text = String(warning!.msg);
    expect(text).toContain('no keys are configured');
    expect(text).toContain('unsigned_networks (127.0.0.0/8, 10.0.0.0/8');
    expect(text).toMatch(/create hosts \(up to limits.max_hosts/);
    expect(text).toMatch(/status=bye that hides its real death/);
    expect(text).toMatch(/from elsewhere, unsigned heartbeats are dropped/);
    expect(text).toMatch(/`hbd keygen`.*keys:.*auth: required/);
  });

  it.each<[string, Record<string, unknown>]>([
    ['on 127.0.0.1', { hb_host: '127.0.0.1' }],
    ['on 0.0.0.0 with auth: required', { hb_host: '0.0.0.0', auth: 'required', keys: { '*': SECRET } }],
    ['on 0.0.0.0 with keys', { hb_host: '0.0.0.0', keys: { web1: SECRET } }],
    [
      'on 0.0.0.0 with unsigned_networks only loopback',
      { hb_host: '0.0.0.0', unsigned_networks: ['127.0.0.0/8'] },
    ],
  ])('no warning %s', async (_case, config) => {
    hbd = await startTestDaemon(config);
    expect(exposureWarnings(hbd)).toHaveLength(0);
  });

  it('auth: off ignores the keys, so it is warned about even with keys', async () => {
    hbd = await startTestDaemon({ hb_host: '0.0.0.0', auth: 'off', keys: { web1: SECRET } });
    expect(String(exposureWarnings(hbd)[0]?.msg)).toContain('auth is off');
  });
});

describe('finding 12: unsigned heartbeats only from unsigned_networks', () => {
  it('from outside them (here 127.0.0.1, outside 10.0.0.0/8) an unsigned heartbeat creates and moves nothing', async () => {
    hbd = await startTestDaemon({ unsigned_networks: ['10.0.0.0/8'], keys: { web1: SECRET } });
    await sendAll(['host=outsider', 'host=web2 status=bye', 'outsider2']);
    expect(hbd.daemon.stats.dropped.unsigned).toBe(3);
    expect(hbd.daemon.hosts.count).toBe(0);
    const warning = hbd.logs.find((line) => line.reason === 'unsigned');
    expect(warning?.msg).toBe(
      'dropped datagram from 127.0.0.1: unsigned: from 127.0.0.1: a key is required outside unsigned_networks',
    );

    // A heartbeat signed with the host's key is accepted from anywhere.
    await sendAll([encodeHeartbeat({ host: 'web1', ts: Date.now() / 1000 }, { secret: SECRET })]);
    expect(hbd.daemon.hosts.count).toBe(1);
    expect((await fetch(hbd.url('/api/hosts/web1'))).status).toBe(200);
  });

  it('auth: off does not open hbd to the world: unsigned_networks still applies', async () => {
    hbd = await startTestDaemon({ auth: 'off', unsigned_networks: ['10.0.0.0/8'] });
    await sendAll(['host=outsider']);
    expect(hbd.daemon.stats.dropped.unsigned).toBe(1);
    expect(hbd.daemon.hosts.count).toBe(0);
  });

  it('on a dual-stack socket (::) an IPv4 source is matched against the IPv4 networks', async () => {
    hbd = await startTestDaemon({ hb_host: '::', unsigned_networks: ['10.0.0.0/8'] });
    await sendAll(['host=outsider']);
    expect(hbd.daemon.stats.dropped.unsigned).toBe(1);
    await hbd.stop();

    hbd = await startTestDaemon({ hb_host: '::' });
    await sendAll(['host=insider']);
    expect(hbd.daemon.stats.accepted).toBe(1);
    const host = (await (await fetch(hbd.url('/api/hosts/insider'))).json()) as { addr: string };
    expect(host.addr).toBe('127.0.0.1');
  });
});
