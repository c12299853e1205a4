import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeDatagram } from '../../src/protocol/decode.js';
import { encodeHeartbeat, type HeartbeatInput } from '../../src/protocol/encode.js';
import { verifySignature } from '../../src/protocol/sign.js';
import { VECTOR_SECRET, VECTOR_TEXT } from './test-vector.js';

const VECTOR_INPUT: HeartbeatInput = {
  host: 'web1',
  ts: 1764080000.123,
  seq: 42,
  every: 30,
  status: 'ok',
  msg: 'disk 71% full',
  fields: { load: '0.42' },
};

const text = (input: HeartbeatInput) => encodeHeartbeat(input).toString('utf8');

describe('encodeHeartbeat', () => {
  it('writes the test vector byte for byte', () => {
    expect(encodeHeartbeat(VECTOR_INPUT, { secret: VECTOR_SECRET }).toString('utf8')).toBe(VECTOR_TEXT);
  });

  it('compresses with zlib when asked, to the same text', () => {
    const datagram = encodeHeartbeat(VECTOR_INPUT, { secret: VECTOR_SECRET, zlib: true });
    expect(inflateSync(datagram).toString('utf8')).toBe(VECTOR_TEXT);
    const decoded = decodeDatagram(datagram);
    expect(decoded.ok && decoded.value.compressed).toBe(true);
    expect(decoded.ok && verifySignature(decoded.value.signature!, VECTOR_SECRET)).toBe(true);
  });

  it('writes the fields in a stable order: host ts seq every status msg ip4 ip6 key, extras, sig', () => {
    const datagram = encodeHeartbeat(
      {
        fields: { rack: 'r7', az: 'b' },
        keyId: 'k1',
        ip6: '2001:db8::1',
        ip4: '192.0.2.1',
        msg: 'm',
        status: 'warn',
        every: 10,
        seq: 1,
        ts: 2,
        host: 'web1',
      },
      { secret: 's' },
    ).toString('utf8');
    expect(datagram.replace(/ sig=[0-9a-f]{64}$/, '')).toBe(
      'host=web1 ts=2 seq=1 every=10 status=warn msg=m ip4=192.0.2.1 ip6=2001:db8::1 key=k1 rack=r7 az=b',
    );
  });

  it('writes only the host when that is all there is', () => {
    expect(text({ host: 'web1' })).toBe('host=web1');
  });

  it('writes host names in lower case', () => {
    expect(text({ host: 'Web1.Example.COM' })).toBe('host=web1.example.com');
  });

  it.each([
    [1764080000.123, '1764080000.123'],
    [1764080000.1, '1764080000.1'],
    [1764080000, '1764080000'],
    [1764080000.12345, '1764080000.123'],
    [1764080000.9996, '1764080001'],
    [0, '0'],
  ])('writes ts %d as %s (at most 3 decimals)', (ts, written) => {
    expect(text({ host: 'web1', ts })).toBe(`host=web1 ts=${written}`);
  });

  it('quotes values that need it', () => {
    expect(text({ host: 'web1', msg: 'say "hi"\nbye', fields: { empty: '' } })).toBe(
      'host=web1 msg="say \\"hi\\"\\nbye" empty=""',
    );
  });

  it.each<[string, HeartbeatInput, RegExp]>([
    ['a bad host name', { host: 'web_1' }, /invalid host name "web_1"/],
    ['an empty host name', { host: '' }, /invalid host name/],
    ['a negative ts', { host: 'web1', ts: -1 }, /key "ts"/],
    ['a NaN ts', { host: 'web1', ts: Number.NaN }, /key "ts"/],
    ['a fractional seq', { host: 'web1', seq: 1.5 }, /key "seq"/],
    ['every = 0', { host: 'web1', every: 0 }, /key "every"/],
    ['a bad ip4', { host: 'web1', ip4: '10.0.0.256' }, /key "ip4"/],
    ['a bad ip6', { host: 'web1', ip6: 'nope' }, /key "ip6"/],
    ['a key id with a space', { host: 'web1', keyId: 'a b' }, /key "key"/],
    ['a msg of 1025 characters', { host: 'web1', msg: 'm'.repeat(1025) }, /longer than 1024/],
    [
      'an extra key in upper case',
      { host: 'web1', fields: { Rack: 'r7' } },
      /extra field key "Rack" is invalid/,
    ],
    [
      'an extra key with a space',
      { host: 'web1', fields: { 'a b': '1' } },
      /extra field key "a b" is invalid/,
    ],
    [
      'an extra field named like a hb/1 field',
      { host: 'web1', fields: { status: 'ok' } },
      /"status" is a hb\/1 field/,
    ],
    ['sig as an extra field', { host: 'web1', fields: { sig: 'x' } }, /"sig" is a hb\/1 field/],
    [
      '33 extra fields',
      { host: 'web1', fields: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`x${i}`, '1'])) },
      /more than 32 extra fields/,
    ],
    ['an unpaired surrogate', { host: 'web1', msg: 'a\ud800b' }, /unpaired/],
  ])('throws on %s', (_, input, message) => {
    expect(() => encodeHeartbeat(input)).toThrow(message);
  });

  it('refuses to sign without ts, or with an empty secret', () => {
    expect(() => encodeHeartbeat({ host: 'web1' }, { secret: 's' })).toThrow(/must have "ts"/);
    expect(() => encodeHeartbeat({ host: 'web1', ts: 1 }, { secret: '' })).toThrow(/empty secret/);
  });

  it('refuses a heartbeat over 8192 bytes, compressed or not (zlib never buys a bigger one)', () => {
    const fields = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`x${i}`, 'v'.repeat(256)]));
    expect(() => encodeHeartbeat({ host: 'web1', fields })).toThrow(/over the 8192-byte limit$/);
    expect(() => encodeHeartbeat({ host: 'web1', fields }, { zlib: true })).toThrow(
      /over the 8192-byte limit \(compressed or not\)/,
    );
  });

  it('compresses a heartbeat of up to 8192 bytes to far fewer', () => {
    const fields = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`x${i}`, 'v'.repeat(256)]));
    expect(encodeHeartbeat({ host: 'web1', fields }).length).toBeGreaterThan(7800);
    expect(encodeHeartbeat({ host: 'web1', fields }, { zlib: true }).length).toBeLessThan(500);
  });

  it('refuses an extra field value over 256 characters', () => {
    expect(encodeHeartbeat({ host: 'web1', fields: { note: 'é'.repeat(256) } }).length).toBeGreaterThan(512);
    expect(() => encodeHeartbeat({ host: 'web1', fields: { note: 'x'.repeat(257) } })).toThrow(
      /key "note": longer than 256 characters/,
    );
  });
});
