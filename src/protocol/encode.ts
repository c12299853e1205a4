/**
 * Heartbeat → datagram, per hb/1. The encoder checks its output with the
 * decoder itself, so what it sends is exactly what the daemon accepts.
 */
import { deflateSync } from 'node:zlib';
import { parseHeartbeat } from './decode.js';
import { formatLogfmt, isValidKey, quoteForMessage } from './logfmt.js';
import { signText } from './sign.js';
import { MAX_DATAGRAM_BYTES, MAX_INFLATED_BYTES, type Status } from './types.js';

export interface HeartbeatInput {
  host: string;
  /** Unix seconds; sent with at most 3 decimals. Required when signing. */
  ts?: number;
  seq?: number;
  every?: number;
  status?: Status;
  msg?: string;
  ip4?: string;
  ip6?: string;
  keyId?: string;
  /** Extra fields (labels, metrics), sent after the hb/1 ones in this order. */
  fields?: Record<string, string>;
}

export interface EncodeOptions {
  /** Signs the heartbeat with this shared secret (`sig` is then the last field). */
  secret?: string;
  /** Compresses the text with zlib (level 9). */
  zlib?: boolean;
}

const HB1_KEYS = new Set(['host', 'ts', 'seq', 'every', 'status', 'msg', 'ip4', 'ip6', 'key', 'sig']);

// With the u flag a surrogate pair is one code point, so this matches only an unpaired surrogate,
// which UTF-8 cannot carry: it would arrive as U+FFFD and no longer match what was signed.
const LONE_SURROGATE = /\p{Cs}/u;

/** Builds a hb/1 datagram. Throws an Error saying what is wrong when the heartbeat would not be valid. */
export function encodeHeartbeat(input: HeartbeatInput, options: EncodeOptions = {}): Buffer {
  let text = formatLogfmt(toFields(input));
  if (LONE_SURROGATE.test(text)) throw new Error('invalid heartbeat: text has an unpaired UTF-16 surrogate');
  if (options.secret !== undefined) text += ` sig=${signText(text, options.secret)}`;

  const checked = parseHeartbeat(text);
  if (!checked.ok) throw new Error(`invalid heartbeat: ${checked.detail}`);

  const bytes = Buffer.from(text, 'utf8');
  if (!options.zlib) {
    if (bytes.length > MAX_DATAGRAM_BYTES) {
      throw new Error(`heartbeat is ${bytes.length} bytes, over the ${MAX_DATAGRAM_BYTES}-byte limit`);
    }
    return bytes;
  }
  // Compression saves bandwidth; it never buys a bigger heartbeat.
  if (bytes.length > MAX_INFLATED_BYTES) {
    throw new Error(
      `heartbeat is ${bytes.length} bytes, over the ${MAX_INFLATED_BYTES}-byte limit (compressed or not)`,
    );
  }
  const compressed = deflateSync(bytes, { level: 9 });
  if (compressed.length > MAX_DATAGRAM_BYTES) {
    throw new Error(
      `compressed heartbeat is ${compressed.length} bytes, over the ${MAX_DATAGRAM_BYTES}-byte limit`,
    );
  }
  return compressed;
}

/** The fields in hb/1's stable order: host ts seq every status msg ip4 ip6 key, then the extra ones. */
function toFields(input: HeartbeatInput): Array<[string, string]> {
  const fields: Array<[string, string]> = [['host', input.host.toLowerCase()]];
  if (input.ts !== undefined) fields.push(['ts', formatTimestamp(input.ts)]);
  if (input.seq !== undefined) fields.push(['seq', String(input.seq)]);
  if (input.every !== undefined) fields.push(['every', String(input.every)]);
  if (input.status !== undefined) fields.push(['status', input.status]);
  if (input.msg !== undefined) fields.push(['msg', input.msg]);
  if (input.ip4 !== undefined) fields.push(['ip4', input.ip4]);
  if (input.ip6 !== undefined) fields.push(['ip6', input.ip6]);
  if (input.keyId !== undefined) fields.push(['key', input.keyId]);
  for (const [key, value] of Object.entries(input.fields ?? {})) {
    if (HB1_KEYS.has(key)) throw new Error(`extra field "${key}" is a hb/1 field: set it by its own name`);
    if (!isValidKey(key)) {
      throw new Error(`extra field key ${quoteForMessage(key)} is invalid: keys are [a-z][a-z0-9_.-]{0,63}`);
    }
    fields.push([key, value]);
  }
  return fields;
}

/** At most 3 decimals, trailing zeros dropped: 1764080000.1 → "1764080000.1", 5 → "5". */
function formatTimestamp(ts: number): string {
  const fixed = ts.toFixed(3);
  // toFixed writes numbers >= 1e21 with an exponent; leave those for the decoder to refuse.
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}
