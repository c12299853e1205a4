/**
 * The hb/1 vocabulary shared by the decoder, the sender and the daemon.
 * See docs/protocol.md (and the contract it follows) for the wire format.
 */

/** Why a datagram was dropped. Every reason is a label of `hbd_datagrams_dropped_total`. */
export const DROP_REASONS = [
  'size', // datagram over 8192 bytes
  'inflate', // zlib payload that inflates past 8192 bytes
  'utf8', // payload is not valid UTF-8
  'syntax', // not logfmt, bad key, duplicate key, `sig` not last
  'host', // missing or invalid host name
  'field', // a known field with a bad value, too many extra fields, or one too long
  'unsigned', // a signature is required for this host and there is none
  'auth', // bad signature, or no key to check it with
  'skew', // `ts` outside the allowed clock skew
  'replay', // `ts` not after the last accepted one of this host
  'limit', // past a bound on what heartbeats may make hbd keep (hosts, new hosts a minute, bytes a host)
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export const STATUSES = ['ok', 'warn', 'fail', 'bye'] as const;
export type Status = (typeof STATUSES)[number];

export const MAX_DATAGRAM_BYTES = 8192;
/** Compression saves bandwidth; it never buys a bigger heartbeat. */
export const MAX_INFLATED_BYTES = 8192;
export const MAX_MSG_CHARS = 1024;
export const MAX_EXTRA_FIELDS = 32;
/** Characters (code points) of an extra field's value. */
export const MAX_FIELD_VALUE_CHARS = 256;

/** A heartbeat that is well-formed. Whether it may be accepted (signature, skew, replay) is decided later. */
export interface Heartbeat {
  /** Lower-cased DNS host name. */
  host: string;
  /** Sender's clock, Unix seconds (up to 3 decimals). */
  ts?: number;
  seq?: number;
  /** Sender's interval in seconds. */
  every?: number;
  status: Status;
  msg?: string;
  ip4?: string;
  ip6?: string;
  /** Id of the key that signed it (`key=`). */
  keyId?: string;
  signature?: Signature;
  /** Every other key: labels and metrics of the host, values kept as strings. */
  fields: Record<string, string>;
  /** Whether the datagram was zlib-compressed. */
  compressed: boolean;
}

export interface Signature {
  /** Lowercase hex HMAC-SHA256 as sent. */
  hex: string;
  /** The exact text that was signed: everything before the whitespace that precedes `sig=`. */
  signedText: string;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: DropReason; detail: string };
