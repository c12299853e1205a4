import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NamedServer, nsupdate, startNamed } from '../helpers/named.js';

// These tests prove the harness that the DNS publishing tests stand on. They never skip: without BIND,
// startNamed() throws a message that says how to install it, and every test here fails with it.
// (Vitest reports the tests after a failed beforeAll as skipped, so the tests await the start instead.)

const ZONE = 'dyn.example.test';

function addA(server: NamedServer, keyFile: string, name: string, address: string) {
  return nsupdate(keyFile, [
    `server ${server.host} ${server.port}`,
    `zone ${ZONE}`,
    `update add ${name} 60 A ${address}`,
    'send',
  ]);
}

describe('a real named for tests', () => {
  let starting: Promise<NamedServer>;
  beforeAll(() => {
    starting = startNamed();
    // Each test reports the failure; this only keeps it from counting as unhandled.
    starting.catch(() => {});
  });
  afterAll(async () => {
    await (await starting.catch(() => undefined))?.stop();
  });

  it('serves the zone SOA', async () => {
    const server = await starting;
    const [soa] = await server.dig(ZONE, 'SOA');
    expect(soa).toMatch(/^ns1\.dyn\.example\.test\. hostmaster\.dyn\.example\.test\. 1 /);
    expect(await server.dig(`ns1.${ZONE}`, 'A')).toEqual(['127.0.0.1']);
    expect(server.tsig).toMatchObject({ name: 'hbd-update', algorithm: 'hmac-sha256' });
    expect(Buffer.from(server.tsig.secret, 'base64')).toHaveLength(32);
  });

  it('applies an update signed with its key', async () => {
    const server = await starting;
    const result = await addA(server, server.keyFile, `web1.${ZONE}`, '192.0.2.10');
    expect(result, result.stderr).toMatchObject({ code: 0 });
    expect(await server.dig(`web1.${ZONE}`, 'A')).toEqual(['192.0.2.10']);
  });

  it('refuses an update signed with a valid key that may not update', async () => {
    const server = await starting;
    const result = await addA(server, server.wrongKeyFile, `web2.${ZONE}`, '192.0.2.11');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('REFUSED');
    expect(await server.dig(`web2.${ZONE}`, 'A')).toEqual([]);
  });

  it('keeps updates across restart(), on the same port', async () => {
    const server = await starting;
    const port = server.port;
    await server.restart();
    expect(server.port).toBe(port);
    expect(await server.dig(`web1.${ZONE}`, 'A')).toEqual(['192.0.2.10']);
    // Still writable after the restart, not merely serving the replayed journal.
    const result = await addA(server, server.keyFile, `web3.${ZONE}`, '192.0.2.12');
    expect(result, result.stderr).toMatchObject({ code: 0 });
    expect(await server.dig(`web3.${ZONE}`, 'A')).toEqual(['192.0.2.12']);
  });
});

describe('several named at once', () => {
  it('run side by side on different ports with their own zones and keys, and clean up', async () => {
    const [a, b] = await Promise.all([
      startNamed(),
      startNamed({ zones: ['one.example.test', 'two.example.test'], tsigAlgorithm: 'hmac-sha512' }),
    ]);
    try {
      expect(a.port).not.toBe(b.port);
      expect(b.tsig.algorithm).toBe('hmac-sha512');
      expect(await b.dig('two.example.test', 'SOA')).toHaveLength(1);
      // Each answers only for its own zones.
      expect(await a.dig('one.example.test', 'SOA')).toEqual([]);

      expect((await addA(a, a.keyFile, `only-a.${ZONE}`, '192.0.2.20')).code).toBe(0);
      expect(await a.dig(`only-a.${ZONE}`, 'A')).toEqual(['192.0.2.20']);
      // Keys are per server: a's key means nothing to b.
      const crossed = await nsupdate(a.keyFile, [
        `server ${b.host} ${b.port}`,
        'zone one.example.test',
        'update add x.one.example.test 60 A 192.0.2.21',
      ]);
      expect(crossed.code).not.toBe(0);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    expect(existsSync(a.dir)).toBe(false);
    expect(existsSync(b.dir)).toBe(false);
    await expect(a.dig(`only-a.${ZONE}`, 'A')).rejects.toThrow(/failed/);
  });
});
