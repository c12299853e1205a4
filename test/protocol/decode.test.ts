import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeDatagram, parseHeartbeat } from '../../src/protocol/decode.js';
import { verifySignature } from '../../src/protocol/sign.js';
import type { DropReason, Heartbeat } from '../../src/protocol/types.js';
import {
  VECTOR_SECRET,
  VECTOR_SIG,
  VECTOR_SIGNED_TEXT,
  VECTOR_TEXT,
  VECTOR_ZLIB_BASE64,
} from './test-vector.js';

const SIG = 'a'.repeat(64);

function decoded(datagram: string | Uint8Array): Heartbeat {
  const result = decodeDatagram(typeof datagram === 'string' ? Buffer.from(datagram) : datagram);
  if (!result.ok) throw new Error(`expected a heartbeat, got ${result.reason}: ${result.detail}`);
  return result.value;
}

function dropped(datagram: string | Uint8Array): { reason: DropReason; detail: string } {
  const result = decodeDatagram(typeof datagram === 'string' ? Buffer.from(datagram) : datagram);
  if (result.ok) throw new Error(`expected a drop, got ${JSON.stringify(result.value)}`);
  return { reason: result.reason, detail: result.detail };
}

function hasZlibHeader(bytes: Uint8Array): boolean {
  const [first = 0, second = 0] = bytes;
  return (first & 0x0f) === 8 && (first * 256 + second) % 31 === 0;
}

describe('the test vector of PROTOCOL.md', () => {
  const expected: Heartbeat = {
    host: 'web1',
    ts: 1764080000.123,
    seq: 42,
    every: 30,
    status: 'ok',
    msg: 'disk 71% full',
    fields: { load: '0.42' },
    signature: { hex: VECTOR_SIG, signedText: VECTOR_SIGNED_TEXT },
    compressed: false,
  };

  it('decodes the plain text to exactly its fields, and verifies with the secret', () => {
    const hb = decoded(VECTOR_TEXT);
    expect(hb).toStrictEqual(expected);
    expect(verifySignature(hb.signature!, VECTOR_SECRET)).toBe(true);
  });

  it('decodes the zlib form to the same fields, and verifies with the secret', () => {
    const hb = decoded(Buffer.from(VECTOR_ZLIB_BASE64, 'base64'));
    expect(hb).toStrictEqual({ ...expected, compressed: true });
    expect(verifySignature(hb.signature!, VECTOR_SECRET)).toBe(true);
  });

  it('does not verify with another secret', () => {
    expect(verifySignature(decoded(VECTOR_TEXT).signature!, 'correct horse battery stapler')).toBe(false);
  });
});

describe('the minimal heartbeat', () => {
  it('reads `web1\\n` (echo web1 | nc -u) as host web1, status ok, nothing else', () => {
    expect(decoded('web1\n')).toStrictEqual({ host: 'web1', status: 'ok', fields: {}, compressed: false });
  });

  it('reads host=web1 the same way', () => {
    expect(decoded('host=web1')).toStrictEqual(decoded('web1'));
  });

  it('lower-cases the host name', () => {
    expect(decoded('host=WEB1.Example.COM').host).toBe('web1.example.com');
    expect(decoded('WEB1').host).toBe('web1');
  });
});

describe('every drop reason of the decoder, with a minimal example', () => {
  it.each<[DropReason, string | Uint8Array]>([
    ['size', Buffer.alloc(8193, 0x20)],
    ['inflate', deflateSync(Buffer.alloc(1 << 20))],
    ['utf8', Buffer.from([0x68, 0x6f, 0x73, 0x74, 0x3d, 0xff])],
    ['syntax', 'host=web1 host=web2'],
    ['host', 'status=ok'],
    ['field', 'host=web1 every=abc'],
    ['auth', 'host=web1 ts=1 sig=XYZ'],
  ])('%s', (reason, datagram) => {
    expect(dropped(datagram).reason).toBe(reason);
  });

  it('names the problem in the detail', () => {
    expect(dropped('host=web1 every=abc').detail).toBe('key "every": expected a number > 0, got "abc"');
  });
});

/** A valid heartbeat text of exactly `total` bytes: host=web1 and extra fields of up to 256 characters. */
function textOf(total: number): string {
  let text = 'host=web1';
  for (let i = 10; text.length < total; i++) {
    const field = ` f${i}=`;
    text += `${field}${'x'.repeat(Math.min(256, total - text.length - field.length))}`;
  }
  return text;
}

describe('size', () => {
  it('reads a datagram of exactly 8192 bytes, drops one of 8193', () => {
    expect(textOf(8192)).toHaveLength(8192);
    expect(Object.keys(decoded(textOf(8192)).fields)).toHaveLength(32);
    expect(dropped(textOf(8193))).toEqual({ reason: 'size', detail: expect.stringContaining('8193 bytes') });
  });
});

describe('zlib detection', () => {
  it('reads a text that starts with bytes that look like a zlib header, but do not inflate, as text', () => {
    const text = 'hb=1 host=web1';
    expect(hasZlibHeader(Buffer.from(text))).toBe(true);
    expect(decoded(text)).toMatchObject({ host: 'web1', fields: { hb: '1' }, compressed: false });
  });

  it('reads a zlib stream followed by other bytes as text (it does not inflate cleanly)', () => {
    const datagram = Buffer.concat([deflateSync('host=web1'), Buffer.from(' x')]);
    expect(hasZlibHeader(datagram)).toBe(true);
    expect(dropped(datagram).reason).toBe('utf8');
  });

  it('reads a truncated zlib stream as text', () => {
    expect(dropped(deflateSync('host=web1 msg=hello').subarray(0, -3)).reason).toBe('utf8');
  });

  it('inflates at every compression level and marks the heartbeat compressed', () => {
    for (const level of [0, 1, 6, 9]) {
      expect(decoded(deflateSync('host=web1 seq=7', { level }))).toMatchObject({ seq: 7, compressed: true });
    }
  });

  it('accepts a payload that inflates to exactly 8192 bytes, drops one of 8193 and a zip bomb', () => {
    expect(Object.keys(decoded(deflateSync(textOf(8192))).fields)).toHaveLength(32);
    expect(dropped(deflateSync(textOf(8193))).reason).toBe('inflate');
    const bomb = deflateSync(Buffer.alloc(8 << 20), { level: 9 });
    expect(bomb.length).toBeLessThan(8192);
    expect(dropped(bomb)).toEqual({
      reason: 'inflate',
      detail: 'compressed payload inflates past 8192 bytes',
    });
  });

  it('reads a stream that needs a preset dictionary as text', () => {
    const withDictionary = deflateSync('host=web1', { dictionary: Buffer.from('host=') });
    expect(hasZlibHeader(withDictionary)).toBe(true);
    expect(dropped(withDictionary).reason).toBe('utf8');
  });

  it('inflates correctly after every kind of failure (the inflater is reused)', () => {
    const valid = deflateSync('host=web1 seq=1');
    const failures = [
      deflateSync(Buffer.alloc(1 << 20)),
      Buffer.concat([valid, Buffer.from(' x')]),
      valid.subarray(0, -3),
      Buffer.from([0x78, 0x9c, 0xff, 0xff, 0xff]),
    ];
    for (const failure of failures) {
      decodeDatagram(failure);
      expect(decoded(valid)).toMatchObject({ host: 'web1', seq: 1, compressed: true });
    }
  });

  it('checks the inflated text like any other', () => {
    expect(dropped(deflateSync(Buffer.from([0xc3, 0x28]))).reason).toBe('utf8');
    expect(dropped(deflateSync('host=web1 host=web2')).reason).toBe('syntax');
  });
});

describe('UTF-8', () => {
  it.each([
    ['a lone continuation byte', [0x80]],
    ['an overlong encoding', [0xc0, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a truncated sequence', [0xe2, 0x82]],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ])('drops %s', (_, bytes) => {
    expect(dropped(Buffer.concat([Buffer.from('host=web1 msg='), Buffer.from(bytes)])).reason).toBe('utf8');
  });

  it('keeps multi-byte characters', () => {
    expect(decoded('host=web1 msg="né ✓ 🔥"').msg).toBe('né ✓ 🔥');
  });

  it('does not drop a leading BOM silently: it is part of the text, so the first key is invalid', () => {
    expect(dropped(Buffer.from('\ufeffhost=web1')).reason).toBe('syntax');
  });
});

describe('host', () => {
  it.each([
    ['no host field', 'seq=1'],
    ['an empty datagram', ''],
    ['only whitespace', ' \n'],
    ['an empty host', 'host='],
    ['an invalid host', 'host=web_1'],
    ['a trailing-hyphen host', 'host=web1-'],
    ['a lone invalid word', '!!!'],
    ['a 254-character host', `host=${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`],
  ])('drops %s', (_, text) => {
    expect(dropped(text).reason).toBe('host');
  });
});

describe('known fields', () => {
  it.each([
    ['ts', 'ts=1764080000', { ts: 1764080000 }],
    ['ts with 1 decimal', 'ts=1764080000.5', { ts: 1764080000.5 }],
    ['ts with 3 decimals', 'ts=1764080000.123', { ts: 1764080000.123 }],
    ['seq', 'seq=0', { seq: 0 }],
    ['the largest safe seq', 'seq=9007199254740991', { seq: 9007199254740991 }],
    // Past 2^53 - 1, modulo 2^53: consecutive values keep their exact difference.
    ['a seq of 2^53', 'seq=9007199254740992', { seq: 0 }],
    ['the largest 64-bit seq', 'seq=18446744073709551615', { seq: 2 ** 53 - 1 }],
    ['a seq just before it', 'seq=18446744073709551614', { seq: 2 ** 53 - 2 }],
    ['a seq with leading zeros', 'seq=0042', { seq: 42 }],
    ['every', 'every=30', { every: 30 }],
    ['a fractional every', 'every=0.25', { every: 0.25 }],
    ['every without a leading digit', 'every=.5', { every: 0.5 }],
    ['every with a trailing dot', 'every=5.', { every: 5 }],
    ['every with an exponent', 'every=3e1', { every: 30 }],
    ['every as Python prints a small float', 'every=1e-05', { every: 0.00001 }],
    ['every with a signed upper-case exponent', 'every=2.5E+1', { every: 25 }],
    ['status warn', 'status=warn', { status: 'warn' }],
    ['status fail', 'status=fail', { status: 'fail' }],
    ['status bye', 'status=bye', { status: 'bye' }],
    ['an empty msg', 'msg=""', { msg: '' }],
    ['ip4', 'ip4=192.0.2.7', { ip4: '192.0.2.7' }],
    ['ip6', 'ip6=2001:db8::7', { ip6: '2001:db8::7' }],
    ['an IPv4-mapped ip6', 'ip6=::ffff:192.0.2.7', { ip6: '::ffff:192.0.2.7' }],
    ['key', 'key=2025-rotation_b', { keyId: '2025-rotation_b' }],
  ])('reads %s', (_, field, expected) => {
    expect(decoded(`host=web1 ${field}`)).toMatchObject(expected);
  });

  it.each([
    ['ts with 4 decimals', 'ts=1764080000.1234'],
    ['a negative ts', 'ts=-1'],
    ['ts with an exponent', 'ts=1e9'],
    ['ts with a trailing dot', 'ts=1764080000.'],
    ['an empty ts', 'ts='],
    ['an infinite ts', `ts=${'9'.repeat(400)}`],
    ['a fractional seq', 'seq=1.5'],
    ['a negative seq', 'seq=-1'],
    ['an empty seq', 'seq='],
    ['a seq with an exponent', 'seq=1e3'],
    ['every=0', 'every=0'],
    ['every=0.000', 'every=0.000'],
    ['a negative every', 'every=-5'],
    ['every=abc', 'every=abc'],
    ['every with a sign', 'every=+5'],
    ['a bare dot for every', 'every=.'],
    ['an exponent without digits', 'every=1e'],
    ['every in hex', 'every=0x10'],
    ['every=Infinity', 'every=Infinity'],
    ['an infinite every', 'every=1e400'],
    ['every=0e5', 'every=0e5'],
    ['an unknown status', 'status=down'],
    ['an upper-case status', 'status=OK'],
    ['an empty status', 'status='],
    ['a bad ip4', 'ip4=256.1.1.1'],
    ['an ip6 in ip4', 'ip4=::1'],
    ['a bad ip6', 'ip6=2001:db8::g'],
    ['an ip4 in ip6', 'ip6=192.0.2.7'],
    ['a scoped ip6', 'ip6=fe80::1%eth0'],
    ['an empty key id', 'key='],
    ['a key id with a space', 'key="a b"'],
    ['a key id with a control char', 'key=a\u0001'],
    ['a 65-character key id', `key=${'k'.repeat(65)}`],
  ])('drops %s', (_, field) => {
    expect(dropped(`host=web1 ${field}`).reason).toBe('field');
  });

  it('accepts a msg of 1024 characters, drops 1025', () => {
    expect(decoded(`host=web1 msg=${'m'.repeat(1024)}`).msg).toHaveLength(1024);
    expect(dropped(`host=web1 msg=${'m'.repeat(1025)}`).reason).toBe('field');
  });

  it('counts msg in characters (code points), not bytes or UTF-16 units', () => {
    expect(decoded(`host=web1 msg=${'🔥'.repeat(1024)}`).msg).toHaveLength(2048);
    expect(dropped(`host=web1 msg=${'🔥'.repeat(1025)}`).reason).toBe('field');
    expect(decoded(`host=web1 msg=${'é'.repeat(1024)}`).msg).toBe('é'.repeat(1024));
  });
});

describe('extra fields', () => {
  const extras = (count: number) => Array.from({ length: count }, (_, i) => `x${i}=${i}`).join(' ');

  it('keeps other keys as strings', () => {
    expect(decoded('host=web1 load=0.42 rack=r7 empty=').fields).toEqual({
      load: '0.42',
      rack: 'r7',
      empty: '',
    });
  });

  it('reads a value of 256 characters (code points, not bytes), drops one of 257', () => {
    expect(decoded(`host=web1 note=${'x'.repeat(256)}`).fields.note).toHaveLength(256);
    expect(decoded(`host=web1 note=${'😀'.repeat(256)}`).fields.note).toBe('😀'.repeat(256));
    expect(dropped(`host=web1 note=${'x'.repeat(257)}`)).toEqual({
      reason: 'field',
      detail: 'key "note": longer than 256 characters',
    });
    expect(dropped(`host=web1 note="${'\\n'.repeat(257)}"`).reason).toBe('field');
  });

  it('accepts 32 extra fields, drops 33', () => {
    expect(Object.keys(decoded(`host=web1 ${extras(32)}`).fields)).toHaveLength(32);
    expect(dropped(`host=web1 ${extras(33)}`)).toEqual({
      reason: 'field',
      detail: 'more than 32 extra fields',
    });
  });

  it('does not count known fields as extra', () => {
    const text = `host=web1 ts=1 seq=1 every=1 status=ok msg=m ip4=192.0.2.1 ip6=::1 key=k ${extras(32)}`;
    expect(Object.keys(decoded(text).fields)).toHaveLength(32);
  });

  it('keeps keys named like Object.prototype members as plain data', () => {
    const hb = decoded('host=web1 constructor=x tostring=y hasownproperty=z valueof=w');
    expect(hb.fields).toEqual({ constructor: 'x', tostring: 'y', hasownproperty: 'z', valueof: 'w' });
    expect(Object.getPrototypeOf(hb.fields)).toBe(Object.prototype);
  });
});

describe('signatures', () => {
  it('takes the signed text as everything before the whitespace that precedes sig=', () => {
    expect(decoded(`host=web1 ts=1  \n sig=${SIG}\n`).signature).toEqual({
      hex: SIG,
      signedText: 'host=web1 ts=1',
    });
  });

  it('drops a sig that is not the last field (syntax)', () => {
    expect(dropped(`host=web1 sig=${SIG} ts=1`).reason).toBe('syntax');
  });

  it.each([
    ['upper-case hex', SIG.toUpperCase()],
    ['63 hex chars', SIG.slice(1)],
    ['65 hex chars', `${SIG}a`],
    ['non-hex chars', `${SIG.slice(1)}g`],
    ['an empty sig', ''],
  ])('drops a sig of %s (auth)', (_, sig) => {
    expect(dropped(`host=web1 ts=1 sig=${sig}`).reason).toBe('auth');
  });

  it('drops a signed heartbeat without ts (ts is required when signed)', () => {
    expect(dropped(`host=web1 sig=${SIG}`)).toEqual({
      reason: 'field',
      detail: 'a signed heartbeat must have "ts"',
    });
  });

  it('reads a signed compressed heartbeat the same, the signed text being the inflated text', () => {
    expect(decoded(deflateSync(`host=web1 ts=1 sig=${SIG}`))).toMatchObject({
      signature: { hex: SIG, signedText: 'host=web1 ts=1' },
      compressed: true,
    });
  });
});

describe('hostile values', () => {
  it('keeps NUL bytes and control characters verbatim', () => {
    const hb = decoded('host=web1 msg="\u0000\u0001\u001b[31mred\u001b[0m\u007f" tag=\u0000\u0008');
    expect(hb.msg).toBe('\u0000\u0001\u001b[31mred\u001b[0m\u007f');
    expect(hb.fields.tag).toBe('\u0000\u0008');
  });

  it('keeps injection-looking strings verbatim', () => {
    const msg = `<script>alert(1)</script> '; DROP TABLE hosts; -- \${process.exit()} {{7*7}} $(reboot)`;
    expect(decoded(`host=web1 msg="${msg}"`).msg).toBe(msg);
  });

  it('quotes hostile input in a detail so it cannot forge a log line', () => {
    const { detail } = dropped('host=web1 every="1\nlevel=error msg=forged"');
    expect(detail).not.toContain('\n');
    expect(detail).toContain('\\n');
  });

  it('cuts long hostile input short in a detail', () => {
    expect(dropped(`host=web1 every=${'x'.repeat(5000)}`).detail.length).toBeLessThan(200);
  });
});

describe('parseHeartbeat', () => {
  it('takes already decoded text and says whether it came compressed', () => {
    expect(parseHeartbeat('host=web1', true)).toEqual({
      ok: true,
      value: { host: 'web1', status: 'ok', fields: {}, compressed: true },
    });
  });
});
