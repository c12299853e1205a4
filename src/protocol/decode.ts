/**
 * Datagram → Heartbeat, per hb/1. Runs once per datagram on the daemon's hot
 * path, and on hostile input, so it never throws and stops at the first problem.
 * Whether a well-formed heartbeat is accepted (signature, skew, replay) is
 * decided later, by whoever knows the keys and the clock.
 */
import { isUtf8 } from 'node:buffer';
import { isIPv4, isIPv6 } from 'node:net';
import { normalizeHostName } from './hostname.js';
import { createInflater, type Inflater } from './inflate.js';
import { parseLogfmt, quoteForMessage } from './logfmt.js';
import { isSignatureHex } from './sign.js';
import {
  type Decoded,
  type DropReason,
  type Heartbeat,
  MAX_DATAGRAM_BYTES,
  MAX_EXTRA_FIELDS,
  MAX_FIELD_VALUE_CHARS,
  MAX_INFLATED_BYTES,
  MAX_MSG_CHARS,
  type Status,
} from './types.js';

const MAX_KEY_ID_CHARS = 64;
const TIMESTAMP = /^\d+(?:\.\d{1,3})?$/;
const UNSIGNED_INTEGER = /^\d+$/;
/** A decimal number as languages print floats: `30`, `0.5`, `.5`, `5.`, `1e3`, `2.5E-1`. */
const DECIMAL = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/**
 * hb/1 puts no bound on `seq`. Past 2^53 a JS number cannot hold every integer, so hbd
 * keeps `seq` modulo 2^53: the difference between two consecutive values, which is all
 * that loss estimation uses, stays exact (a 64-bit counter that starts at random works).
 */
const SEQ_MODULUS = 2n ** 53n;

// ignoreBOM keeps a leading BOM in the text instead of silently dropping it, so
// the text parsed (and signed) is exactly what was sent. Validity is checked with
// isUtf8 first, which answers without throwing (a throw costs 20 times more).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Made on the first compressed datagram, then reused for every one. */
let inflater: Inflater | undefined;

function drop(reason: DropReason, detail: string): Decoded<Heartbeat> {
  return { ok: false, reason, detail };
}

function badField(key: string, expected: string, value: string): Decoded<Heartbeat> {
  return drop('field', `key "${key}": expected ${expected}, got ${quoteForMessage(value)}`);
}

export function decodeDatagram(datagram: Uint8Array): Decoded<Heartbeat> {
  if (datagram.length > MAX_DATAGRAM_BYTES) {
    return drop('size', `datagram of ${datagram.length} bytes is over the ${MAX_DATAGRAM_BYTES}-byte limit`);
  }
  let payload = datagram;
  let compressed = false;
  if (hasZlibHeader(datagram)) {
    inflater ??= createInflater(MAX_INFLATED_BYTES);
    const inflated = inflater(datagram);
    if (inflated === 'too large') {
      return drop('inflate', `compressed payload inflates past ${MAX_INFLATED_BYTES} bytes`);
    }
    if (inflated !== 'not zlib') {
      payload = inflated;
      compressed = true;
    }
  }
  if (!isUtf8(payload)) return drop('utf8', 'payload is not valid UTF-8');
  // Decoded now: an inflated payload lives in the inflater's buffer until its next call.
  return parseHeartbeat(utf8.decode(payload), compressed);
}

/** RFC 1950 header check: compression method 8 (deflate) and a header checksum that is a multiple of 31. */
function hasZlibHeader(datagram: Uint8Array): boolean {
  const first = datagram[0];
  const second = datagram[1];
  if (first === undefined || second === undefined) return false;
  return (first & 0x0f) === 8 && (first * 256 + second) % 31 === 0;
}

/** Validates the text of a datagram (already inflated and decoded) as a hb/1 heartbeat. */
export function parseHeartbeat(text: string, compressed = false): Decoded<Heartbeat> {
  const parsed = parseLogfmt(text);
  if (!parsed.ok) return parsed;
  const { keys, values, signedTextEnd } = parsed.value;

  const hostValue = values[keys.indexOf('host')];
  if (hostValue === undefined) return drop('host', 'no "host" field');
  const host = normalizeHostName(hostValue);
  if (host === undefined) return drop('host', `invalid host name ${quoteForMessage(hostValue)}`);

  // Keys match [a-z][a-z0-9_.-]*, so no key can be "__proto__": a plain object is safe here.
  const heartbeat: Heartbeat = { host, status: 'ok', fields: {}, compressed };
  let extraFields = 0;
  let sig: string | undefined;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const value = values[i]!;
    switch (key) {
      case 'host':
        break;
      case 'sig':
        sig = value;
        break;
      case 'ts': {
        const ts = Number(value);
        if (!TIMESTAMP.test(value) || !Number.isFinite(ts)) {
          return badField(key, 'Unix seconds with at most 3 decimals', value);
        }
        heartbeat.ts = ts;
        break;
      }
      case 'seq': {
        if (!UNSIGNED_INTEGER.test(value)) return badField(key, 'an unsigned integer', value);
        const seq = Number(value);
        heartbeat.seq = Number.isSafeInteger(seq) ? seq : Number(BigInt(value) % SEQ_MODULUS);
        break;
      }
      case 'every': {
        const every = Number(value);
        if (!DECIMAL.test(value) || !(every > 0) || !Number.isFinite(every)) {
          return badField(key, 'a number > 0', value);
        }
        heartbeat.every = every;
        break;
      }
      case 'status':
        if (!isStatus(value)) return badField(key, 'one of ok, warn, fail, bye', value);
        heartbeat.status = value;
        break;
      case 'msg':
        // UTF-16 length bounds the code point count, so most messages skip the count.
        if (value.length > MAX_MSG_CHARS && countCodePoints(value) > MAX_MSG_CHARS) {
          return drop('field', `key "msg": longer than ${MAX_MSG_CHARS} characters`);
        }
        heartbeat.msg = value;
        break;
      case 'ip4':
        if (!isIPv4(value)) return badField(key, 'an IPv4 address', value);
        heartbeat.ip4 = value;
        break;
      case 'ip6':
        // A scoped address (fe80::1%eth0) means nothing off the sender's link, and DNS cannot hold one.
        if (!isIPv6(value) || value.includes('%')) return badField(key, 'an IPv6 address', value);
        heartbeat.ip6 = value;
        break;
      case 'key':
        if (!isValidKeyId(value))
          return badField(key, 'a key id of 1 to 64 printable ASCII characters', value);
        heartbeat.keyId = value;
        break;
      default:
        extraFields++;
        if (extraFields > MAX_EXTRA_FIELDS)
          return drop('field', `more than ${MAX_EXTRA_FIELDS} extra fields`);
        if (value.length > MAX_FIELD_VALUE_CHARS && countCodePoints(value) > MAX_FIELD_VALUE_CHARS) {
          return drop('field', `key "${key}": longer than ${MAX_FIELD_VALUE_CHARS} characters`);
        }
        heartbeat.fields[key] = value;
    }
  }

  if (sig !== undefined) {
    if (heartbeat.ts === undefined) return drop('field', 'a signed heartbeat must have "ts"');
    if (!isSignatureHex(sig)) {
      return drop('auth', `key "sig": expected 64 lowercase hex characters, got ${quoteForMessage(sig)}`);
    }
    heartbeat.signature = { hex: sig, signedText: text.slice(0, signedTextEnd) };
  }
  return { ok: true, value: heartbeat };
}

function isStatus(value: string): value is Status {
  return value === 'ok' || value === 'warn' || value === 'fail' || value === 'bye';
}

/** Code points, not UTF-16 units: a 1024-emoji message is 1024 characters. */
function countCodePoints(value: string): number {
  let count = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    const isHighSurrogate = code >= 0xd800 && code <= 0xdbff;
    if (isHighSurrogate && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}

/** A key id names a secret in the daemon's config and shows in logs, so it stays plain: printable ASCII but `"`. */
function isValidKeyId(value: string): boolean {
  if (value.length === 0 || value.length > MAX_KEY_ID_CHARS) return false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code <= 0x20 || code >= 0x7f || code === 0x22) return false;
  }
  return true;
}
