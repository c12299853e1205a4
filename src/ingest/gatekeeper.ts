import type { KeyObject } from 'node:crypto';
import { NetworkList } from '../lib/networks.js';
import { signingKey, verifySignature } from '../protocol/sign.js';
import type { DropReason, Heartbeat } from '../protocol/types.js';

export type AuthMode = 'off' | 'optional' | 'required';

/** A host's secret, or several by key id (for rotating keys without a gap). */
export type KeyEntry = string | Readonly<Record<string, string>>;

export interface GatekeeperOptions {
  auth: AuthMode;
  /** By host name, or `*` for every host without its own. */
  keys: Readonly<Record<string, KeyEntry>>;
  /** Allowed clock skew of a signed heartbeat's `ts`, seconds. */
  maxSkew: number;
  /** Networks (CIDR) whose unsigned heartbeats are accepted; from elsewhere a key is required. */
  unsignedNetworks: readonly string[];
}

export type Admission = { ok: true; signed: boolean } | { ok: false; reason: DropReason; detail: string };

const ACCEPT_SIGNED: Admission = { ok: true, signed: true };
const ACCEPT_UNSIGNED: Admission = { ok: true, signed: false };

/** A host's keys, prepared for verification: by key id, and all of them for heartbeats that name none. */
interface PreparedKeys {
  byId: ReadonlyMap<string, KeyObject> | undefined;
  all: readonly KeyObject[];
}

/**
 * Decides whether a well-formed heartbeat may change state: signature, clock skew,
 * replay and source network. A host that has a key (its own or `*`) is accepted only
 * signed; `required` accepts only signed heartbeats; `off` ignores signatures (every
 * heartbeat counts as unsigned). An unsigned heartbeat is accepted only from
 * `unsignedNetworks`, whatever `auth` says: outside them, nothing unsigned creates or
 * moves a host.
 */
export class Gatekeeper {
  readonly #auth: AuthMode;
  readonly #maxSkew: number;
  readonly #keys: ReadonlyMap<string, PreparedKeys>;
  readonly #everyHost: PreparedKeys | undefined;
  readonly #unsignedNetworks: NetworkList;

  constructor(options: GatekeeperOptions) {
    this.#auth = options.auth;
    this.#maxSkew = options.maxSkew;
    this.#keys = new Map(Object.entries(options.keys).map(([host, entry]) => [host, prepare(entry)]));
    this.#everyHost = this.#keys.get('*');
    this.#unsignedNetworks = new NetworkList(options.unsignedNetworks);
  }

  /**
   * `lastTs`: the `ts` of this host's last accepted signed heartbeat, if any.
   * `nowSeconds`: the receiver's wall clock. `source`: the datagram's source address.
   */
  admit(hb: Heartbeat, lastTs: number | undefined, nowSeconds: number, source: string): Admission {
    const auth = this.#auth;
    const maxSkew = this.#maxSkew;
    if (auth === 'off') return this.#unsigned(source, 'unsigned', ' (auth is off: no signature counts)');
    const entry = this.#keys.get(hb.host) ?? this.#everyHost;
    if (hb.signature === undefined) {
      if (!mustSign(auth, entry !== undefined)) return this.#unsigned(source, 'unsigned', '');
      return entry !== undefined
        ? reject('unsigned', `host "${hb.host}" has a key: heartbeats must be signed`)
        : reject('unsigned', 'auth is required: heartbeats must be signed');
    }
    if (entry === undefined) {
      if (auth === 'required') return reject('auth', `no key is configured for host "${hb.host}"`);
      // Signed, but hbd has nothing to check it with: it counts as unsigned, as auth allows.
      return this.#unsigned(
        source,
        'auth',
        ` (there is no key for host "${hb.host}" to check its signature)`,
      );
    }
    if (!verifiesWith(entry, hb)) {
      const unknownId = hb.keyId !== undefined && entry.byId !== undefined && !entry.byId.has(hb.keyId);
      return unknownId
        ? reject('auth', `unknown key id "${hb.keyId}" for host "${hb.host}"`)
        : reject('auth', `bad signature for host "${hb.host}"`);
    }
    // The decoder refuses a signed heartbeat without ts; this guards callers that build their own.
    if (hb.ts === undefined) return reject('auth', 'a signed heartbeat must carry ts');
    if (Math.abs(hb.ts - nowSeconds) > maxSkew) {
      return reject('skew', `ts ${hb.ts} is ${Math.round(hb.ts - nowSeconds)} s off (allowed: ${maxSkew} s)`);
    }
    if (lastTs !== undefined && hb.ts <= lastTs) {
      return reject('replay', `ts ${hb.ts} is not after the last accepted ${lastTs}`);
    }
    return ACCEPT_SIGNED;
  }

  /** Accepts a heartbeat as unsigned if its source may send unsigned ones. */
  #unsigned(source: string, reason: DropReason, why: string): Admission {
    if (this.#unsignedNetworks.has(source)) return ACCEPT_UNSIGNED;
    return reject(reason, `from ${source}: a key is required outside unsigned_networks${why}`);
  }
}

/**
 * Whether the heartbeats of `host` must be signed to be accepted: never with `auth: off` (no
 * signature counts), always when the host has a key (its own or `*`) or `auth` is `required`.
 * The one statement of the rule: the gatekeeper applies it, and HTTP pings (which cannot be
 * signed) are refused for such hosts.
 */
export function needsSignature(options: Pick<GatekeeperOptions, 'auth' | 'keys'>, host: string): boolean {
  return mustSign(options.auth, Object.hasOwn(options.keys, host) || Object.hasOwn(options.keys, '*'));
}

function mustSign(auth: AuthMode, hasKey: boolean): boolean {
  return auth !== 'off' && (hasKey || auth === 'required');
}

function prepare(entry: KeyEntry): PreparedKeys {
  if (typeof entry === 'string') return { byId: undefined, all: [signingKey(entry)] };
  const byId = new Map(Object.entries(entry).map(([id, secret]) => [id, signingKey(secret)]));
  return { byId, all: [...byId.values()] };
}

/** A single secret matches whatever key id is named; with several, the id picks one (or each is tried). */
function verifiesWith(keys: PreparedKeys, hb: Heartbeat): boolean {
  const signature = hb.signature!;
  if (keys.byId !== undefined && hb.keyId !== undefined) {
    const key = keys.byId.get(hb.keyId);
    return key !== undefined && verifySignature(signature, key);
  }
  for (const key of keys.all) if (verifySignature(signature, key)) return true;
  return false;
}

function reject(reason: DropReason, detail: string): Admission {
  return { ok: false, reason, detail };
}
