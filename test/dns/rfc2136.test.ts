import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRfc2136Updater } from '../../src/dns/rfc2136.js';
import { findTsig } from '../../src/dns/tsig.js';
import type { DnsServer, DnsUpdater, RecordChange, TsigKey } from '../../src/dns/update-types.js';
import { DnsUpdateError } from '../../src/dns/update-types.js';
import { type NamedServer, startNamed } from '../helpers/named.js';

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

function bindUdp(port = 0): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => resolve(socket));
  });
}

/** Forwards each datagram to named and hands its reply to `mangle` before passing it back. */
async function udpRelay(target: DnsServer, mangle: (reply: Buffer) => Buffer): Promise<dgram.Socket> {
  const front = await bindUdp();
  front.on('message', async (query, client) => {
    const back = await bindUdp();
    back.on('message', (reply) => {
      front.send(mangle(reply), client.port, client.address);
      back.close();
    });
    back.send(query, target.port, target.host);
  });
  return front;
}

function serverOf(socket: dgram.Socket): DnsServer {
  return { host: '127.0.0.1', port: socket.address().port };
}

describe('createRfc2136Updater against a real named', () => {
  let named: NamedServer;
  let updater: DnsUpdater;
  let server: DnsServer;
  let key: TsigKey;
  const sockets: dgram.Socket[] = [];

  beforeAll(async () => {
    named = await startNamed({ zones: [ZONE] });
    server = { host: named.host, port: named.port };
    key = asKey(named.tsig);
    updater = createRfc2136Updater({ server, key, timeoutMs: 3000 });
  });

  afterAll(async () => {
    for (const s of sockets) s.close();
    await named?.stop();
  });

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

  it('adds an A record', async () => {
    await updater.update({ zone: ZONE, changes: [a('add', '192.0.2.10')] });
    expect(await named.dig(`add.${ZONE}`, 'A')).toEqual(['192.0.2.10']);
  });

  it('replaces an A record: the old address is gone', async () => {
    await updater.update({ zone: ZONE, changes: [a('change', '192.0.2.1')] });
    await updater.update({ zone: ZONE, changes: [a('change', '192.0.2.2')] });
    expect(await named.dig(`change.${ZONE}`, 'A')).toEqual(['192.0.2.2']);
  });

  it('adds AAAA records, including an IPv4-mapped one, without touching A', async () => {
    await updater.update({ zone: ZONE, changes: [a('six', '192.0.2.6'), aaaa('six', '2001:db8::6')] });
    expect(await named.dig(`six.${ZONE}`, 'AAAA')).toEqual(['2001:db8::6']);
    await updater.update({ zone: ZONE, changes: [aaaa('six', '::ffff:192.0.2.7')] });
    expect(await named.dig(`six.${ZONE}`, 'AAAA')).toEqual(['::ffff:192.0.2.7']);
    expect(await named.dig(`six.${ZONE}`, 'A')).toEqual(['192.0.2.6']);
  });

  it.each([
    ['2001:DB8:0:0:1::1', '2001:db8::1:0:0:1'],
    ['1::', '1::'],
    ['::', '::'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['::1.2.3.4', '::1.2.3.4'],
    // Looks hostile but is valid IPv6 (…:ffff:0bad), so it is published as what it means.
    ['::ffff:bad', '::255.255.11.173'],
  ])('encodes AAAA %s as named reads it', async (address, shown) => {
    const label = `v6-${Buffer.from(address).toString('hex')}`;
    await updater.update({ zone: ZONE, changes: [aaaa(label, address)] });
    expect(await named.dig(`${label}.${ZONE}`, 'AAAA')).toEqual([shown]);
  });

  it('deletes a record type when address is null', async () => {
    await updater.update({ zone: ZONE, changes: [a('gone', '192.0.2.3'), aaaa('gone', '2001:db8::3')] });
    await updater.update({ zone: ZONE, changes: [a('gone', null)] });
    expect(await named.dig(`gone.${ZONE}`, 'A')).toEqual([]);
    expect(await named.dig(`gone.${ZONE}`, 'AAAA')).toEqual(['2001:db8::3']);
    // Deleting what is not there is not an error.
    await updater.update({ zone: ZONE, changes: [a('never-there', null)] });
  });

  it('applies several changes in one message; names are case- and dot-insensitive', async () => {
    await updater.update({
      zone: `${ZONE.toUpperCase()}.`,
      changes: [a('m1', '192.0.2.21'), a('M2', '192.0.2.22'), { ...aaaa('m1', '2001:db8::21'), ttl: 0 }],
    });
    expect(await named.dig(`m1.${ZONE}`, 'A')).toEqual(['192.0.2.21']);
    expect(await named.dig(`m2.${ZONE}`, 'A')).toEqual(['192.0.2.22']);
    expect(await named.dig(`m1.${ZONE}`, 'AAAA')).toEqual(['2001:db8::21']);
  });

  it('sends a message over 512 bytes by TCP', async () => {
    const changes = Array.from({ length: 30 }, (_, i) => a(`bulk-host-number-${i}`, `198.51.100.${i + 1}`));
    await updater.update({ zone: ZONE, changes });
    expect(await named.dig(`bulk-host-number-29.${ZONE}`, 'A')).toEqual(['198.51.100.30']);
  });

  it('retries by TCP when the UDP reply is truncated', async () => {
    // One port, two fakes: UDP always answers "truncated", TCP relays to named.
    const tcp = net.createServer((client) => {
      const upstream = net.connect(named.port, named.host);
      client.pipe(upstream).pipe(client);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const port = (tcp.address() as net.AddressInfo).port;
    const udp = await bindUdp(port);
    sockets.push(udp);
    let udpQueries = 0;
    udp.on('message', (query, client) => {
      udpQueries++;
      const reply = Buffer.from(query.subarray(0, 12));
      reply.writeUInt16BE((query.readUInt16BE(2) & 0x7800) | 0x8000 | 0x0200, 2);
      reply.writeUInt32BE(0, 4);
      reply.writeUInt32BE(0, 8);
      udp.send(reply, client.port, client.address);
    });
    try {
      const viaTc = createRfc2136Updater({ server: { host: '127.0.0.1', port }, key, timeoutMs: 3000 });
      await viaTc.update({ zone: ZONE, changes: [a('tc', '192.0.2.99')] });
      expect(udpQueries).toBe(1);
      expect(await named.dig(`tc.${ZONE}`, 'A')).toEqual(['192.0.2.99']);
    } finally {
      tcp.close();
    }
  });

  it('an unsigned update is refused (REFUSED, not retryable)', async () => {
    const unsigned = createRfc2136Updater({ server, key: null, timeoutMs: 3000 });
    const err = await rejection(unsigned.update({ zone: ZONE, changes: [a('nokey', '192.0.2.4')] }));
    expect(err).toMatchObject({ code: 'REFUSED', retryable: false, rcode: 5 });
    expect(await named.dig(`nokey.${ZONE}`, 'A')).toEqual([]);
  });

  it('a key named knows but does not allow is refused', async () => {
    const other = createRfc2136Updater({ server, key: asKey(named.wrongTsig), timeoutMs: 3000 });
    const err = await rejection(other.update({ zone: ZONE, changes: [a('wrongkey', '192.0.2.5')] }));
    expect(err).toMatchObject({ code: 'REFUSED', retryable: false });
  });

  it('a wrong secret is BADSIG (typed, not retryable) and changes nothing', async () => {
    const wrongSecret = { ...key, secret: Buffer.alloc(32, 7).toString('base64') };
    const bad = createRfc2136Updater({ server, key: wrongSecret, timeoutMs: 3000 });
    const err = await rejection(bad.update({ zone: ZONE, changes: [a('badsig', '192.0.2.8')] }));
    expect(err).toMatchObject({ code: 'BADSIG', retryable: false, rcode: 9 });
    expect(await named.dig(`badsig.${ZONE}`, 'A')).toEqual([]);
  });

  it('an unknown key name is BADKEY', async () => {
    const unknown = createRfc2136Updater({ server, key: { ...key, name: 'no-such-key' }, timeoutMs: 3000 });
    const err = await rejection(unknown.update({ zone: ZONE, changes: [a('badkey', '192.0.2.9')] }));
    expect(err).toMatchObject({ code: 'BADKEY', retryable: false, rcode: 9 });
  });

  it('a clock far off is BADTIME (retryable)', async () => {
    const skewed = createRfc2136Updater({ server, key, timeoutMs: 3000, now: () => Date.now() - 3_600_000 });
    const err = await rejection(skewed.update({ zone: ZONE, changes: [a('badtime', '192.0.2.11')] }));
    expect(err).toMatchObject({ code: 'BADTIME', retryable: true });
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

  describe('checks the reply signature', () => {
    it('a reply whose MAC was tampered with is BADSIG, although named applied the update', async () => {
      const relay = await udpRelay(server, (reply) => {
        const tsig = findTsig(reply);
        if (tsig === null) throw new Error('named did not sign its reply');
        tsig.mac[0] = (tsig.mac[0] ?? 0) ^ 0xff; // subarray: flips the byte inside `reply`
        return reply;
      });
      sockets.push(relay);
      const viaRelay = createRfc2136Updater({ server: serverOf(relay), key, timeoutMs: 3000 });
      const err = await rejection(viaRelay.update({ zone: ZONE, changes: [a('tampered', '192.0.2.12')] }));
      expect(err.code).toBe('BADSIG');
      expect(await named.dig(`tampered.${ZONE}`, 'A')).toEqual(['192.0.2.12']);
    });

    it('a reply verified against another secret is BADSIG', async () => {
      // Our request is signed with the real key; the reply is re-signed by "the server" with another
      // one, which is what a key mismatch between the two ends looks like.
      const relay = await udpRelay(server, (reply) => {
        const tsig = findTsig(reply);
        if (tsig === null) throw new Error('named did not sign its reply');
        for (let i = 0; i < tsig.mac.length; i++) tsig.mac[i] = i;
        return reply;
      });
      sockets.push(relay);
      const viaRelay = createRfc2136Updater({ server: serverOf(relay), key, timeoutMs: 3000 });
      const err = await rejection(viaRelay.update({ zone: ZONE, changes: [a('mismatch', '192.0.2.13')] }));
      expect(err.code).toBe('BADSIG');
    });

    it('an unsigned NOERROR reply to a signed update is BADRESPONSE', async () => {
      const relay = await udpRelay(server, (reply) => {
        const tsig = findTsig(reply);
        if (tsig === null) throw new Error('named did not sign its reply');
        const stripped = Buffer.from(reply.subarray(0, tsig.start));
        stripped.writeUInt16BE(stripped.readUInt16BE(10) - 1, 10);
        return stripped;
      });
      sockets.push(relay);
      const viaRelay = createRfc2136Updater({ server: serverOf(relay), key, timeoutMs: 3000 });
      const err = await rejection(viaRelay.update({ zone: ZONE, changes: [a('stripped', '192.0.2.14')] }));
      expect(err).toMatchObject({ code: 'BADRESPONSE', retryable: true });
    });
  });
});

describe('createRfc2136Updater without a working server', () => {
  const key: TsigKey = {
    name: 'k',
    algorithm: 'hmac-sha256',
    secret: Buffer.alloc(32, 1).toString('base64'),
  };
  const change: RecordChange = { name: 'h.example.test', type: 'A', address: '192.0.2.1', ttl: 60 };

  it('a closed port fails fast with NETWORK', async () => {
    const probe = await bindUdp();
    const port = probe.address().port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const updater = createRfc2136Updater({ server: { host: '127.0.0.1', port }, key, timeoutMs: 5000 });
    const started = Date.now();
    const err = await rejection(updater.update({ zone: 'example.test', changes: [change] }));
    expect(err).toMatchObject({ code: 'NETWORK', retryable: true });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('a server that never answers is TIMEOUT within timeoutMs', async () => {
    const silent = await bindUdp();
    let received = 0;
    silent.on('message', () => received++);
    try {
      const updater = createRfc2136Updater({ server: serverOf(silent), key, timeoutMs: 300 });
      const started = Date.now();
      const err = await rejection(updater.update({ zone: 'example.test', changes: [change] }));
      expect(err).toMatchObject({ code: 'TIMEOUT', retryable: true });
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(received).toBe(1);
    } finally {
      silent.close();
    }
  });

  it('an abort signal rejects with its reason', async () => {
    const silent = await bindUdp();
    try {
      const updater = createRfc2136Updater({ server: serverOf(silent), key, timeoutMs: 5000 });
      const controller = new AbortController();
      const pending = updater.update({ zone: 'example.test', changes: [change] }, controller.signal);
      const reason = new Error('shutting down');
      controller.abort(reason);
      await expect(pending).rejects.toBe(reason);
    } finally {
      silent.close();
    }
  });

  describe('rejects hostile input before anything reaches the wire', () => {
    let listener: dgram.Socket;
    let received = 0;
    let updater: DnsUpdater;
    beforeAll(async () => {
      listener = await bindUdp();
      listener.on('message', () => received++);
      updater = createRfc2136Updater({ server: serverOf(listener), key, timeoutMs: 200 });
    });
    afterAll(() => listener.close());

    const zone = 'dyn.example.test';
    const ok: RecordChange = { name: `ok.${zone}`, type: 'A', address: '192.0.2.1', ttl: 60 };
    const cases: [string, Partial<RecordChange>][] = [
      ['a name outside the zone', { name: 'www.example.com' }],
      ['a sibling of the zone', { name: 'evil.example.test' }],
      ['a suffix match without a dot', { name: `evil${zone}` }],
      ['a label with a space', { name: `a b.${zone}` }],
      ['a label with a newline', { name: `a\nupdate add x.${zone} 1 A 1.1.1.1.${zone}` }],
      ['a label with a semicolon', { name: `a;b.${zone}` }],
      ['an empty label', { name: `a..${zone}` }],
      ['a 64-byte label', { name: `${'x'.repeat(64)}.${zone}` }],
      ['a non-ASCII label', { name: `é.${zone}` }],
      ['a leading hyphen', { name: `-a.${zone}` }],
      ['a shell injection in the address', { address: '1.2.3.4; rm -rf /' }],
      ['a malformed mapped IPv6', { type: 'AAAA', address: '::ffff:1.2.3.256' }],
      ['a trailing colon', { type: 'AAAA', address: '::ffff:bad:' }],
      ['a non-hex group', { type: 'AAAA', address: 'gggg::1' }],
      ['an IPv6 zone id', { type: 'AAAA', address: 'fe80::1%eth0' }],
      ['an IPv4 address in AAAA', { type: 'AAAA', address: '192.0.2.1' }],
      ['an IPv6 address in A', { address: '2001:db8::1' }],
      ['an out-of-range octet', { address: '256.1.1.1' }],
      ['a short IPv4', { address: '1.2.3' }],
      ['a negative TTL', { ttl: -1 }],
      ['a fractional TTL', { ttl: 1.5 }],
      ['a TTL over 2^31-1', { ttl: 2 ** 31 }],
      ['a NaN TTL', { ttl: Number.NaN }],
      ['another record type', { type: 'MX' as 'A' }],
    ];

    it.each(cases)('%s', async (_label, override) => {
      const err = await rejection(updater.update({ zone, changes: [ok, { ...ok, ...override }] }));
      expect(err).toMatchObject({ code: 'OTHER', retryable: false });
      expect(received).toBe(0);
    });

    it.each(['', '.', 'example.test;', 'a b.test', `${'a.'.repeat(127)}test`])('zone %j', async (bad) => {
      const err = await rejection(updater.update({ zone: bad, changes: [] }));
      expect(err).toMatchObject({ code: 'OTHER', retryable: false });
      expect(received).toBe(0);
    });

    it('refuses a bad key name or secret when created', () => {
      expect(() =>
        createRfc2136Updater({ server: serverOf(listener), key: { ...key, name: 'bad key' } }),
      ).toThrow(DnsUpdateError);
      const foo = { ...key, algorithm: 'hmac-foo' as TsigKey['algorithm'] };
      expect(() => createRfc2136Updater({ server: serverOf(listener), key: foo })).toThrow(DnsUpdateError);
      expect(() => createRfc2136Updater({ server: serverOf(listener), key: { ...key, secret: '' } })).toThrow(
        DnsUpdateError,
      );
    });
  });
});
