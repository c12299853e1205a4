import dgram from 'node:dgram';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { classifyNsupdateFailure, createNsupdateUpdater } from '../../src/dns/nsupdate.js';
import type { DnsServer, DnsUpdater, RecordChange, TsigKey } from '../../src/dns/update-types.js';
import { DnsUpdateError } from '../../src/dns/update-types.js';
import { findBindTool, type NamedServer, startNamed } from '../helpers/named.js';

const ZONE = 'dyn.example.test';

function asKey(k: NamedServer['tsig']): TsigKey {
  return { name: k.name, algorithm: k.algorithm as TsigKey['algorithm'], secret: k.secret };
}

async function rejection(p: Promise<unknown>): Promise<DnsUpdateError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(DnsUpdateError);
    return err as DnsUpdateError;
  }
  throw new Error('expected the update to fail');
}

/** A stand-in for nsupdate that logs each call's argv (one arg a line) and then runs the real one. */
interface Spy {
  binary: string;
  /** argv of every call so far, oldest first. */
  calls(): string[][];
  /** Everything the wrapper wrote, to search for leaked secrets. */
  raw(): string;
  dispose(): void;
}

function makeSpy(): Spy {
  const dir = mkdtempSync(join(tmpdir(), 'hbd-nsupdate-spy-'));
  const log = join(dir, 'argv.log');
  const binary = join(dir, 'nsupdate');
  writeFileSync(log, '');
  writeFileSync(
    binary,
    `#!/bin/sh\nprintf 'CALL\\n' >> '${log}'\nfor a in "$@"; do printf '%s\\n' "$a" >> '${log}'; done\n` +
      `exec '${findBindTool('nsupdate')}' "$@"\n`,
  );
  chmodSync(binary, 0o755);
  const raw = () => readFileSync(log, 'utf8');
  return {
    binary,
    raw,
    calls: () =>
      raw()
        .split('CALL\n')
        .slice(1)
        .map((call) => call.split('\n').filter((line) => line !== '')),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function bindUdp(): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve(socket));
  });
}

const a = (name: string, address: string | null, ttl = 60): RecordChange => ({
  name: `${name}.${ZONE}`,
  type: 'A',
  address,
  ttl,
});
const aaaa = (name: string, address: string | null, ttl = 60): RecordChange => ({
  name: `${name}.${ZONE}`,
  type: 'AAAA',
  address,
  ttl,
});

describe('createNsupdateUpdater against a real named', () => {
  let named: NamedServer;
  let server: DnsServer;
  let key: TsigKey;
  let spy: Spy;
  let updater: DnsUpdater;
  const tempDirs: string[] = [];

  beforeAll(async () => {
    named = await startNamed({ zones: [ZONE] });
    server = { host: named.host, port: named.port };
    key = asKey(named.tsig);
    spy = makeSpy();
    updater = createNsupdateUpdater({ binary: spy.binary, server, key, timeoutMs: 10_000 });
  });

  afterAll(async () => {
    spy?.dispose();
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
    await named?.stop();
  });

  const serial = async () => (await named.dig(ZONE, 'SOA'))[0]?.split(' ')[2];

  it('reports its method', () => {
    expect(updater.method).toBe('nsupdate');
  });

  it('adds an A record, with the key on stdin and nothing in argv', async () => {
    const before = spy.calls().length;
    await updater.update({ zone: ZONE, changes: [a('add', '192.0.2.10')] });
    expect(await named.dig(`add.${ZONE}`, 'A')).toEqual(['192.0.2.10']);
    expect(spy.calls().slice(before)).toEqual([[]]);
  });

  it('replaces an A record: the old address is gone', async () => {
    await updater.update({ zone: ZONE, changes: [a('change', '192.0.2.1')] });
    await updater.update({ zone: ZONE, changes: [a('change', '192.0.2.2')] });
    expect(await named.dig(`change.${ZONE}`, 'A')).toEqual(['192.0.2.2']);
  });

  it('adds and replaces AAAA records without touching A', async () => {
    await updater.update({ zone: ZONE, changes: [a('six', '192.0.2.6'), aaaa('six', '2001:db8::6')] });
    expect(await named.dig(`six.${ZONE}`, 'AAAA')).toEqual(['2001:db8::6']);
    await updater.update({ zone: ZONE, changes: [aaaa('six', '2001:DB8::7')] });
    expect(await named.dig(`six.${ZONE}`, 'AAAA')).toEqual(['2001:db8::7']);
    expect(await named.dig(`six.${ZONE}`, 'A')).toEqual(['192.0.2.6']);
  });

  it('deletes a record type when address is null', async () => {
    await updater.update({ zone: ZONE, changes: [a('gone', '192.0.2.3'), aaaa('gone', '2001:db8::3')] });
    await updater.update({ zone: ZONE, changes: [a('gone', null)] });
    expect(await named.dig(`gone.${ZONE}`, 'A')).toEqual([]);
    expect(await named.dig(`gone.${ZONE}`, 'AAAA')).toEqual(['2001:db8::3']);
    // Deleting what is not there is not an error.
    await updater.update({ zone: ZONE, changes: [a('never-there', null)] });
  });

  it('applies several changes with one nsupdate run; names are case- and dot-insensitive', async () => {
    const before = spy.calls().length;
    await updater.update({
      zone: `${ZONE.toUpperCase()}.`,
      changes: [a('m1', '192.0.2.21'), a('M2', '192.0.2.22'), { ...aaaa('m1', '2001:db8::21'), ttl: 0 }],
    });
    expect(spy.calls().length - before).toBe(1);
    expect(await named.dig(`m1.${ZONE}`, 'A')).toEqual(['192.0.2.21']);
    expect(await named.dig(`m2.${ZONE}`, 'A')).toEqual(['192.0.2.22']);
    expect(await named.dig(`m1.${ZONE}`, 'AAAA')).toEqual(['2001:db8::21']);
  });

  it('an empty change list runs nothing', async () => {
    const before = spy.calls().length;
    await updater.update({ zone: ZONE, changes: [] });
    expect(spy.calls().length).toBe(before);
  });

  it('signs with a key file passed as -k', async () => {
    const viaFile = createNsupdateUpdater({
      binary: spy.binary,
      server,
      key: null,
      keyFile: named.keyFile,
      timeoutMs: 10_000,
    });
    const before = spy.calls().length;
    await viaFile.update({ zone: ZONE, changes: [a('keyfile', '192.0.2.30')] });
    expect(await named.dig(`keyfile.${ZONE}`, 'A')).toEqual(['192.0.2.30']);
    expect(spy.calls().slice(before)).toEqual([['-k', named.keyFile]]);
  });

  it('refuses a missing key file before running nsupdate (which would send unsigned)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hbd-nsupdate-nokey-'));
    tempDirs.push(dir);
    const missing = join(dir, 'missing.key');
    const viaFile = createNsupdateUpdater({ binary: spy.binary, server, key: null, keyFile: missing });
    const before = spy.calls().length;
    const err = await rejection(viaFile.update({ zone: ZONE, changes: [a('nokeyfile', '192.0.2.31')] }));
    expect(err).toMatchObject({ code: 'OTHER', retryable: false });
    expect(err.message).toContain(missing);
    expect(spy.calls().length).toBe(before);
    // A directory is no key file either.
    const dirAsFile = createNsupdateUpdater({ binary: spy.binary, server, key: null, keyFile: dir });
    const err2 = await rejection(dirAsFile.update({ zone: ZONE, changes: [a('nokeyfile', '192.0.2.31')] }));
    expect(err2).toMatchObject({ code: 'OTHER', retryable: false });
    expect(spy.calls().length).toBe(before);
    expect(await named.dig(`nokeyfile.${ZONE}`, 'A')).toEqual([]);
  });

  it('an unsigned update is REFUSED', async () => {
    const unsigned = createNsupdateUpdater({ binary: spy.binary, server, key: null, timeoutMs: 10_000 });
    const err = await rejection(unsigned.update({ zone: ZONE, changes: [a('nokey', '192.0.2.4')] }));
    expect(err).toMatchObject({ code: 'REFUSED', retryable: false });
    expect(err.message).toContain('update failed: REFUSED');
    expect(await named.dig(`nokey.${ZONE}`, 'A')).toEqual([]);
  });

  it('a key named knows but does not allow is REFUSED, by stdin or by key file', async () => {
    const viaStdin = createNsupdateUpdater({ server, key: asKey(named.wrongTsig), timeoutMs: 10_000 });
    const viaFile = createNsupdateUpdater({
      server,
      key: null,
      keyFile: named.wrongKeyFile,
      timeoutMs: 10_000,
    });
    for (const other of [viaStdin, viaFile]) {
      const err = await rejection(other.update({ zone: ZONE, changes: [a('wrongkey', '192.0.2.5')] }));
      expect(err).toMatchObject({ code: 'REFUSED', retryable: false });
    }
    expect(await named.dig(`wrongkey.${ZONE}`, 'A')).toEqual([]);
  });

  it('a wrong secret is BADSIG and changes nothing; the secret is not in the message', async () => {
    const wrongSecret = { ...key, secret: Buffer.alloc(32, 7).toString('base64') };
    const bad = createNsupdateUpdater({ server, key: wrongSecret, timeoutMs: 10_000 });
    const err = await rejection(bad.update({ zone: ZONE, changes: [a('badsig', '192.0.2.8')] }));
    expect(err).toMatchObject({ code: 'BADSIG', retryable: false });
    expect(err.message).toContain('BADSIG');
    expect(err.message).not.toContain(wrongSecret.secret);
    expect(await named.dig(`badsig.${ZONE}`, 'A')).toEqual([]);
  });

  it('an unknown key name is BADKEY', async () => {
    const unknown = createNsupdateUpdater({
      server,
      key: { ...key, name: 'no-such-key' },
      timeoutMs: 10_000,
    });
    const err = await rejection(unknown.update({ zone: ZONE, changes: [a('badkey', '192.0.2.9')] }));
    expect(err).toMatchObject({ code: 'BADKEY', retryable: false });
  });

  it('a zone named does not serve is NOTAUTH', async () => {
    const err = await rejection(
      updater.update({
        zone: 'other.test',
        changes: [{ name: 'x.other.test', type: 'A', address: '192.0.2.1', ttl: 1 }],
      }),
    );
    expect(err).toMatchObject({ code: 'NOTAUTH', retryable: false });
  });

  describe('rejects hostile input before nsupdate runs', () => {
    const ok: RecordChange = { name: `ok.${ZONE}`, type: 'A', address: '192.0.2.1', ttl: 60 };
    const injected = `evil.${ZONE}. 60 A 6.6.6.6`;
    const cases: [string, Partial<RecordChange>][] = [
      ['a name outside the zone', { name: 'www.example.com' }],
      ['a suffix match without a dot', { name: `evil${ZONE}` }],
      ['a label with a space', { name: `evil ${ZONE}` }],
      ['a name with a newline command', { name: `x.${ZONE}\nupdate add ${injected}` }],
      ['a name with a carriage return', { name: `x.${ZONE}\rupdate add ${injected}` }],
      ['a label with a semicolon', { name: `evil;b.${ZONE}` }],
      ['a label with a double quote', { name: `evil"b.${ZONE}` }],
      ['a label with a single quote', { name: `evil'b.${ZONE}` }],
      ['a label with a backslash', { name: `evil\\032.${ZONE}` }],
      ['a label with a NUL', { name: `evil\0.${ZONE}` }],
      ['an empty label', { name: `a..${ZONE}` }],
      ['a non-ASCII label', { name: `é.${ZONE}` }],
      ['a newline command in the address', { address: `192.0.2.1\nupdate add ${injected}` }],
      ['a trailing space in the address', { address: '192.0.2.1 ' }],
      ['a semicolon in the address', { address: '192.0.2.1;' }],
      ['a quoted address', { address: '"192.0.2.1"' }],
      ['a shell injection in the address', { address: '1.2.3.4; rm -rf /' }],
      ['an IPv6 zone id', { type: 'AAAA', address: 'fe80::1%eth0' }],
      ['an IPv4 address in AAAA', { type: 'AAAA', address: '192.0.2.1' }],
      ['an IPv6 address in A', { address: '2001:db8::1' }],
      ['an out-of-range octet', { address: '256.1.1.1' }],
      ['a number address', { address: 3221225985 as unknown as string }],
      ['a negative TTL', { ttl: -1 }],
      ['a fractional TTL', { ttl: 1.5 }],
      ['a TTL over 2^31-1', { ttl: 2 ** 31 }],
      ['a TTL string carrying a command', { ttl: `60 A 6.6.6.6\nsend` as unknown as number }],
      ['another record type', { type: 'MX' as 'A' }],
      ['a record type carrying a command', { type: 'A\nsend' as 'A' }],
    ];
    let serialBefore: string | undefined;
    let callsBefore = 0;

    beforeAll(async () => {
      serialBefore = await serial();
      expect(serialBefore).toMatch(/^\d+$/);
    });
    beforeEach(() => {
      callsBefore = spy.calls().length;
    });

    it.each(cases)('%s', async (_label, override) => {
      const err = await rejection(updater.update({ zone: ZONE, changes: [ok, { ...ok, ...override }] }));
      expect(err).toMatchObject({ code: 'OTHER', retryable: false });
      expect(spy.calls().length).toBe(callsBefore);
    });

    it.each(['', '.', `${ZONE};`, `${ZONE}\nupdate add ${injected}`, `${ZONE} `, `"${ZONE}"`])(
      'zone %j',
      async (bad) => {
        const err = await rejection(updater.update({ zone: bad, changes: [ok] }));
        expect(err).toMatchObject({ code: 'OTHER', retryable: false });
        expect(spy.calls().length).toBe(callsBefore);
      },
    );

    it('left the zone untouched', async () => {
      expect(await serial()).toBe(serialBefore);
      expect(await named.dig(`evil.${ZONE}`, 'A')).toEqual([]);
      expect(await named.dig(`ok.${ZONE}`, 'A')).toEqual([]);
      expect(await named.dig(`x.${ZONE}`, 'A')).toEqual([]);
    });
  });

  it('never puts the secret in any argv', () => {
    expect(spy.calls().length).toBeGreaterThan(5);
    expect(spy.raw()).not.toContain(key.secret);
  });
});

describe('createNsupdateUpdater without a working server', () => {
  const key: TsigKey = {
    name: 'k',
    algorithm: 'hmac-sha256',
    secret: Buffer.alloc(32, 1).toString('base64'),
  };
  const change: RecordChange = { name: `h.${ZONE}`, type: 'A', address: '192.0.2.1', ttl: 60 };

  it('a stopped named is NETWORK, well within the timeout', async () => {
    const named = await startNamed({ zones: [ZONE] });
    const server = { host: named.host, port: named.port };
    const updater = createNsupdateUpdater({ server, key: asKey(named.tsig), timeoutMs: 10_000 });
    await updater.update({ zone: ZONE, changes: [change] });
    await named.stop();
    const started = Date.now();
    const err = await rejection(updater.update({ zone: ZONE, changes: [change] }));
    expect(err).toMatchObject({ code: 'NETWORK', retryable: true });
    expect(err.message).toMatch(/connection refused/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a server that never answers is TIMEOUT once timeoutMs passes', async () => {
    const silent = await bindUdp();
    let received = 0;
    silent.on('message', () => received++);
    try {
      const updater = createNsupdateUpdater({
        server: { host: '127.0.0.1', port: silent.address().port },
        key,
        timeoutMs: 1000,
      });
      const started = Date.now();
      const err = await rejection(updater.update({ zone: ZONE, changes: [change] }));
      expect(err).toMatchObject({ code: 'TIMEOUT', retryable: true });
      expect(Date.now() - started).toBeGreaterThanOrEqual(990);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(received).toBeGreaterThanOrEqual(1);
    } finally {
      silent.close();
    }
  });

  it('an abort signal rejects with its reason', async () => {
    const silent = await bindUdp();
    try {
      const updater = createNsupdateUpdater({
        server: { host: '127.0.0.1', port: silent.address().port },
        key,
        timeoutMs: 10_000,
      });
      const controller = new AbortController();
      const pending = updater.update({ zone: ZONE, changes: [change] }, controller.signal);
      const reason = new Error('shutting down');
      setTimeout(() => controller.abort(reason), 100);
      await expect(pending).rejects.toBe(reason);
    } finally {
      silent.close();
    }
  });

  it('a missing binary is OTHER and names it', async () => {
    const binary = join(tmpdir(), 'hbd-no-such-dir', 'nsupdate');
    const updater = createNsupdateUpdater({ binary, server: { host: '127.0.0.1', port: 53 }, key });
    const err = await rejection(updater.update({ zone: ZONE, changes: [change] }));
    expect(err).toMatchObject({ code: 'OTHER', retryable: false });
    expect(err.message).toContain(binary);
  });

  it('refuses a bad key, server or key setup when created', () => {
    const server = { host: '127.0.0.1', port: 53 };
    const bad: [string, Parameters<typeof createNsupdateUpdater>[0]][] = [
      ['key name with a space', { server, key: { ...key, name: 'bad key' } }],
      ['key name with a newline', { server, key: { ...key, name: 'k\nsend' } }],
      ['unknown algorithm', { server, key: { ...key, algorithm: 'hmac-foo' as TsigKey['algorithm'] } }],
      ['empty secret', { server, key: { ...key, secret: '' } }],
      ['secret with a newline', { server, key: { ...key, secret: `${key.secret}\nsend` } }],
      ['secret with a space', { server, key: { ...key, secret: `${key.secret} x` } }],
      ['key and key file', { server, key, keyFile: '/etc/hbd/key' }],
      ['empty key file', { server, key: null, keyFile: '' }],
      ['host with a newline', { server: { host: '127.0.0.1\nsend', port: 53 }, key }],
      ['host with a space', { server: { host: '127.0.0.1 53', port: 53 }, key }],
      ['host with a zone id', { server: { host: 'fe80::1%eth0', port: 53 }, key }],
      ['port 0', { server: { host: '127.0.0.1', port: 0 }, key }],
      ['fractional port', { server: { host: '127.0.0.1', port: 53.5 }, key }],
    ];
    for (const [label, options] of bad) {
      expect(() => createNsupdateUpdater(options), label).toThrow(DnsUpdateError);
    }
    expect(() =>
      createNsupdateUpdater({ server: { host: 'ns1.example.test', port: 53 }, key }),
    ).not.toThrow();
    expect(() => createNsupdateUpdater({ server: { host: '::1', port: 53 }, key: null })).not.toThrow();
  });
});

describe('classifyNsupdateFailure', () => {
  it.each([
    ['update failed: REFUSED\n', 'REFUSED'],
    ['; TSIG error with server: tsig indicates error\nupdate failed: NOTAUTH(BADSIG)\n', 'BADSIG'],
    ['; TSIG error with server: tsig verify failure\n', 'BADSIG'],
    ['update failed: NOTAUTH(BADKEY)\n', 'BADKEY'],
    ['update failed: NOTAUTH(BADTIME)\n', 'BADTIME'],
    ['update failed: NOTAUTH\n', 'NOTAUTH'],
    ['update failed: NOTZONE\n', 'NOTZONE'],
    ['update failed: SERVFAIL\n', 'SERVFAIL'],
    ['; Communication with 192.0.2.1#53 failed: timed out\n', 'TIMEOUT'],
    ['; Communication with 127.0.0.1#53 failed: connection refused\n', 'NETWORK'],
    ['; communications error to 127.0.0.1#53: connection refused\n', 'NETWORK'],
    ['could not talk to specified name server\n', 'NETWORK'],
    ['syntax error\n', 'OTHER'],
    ['', 'OTHER'],
  ] as const)('%j is %s', (stderr, code) => {
    const err = classifyNsupdateFailure(2, stderr);
    expect(err.code).toBe(code);
    expect(err.message.length).toBeLessThan(250);
    if (stderr !== '') expect(err.message).toContain(stderr.trim().split('\n').at(-1)?.slice(0, 40));
  });

  it('keeps the first line of unrecognised output', () => {
    const err = classifyNsupdateFailure(1, 'something odd happened\nand more\n');
    expect(err).toMatchObject({ code: 'OTHER', retryable: false });
    expect(err.message).toContain('something odd happened');
  });
});
