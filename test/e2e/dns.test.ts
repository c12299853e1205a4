import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeHeartbeat } from '../../src/protocol/encode.js';
import { runHbd } from '../helpers/cli.js';
import { eventually, getJson, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type NamedServer, nsupdate, startNamed } from '../helpers/named.js';

const SECRET = 'the-key-of-web1-and-web3-0123456789';
const NAME = 'web1.dyn.example.test';

interface HostDns {
  dns: {
    name: string;
    published: { A: string | null; AAAA: string | null };
    last_error: string | null;
  } | null;
}

let named: NamedServer;
beforeAll(async () => {
  named = await startNamed();
});
afterAll(async () => {
  await named?.stop();
});

let hbd: TestDaemon | undefined;
afterEach(async () => {
  await hbd?.stop();
  hbd = undefined;
});

let clock = Math.floor(Date.now() / 1000);
/** A signed heartbeat with a fresh ts each time (replay protection wants them increasing). */
const signed = (host: string, fields: { ip4?: string; ip6?: string }) =>
  encodeHeartbeat({ host, ts: ++clock, ...fields }, { secret: SECRET });

async function metric(name: string): Promise<number> {
  const text = await (await fetch(hbd!.url('/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

describe.each(['rfc2136', 'nsupdate'] as const)('dynamic DNS with the %s method', (method) => {
  const start = (dns: Record<string, unknown> = {}, top: Record<string, unknown> = {}) =>
    startTestDaemon({
      ...top,
      keys: { web1: SECRET, web3: SECRET },
      dyndomains: ['dyn.example.test'],
      dns: {
        method,
        server: named.host,
        port: named.port,
        tsig_name: named.tsig.name,
        tsig_secret: named.tsig.secret,
        tsig_algorithm: named.tsig.algorithm,
        retry_max: 1,
        ...dns,
      },
    });

  it('a signed heartbeat with a new address is in DNS within a second, and a change follows it', async () => {
    hbd = await start();
    const sent = Date.now();
    await hbd.send(signed('web1', { ip4: '198.51.100.7', ip6: '2001:db8::7' }));
    await eventually(async () => expect(await named.dig(NAME, 'A')).toEqual(['198.51.100.7']), 1000);
    expect(Date.now() - sent).toBeLessThan(1000);
    await eventually(async () => expect(await named.dig(NAME, 'AAAA')).toEqual(['2001:db8::7']), 1000);

    await hbd.send(signed('web1', { ip4: '198.51.100.8' }));
    await eventually(async () => expect(await named.dig(NAME, 'A')).toEqual(['198.51.100.8']), 1000);
    expect(await named.dig(NAME, 'AAAA')).toEqual(['2001:db8::7']);

    const { body } = await getJson<HostDns>(hbd.url('/api/hosts/web1'));
    expect(body.dns).toMatchObject({
      name: NAME,
      published: { A: '198.51.100.8', AAAA: '2001:db8::7' },
      last_error: null,
    });
    expect(await metric('hbd_dns_updates_total{outcome="ok"}')).toBe(2);
  });

  it('nothing else moves the record: unsigned, replayed, loopback and private addresses are not published', async () => {
    hbd = await start();
    const original = signed('web3', { ip4: '198.51.100.30' });
    await hbd.send(original);
    await eventually(async () =>
      expect(await named.dig('web3.dyn.example.test', 'A')).toEqual(['198.51.100.30']),
    );
    await hbd.send(original); // replayed: dropped before it reaches DNS
    await hbd.send('host=web2 ip4=198.51.100.66'); // unsigned
    await hbd.send(signed('web3', { ip4: '10.0.0.3' })); // private
    await hbd.send(signed('web3', { ip4: '127.0.0.1' })); // loopback
    await eventually(async () => expect(await metric('hbd_heartbeats_accepted_total')).toBe(4));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await named.dig('web3.dyn.example.test', 'A')).toEqual(['198.51.100.30']);
    expect(await named.dig('web2.dyn.example.test', 'A')).toEqual([]);
    expect(await metric('hbd_dns_updates_total{outcome="ok"}')).toBe(1);
  });

  it('a DNS server that is down and comes back ends with the newest address; the failure is reported', async () => {
    hbd = await start();
    await named.halt();
    try {
      await hbd.send(signed('web1', { ip4: '198.51.100.20' }));
      await hbd.send(signed('web1', { ip4: '198.51.100.21' }));
      await eventually(async () => {
        const { body } = await getJson<HostDns>(hbd!.url('/api/hosts/web1'));
        expect(body.dns?.last_error).toBeTruthy();
      }, 8000);
      expect(await metric('hbd_dns_updates_total{outcome="error"}')).toBeGreaterThan(0);
    } finally {
      await named.restart();
    }
    // An nsupdate run caught by the outage waits out its own UDP retry (3 s) before it resends.
    await eventually(async () => expect(await named.dig(NAME, 'A')).toEqual(['198.51.100.21']), 15_000);
    const { body } = await getJson<HostDns>(hbd.url('/api/hosts/web1'));
    expect(body.dns?.last_error).toBeNull();
  });

  it('a key the server refuses gives a clear error in the API, is retried, and crashes nothing', async () => {
    hbd = await start({ tsig_name: named.wrongTsig.name, tsig_secret: named.wrongTsig.secret });
    await hbd.send(signed('web1', { ip4: '198.51.100.70' }));
    await eventually(async () => {
      const { body } = await getJson<HostDns>(hbd!.url('/api/hosts/web1'));
      expect(body.dns?.last_error).toMatch(/REFUSED/);
    }, 5000);
    await eventually(
      async () => expect(await metric('hbd_dns_updates_total{outcome="error"}')).toBeGreaterThan(1),
      5000,
    );
    expect(await named.dig(NAME, 'A')).not.toContain('198.51.100.70');
    const events = await getJson<{ kind: string; reason: string }[]>(hbd.url('/api/events?host=web1'));
    expect(events.body.filter((e) => e.kind === 'dns')).toHaveLength(1);
  });

  it('a restart of hbd re-sends nothing that is already published', async () => {
    hbd = await start();
    await hbd.send(signed('web1', { ip4: '198.51.100.40' }));
    await eventually(async () => expect(await named.dig(NAME, 'A')).toEqual(['198.51.100.40']));
    await hbd.restart();
    await hbd.send(signed('web1', { ip4: '198.51.100.40' }));
    await eventually(async () => expect(await metric('hbd_heartbeats_accepted_total')).toBe(1));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await metric('hbd_dns_updates_total{outcome="ok"}')).toBe(0);
    const { body } = await getJson<HostDns>(hbd.url('/api/hosts/web1'));
    expect(body.dns?.published.A).toBe('198.51.100.40');
  });

  it("`hbd dns sync` puts back a record removed behind hbd's back; the token is required", async () => {
    hbd = await start({}, { api_token: 'a-token-for-the-dns-sync-test' });
    await hbd.send(signed('web1', { ip4: '198.51.100.60' }));
    await eventually(async () => expect(await named.dig(NAME, 'A')).toEqual(['198.51.100.60']));
    const removed = await nsupdate(named.keyFile, [
      `server 127.0.0.1 ${named.port}`,
      'zone dyn.example.test',
      `update delete ${NAME} A`,
    ]);
    expect(removed.code).toBe(0);
    expect(await named.dig(NAME, 'A')).toEqual([]);

    const refused = await runHbd(['dns', 'sync', 'web1', '--url', hbd.daemon.http.url, '--token', 'wrong']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('401');
    const synced = await runHbd([
      'dns',
      'sync',
      'web1',
      '--url',
      hbd.daemon.http.url,
      '--token',
      'a-token-for-the-dns-sync-test',
    ]);
    expect(synced.stdout).toBe('queued 1 host(s) for a DNS update\n');
    await eventually(async () => expect(await named.dig(NAME, 'A')).toEqual(['198.51.100.60']));
  });

  it('on_down: delete removes the records of a host that went down', async () => {
    hbd = await start({ on_down: 'delete' }, { grace: 0.3 });
    await hbd.send(
      encodeHeartbeat({ host: 'web1', ts: ++clock, every: 0.3, ip4: '198.51.100.50' }, { secret: SECRET }),
    );
    await eventually(async () => expect(await named.dig(NAME, 'A')).toEqual(['198.51.100.50']));
    await eventually(async () => expect(await named.dig(NAME, 'A')).toEqual([]), 8000);
  });
});
