import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createInflater,
  type Inflated,
  portableInflater,
  reusableInflater,
} from '../../src/protocol/inflate.js';

const MAX = 8192;
const portable = portableInflater(MAX);
const reusable = reusableInflater(MAX);

/** Comparable form: the bytes as text (copied before the reusable inflater's next call), or the verdict. */
function outcome(result: Inflated): string {
  return typeof result === 'string' ? result : Buffer.from(result).toString('latin1');
}

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

/**
 * Streams that inflate to around the bound, cut short or followed by more bytes, and headers
 * with noise. Not a stream cut short after more than the bound: there the two differ on
 * purpose (see the test of that case below).
 */
const payload = fc.oneof(
  fc
    .record({
      size: fc.integer({ min: 0, max: 3 * MAX }),
      byte: fc.integer({ min: 0, max: 255 }),
      level: fc.integer({ min: 0, max: 9 }),
      cut: fc.integer({ min: -4, max: 4 }),
    })
    .filter(({ size, cut }) => cut >= 0 || size <= MAX)
    .map(({ size, byte, level, cut }) => {
      const stream = deflateSync(Buffer.alloc(size, byte), { level });
      if (cut < 0) return stream.subarray(0, cut);
      return cut === 0 ? stream : Buffer.concat([stream, Buffer.alloc(cut, 0x20)]);
    }),
  fc.uint8Array({ maxLength: 2000 }).map((bytes) => deflateSync(bytes)),
  fc
    .tuple(zlibHeader, fc.uint8Array({ maxLength: 200 }))
    .map(([header, rest]) => Buffer.concat([header, rest])),
);

describe('bounded inflation', () => {
  it('this Node offers the reusable inflater (if not, hbd falls back to the dearer inflateSync)', () => {
    expect(reusable).toBeDefined();
  });

  it.each([
    ['inflates to exactly the bound', deflateSync(Buffer.alloc(MAX, 0x61)), 'a'.repeat(MAX)],
    ['one byte past the bound', deflateSync(Buffer.alloc(MAX + 1, 0x61)), 'too large'],
    ['a bomb: 8 MiB in under 8 KiB', deflateSync(Buffer.alloc(8 << 20), { level: 9 }), 'too large'],
    ['an empty stream', deflateSync(Buffer.alloc(0)), ''],
    ['bytes after the stream', Buffer.concat([deflateSync('host=web1'), Buffer.from(' x')]), 'not zlib'],
    ['a stream cut short', deflateSync('host=web1 msg=hello').subarray(0, -3), 'not zlib'],
    ['a header and garbage', Buffer.from([0x78, 0x9c, 0xff, 0xff, 0xff]), 'not zlib'],
    [
      'a stream that needs a dictionary',
      deflateSync('host=web1', { dictionary: Buffer.from('host') }),
      'not zlib',
    ],
  ])('%s: both inflaters agree', (_name, input, expected) => {
    expect(outcome(portable(input))).toBe(expected);
    expect(outcome(reusable!(input))).toBe(expected);
  });

  it('a stream cut short after more than the bound is too large: it is not inflated further to find the cut', () => {
    const cutShort = deflateSync(Buffer.alloc(12_000, 0x61), { level: 0 }).subarray(0, -4);
    expect(reusable!(cutShort)).toBe('too large');
    // inflateSync reads on (a 16 KiB chunk) and finds the cut; either way the datagram is dropped.
    expect(portable(cutShort)).toBe('not zlib');
  });

  it('the reusable inflater agrees with inflateSync on random payloads, one after the other', () => {
    fc.assert(
      fc.property(fc.array(payload, { minLength: 1, maxLength: 5 }), (payloads) => {
        for (const input of payloads) expect(outcome(reusable!(input))).toBe(outcome(portable(input)));
      }),
      { numRuns: 300 },
    );
  });

  it('createInflater picks the reusable inflater, so hbd refuses bombs on the cheap path (timed by `npm run bench -- decode`)', () => {
    const inflate = createInflater(MAX);
    const first = inflate(deflateSync('host=web1'));
    const second = inflate(deflateSync('host=web2'));
    // Only the reusable inflater writes every result into its one buffer of MAX + 1 bytes...
    expect(first).toBeInstanceOf(Uint8Array);
    expect((first as Uint8Array).buffer).toBe((second as Uint8Array).buffer);
    expect((second as Uint8Array).buffer.byteLength).toBe(MAX + 1);
    // ...and stops at the bound where inflateSync reads on to find the cut.
    const cutShort = deflateSync(Buffer.alloc(12_000, 0x61), { level: 0 }).subarray(0, -4);
    expect(inflate(cutShort)).toBe('too large');
  });
});
