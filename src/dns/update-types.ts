/** Shared by both update methods (native RFC 2136 and the nsupdate binary). */

export interface RecordChange {
  name: string;
  type: 'A' | 'AAAA';
  /** null: delete all records of that type at the name */
  address: string | null;
  ttl: number;
}

/** One UPDATE message per zone; its changes are applied atomically by the server. */
export interface UpdateRequest {
  zone: string;
  changes: readonly RecordChange[];
}

export interface DnsServer {
  host: string;
  port: number;
}

export const TSIG_ALGORITHMS = [
  'hmac-sha256',
  'hmac-sha512',
  'hmac-sha384',
  'hmac-sha224',
  'hmac-sha1',
  'hmac-md5',
] as const;
export type TsigAlgorithm = (typeof TSIG_ALGORITHMS)[number];

export interface TsigKey {
  name: string;
  algorithm: TsigAlgorithm;
  /** base64 */
  secret: string;
}

export type DnsUpdateErrorCode =
  | 'TIMEOUT'
  | 'NETWORK'
  | 'REFUSED'
  | 'NOTAUTH'
  | 'NOTZONE'
  | 'SERVFAIL'
  | 'FORMERR'
  | 'BADSIG'
  | 'BADKEY'
  | 'BADTIME'
  | 'YXDOMAIN'
  | 'NXRRSET'
  | 'OTHER'
  | 'BADRESPONSE';

/**
 * `retryable` answers "can the very same request succeed later without a config change?".
 * Every update we send replaces whole RRsets, so resending is always safe; the daemon may still
 * retry non-retryable errors with a long backoff, but should surface them as configuration problems.
 *
 * - TIMEOUT, NETWORK, SERVFAIL: transient by nature.
 * - BADTIME: clock skew; NTP may fix it, and a delayed packet can trigger it.
 * - BADRESPONSE: a garbled, mismatched or unsigned reply (possibly forged over UDP); the next try
 *   can get a clean one.
 * - REFUSED: BIND's answer when the update policy does not allow us; retrying does not change policy.
 * - BADSIG, BADKEY, NOTAUTH: wrong secret, unknown key name or a server not authoritative for the
 *   zone: all configuration.
 * - FORMERR, NOTZONE, YXDOMAIN, NXRRSET, OTHER: the request itself is wrong (or we validated it away).
 */
const RETRYABLE: Readonly<Record<DnsUpdateErrorCode, boolean>> = {
  TIMEOUT: true,
  NETWORK: true,
  SERVFAIL: true,
  BADTIME: true,
  BADRESPONSE: true,
  REFUSED: false,
  NOTAUTH: false,
  NOTZONE: false,
  FORMERR: false,
  BADSIG: false,
  BADKEY: false,
  YXDOMAIN: false,
  NXRRSET: false,
  OTHER: false,
};

export function isRetryable(code: DnsUpdateErrorCode): boolean {
  return RETRYABLE[code];
}

export interface DnsUpdateErrorOptions {
  retryable?: boolean;
  rcode?: number;
  cause?: unknown;
}

export class DnsUpdateError extends Error {
  readonly code: DnsUpdateErrorCode;
  readonly retryable: boolean;
  readonly rcode?: number;

  constructor(code: DnsUpdateErrorCode, message: string, options: DnsUpdateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DnsUpdateError';
    this.code = code;
    this.retryable = options.retryable ?? isRetryable(code);
    if (options.rcode !== undefined) this.rcode = options.rcode;
  }
}

export interface DnsUpdater {
  /** The updater's name, as in `dns.method`. */
  readonly method: string;
  /** Rejects with DnsUpdateError, or with `signal.reason` when aborted. */
  update(request: UpdateRequest, signal?: AbortSignal): Promise<void>;
  close?(): Promise<void>;
}
