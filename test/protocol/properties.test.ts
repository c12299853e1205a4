import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeDatagram, parseHeartbeat } from '../../src/protocol/decode.js';
import { encodeHeartbeat, type HeartbeatInput } from '../../src/protocol/encode.js';
import { formatLogfmt, parseLogfmt } from '../../src/protocol/logfmt.js';
import { verifySignature } from '../../src/protocol/sign.js';
import { STATUSES } from '../../src/protocol/types.js';

const HB1_KEYS = ['host', 'ts', 'seq', 'every', 'status', 'msg', 'ip4', 'ip6', 'key', 'sig'];

const label = fc.stringMatching(/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/);
const hostName = fc
  .array(label, { minLength: 1, maxLength: 5 })
  .map((labels) => labels.join('.'))
  .filter((name) => name.length <= 253);
const extraKey = fc.stringMatching(/^[a-z][a-z0-9_.-]{0,63}$/).filter((key) => !HB1_KEYS.includes(key));

/** Any valid heartbeat, sized so that it always fits in a datagram uncompressed. */
const heartbeatInput: fc.Arbitrary<HeartbeatInput> = fc.record(
  {
    host: hostName,
    ts: fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => ms / 1000),
    seq: fc.maxSafeNat(),
    every: fc.oneof(
      fc.integer({ min: 1, max: 86_400 }),
      fc.integer({ min: 1, max: 1_000_000 }).map((n) => n / 1000),
    ),
    status: fc.constantFrom(...STATUSES),
    msg: fc.string({ unit: 'binary', maxLength: 200 }),
    ip4: fc.ipV4(),
    ip6: fc.ipV6(),
    keyId: fc.stringMatching(/^[!#-~]{1,64}$/),
    fields: fc.dictionary(extraKey, fc.string({ unit: 'binary', maxLength: 10 }), { maxKeys: 32 }),
  },
  { requiredKeys: ['host'] },
);

const secret = fc.string({ unit: 'binary', minLength: 1, maxLength: 64 });

/** The first two bytes of a zlib stream: CM = 8, any window size and FDICT, a valid check. */
const zlibHeader = fc
  .record({
    windowBits: fc.integer({ min: 0, max: 7 }),
    dictionary: fc.boolean(),
    level: fc.integer({ min: 0, max: 3 }),
  })
  .map(({ windowBits, dictionary, level }) => {
    const first = (windowBits << 4) | 8;
    const flags = (level << 6) | (dictionary ? 0x20 : 0);
    return Uint8Array.of(first, flags + ((31 - ((first * 256 + flags) % 31)) % 31));
  });

/** Text made mostly of the characters that steer the parser. */
const logfmtLike = fc.string({
  unit: fc.constantFrom(
    'h',
    'o',
    's',
    't',
    'i',
    'g',
    '=',
    '"',
    '\\',
    ' ',
    '\n',
    '\t',
    'n',
    'x',
    '\u0000',
    'é',
    '\ud800',
  ),
  maxLength: 60,
});

describe('decodeDatagram never throws', () => {
  it('on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 9000 }), (bytes) => {
        decodeDatagram(bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it('on arbitrary bytes behind a valid zlib header', () => {
    fc.assert(
      fc.property(zlibHeader, fc.uint8Array({ maxLength: 600 }), (header, rest) => {
        const [first = 0, second = 0] = header;
        expect((first & 0x0f) === 8 && (first * 256 + second) % 31 === 0).toBe(true);
        decodeDatagram(Buffer.concat([header, rest]));
      }),
      { numRuns: 1000 },
    );
  });

  it('on arbitrary bytes, zlib-compressed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        const result = decodeDatagram(deflateSync(bytes));
        if (!result.ok) expect(['utf8', 'syntax', 'host', 'field', 'auth']).toContain(result.reason);
      }),
    );
  });

  it('on logfmt-like text, lone surrogates included', () => {
    fc.assert(
      fc.property(logfmtLike, (text) => {
        parseHeartbeat(text);
        decodeDatagram(Buffer.from(text));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('round trips', () => {
  it('logfmt: any values written by formatLogfmt read back unchanged', () => {
    fc.assert(
      fc.property(fc.dictionary(extraKey, fc.string({ unit: 'binary' })), (fields) => {
        const parsed = parseLogfmt(formatLogfmt(Object.entries(fields)));
        expect(parsed.ok).toBe(true);
        if (parsed.ok)
          expect(parsed.value.keys.map((key, i) => [key, parsed.value.values[i]])).toEqual(
            Object.entries(fields),
          );
      }),
    );
  });

  it('encode → decode gives back any valid heartbeat, plain or compressed', () => {
    fc.assert(
      fc.property(heartbeatInput, fc.boolean(), (input, zlib) => {
        const decoded = decodeDatagram(encodeHeartbeat(input, { zlib }));
        expect(decoded).toEqual({
          ok: true,
          value: {
            ...input,
            host: input.host.toLowerCase(),
            status: input.status ?? 'ok',
            fields: input.fields ?? {},
            compressed: zlib,
          },
        });
      }),
    );
  });

  it('a signed heartbeat verifies with its secret, and not with another', () => {
    fc.assert(
      fc.property(heartbeatInput, secret, secret, fc.boolean(), (input, key, otherKey, zlib) => {
        const decoded = decodeDatagram(encodeHeartbeat({ ts: 1764080000, ...input }, { secret: key, zlib }));
        if (!decoded.ok) throw new Error(decoded.detail);
        expect(verifySignature(decoded.value.signature!, key)).toBe(true);
        if (otherKey !== key) expect(verifySignature(decoded.value.signature!, otherKey)).toBe(false);
      }),
    );
  });

  it('changing any single byte of the signed text makes the datagram fail verification', () => {
    fc.assert(
      fc.property(
        heartbeatInput,
        secret,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (input, key, position, delta) => {
          const datagram = encodeHeartbeat({ ts: 1764080000, ...input }, { secret: key });
          const signedBytes = datagram.lastIndexOf(' sig=');
          const tampered = Buffer.from(datagram);
          const index = position % signedBytes;
          tampered[index] = (tampered[index]! + delta) % 256;
          const decoded = decodeDatagram(tampered);
          const accepted =
            decoded.ok && decoded.value.signature && verifySignature(decoded.value.signature, key);
          expect(accepted).toBeFalsy();
        },
      ),
      { numRuns: 500 },
    );
  });
});
