import { verifySignature } from '../protocol/sign.js';
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
}

export type Admission = { ok: true; signed: boolean } | { ok: false; reason: DropReason; detail: string };

const ACCEPT_SIGNED: Admission = { ok: true, signed: true };
const ACCEPT_UNSIGNED: Admission = { ok: true, signed: false };

/**
 * Decides whether a well-formed heartbeat may change state: signature, clock skew
 * and replay. A host that has a key (its own or `*`) is accepted only signed;
 * `required` accepts only signed heartbeats; `off` ignores signatures.
 */
export class Gatekeeper {
  readonly #options: GatekeeperOptions;

  constructor(options: GatekeeperOptions) {
    this.#options = options;
  }

  /**
   * `lastTs`: the `ts` of this host's last accepted signed heartbeat, if any.
   * `nowSeconds`: the receiver's wall clock.
   */
  admit(hb: Heartbeat, lastTs: number | undefined, nowSeconds: number): Admission {
    const { auth, keys, maxSkew } = this.#options;
    if (auth === 'off') return ACCEPT_UNSIGNED;
    const entry = keys[hb.host] ?? keys['*'];
    if (hb.signature === undefined) {
      if (entry !== undefined)
        return reject('unsigned', `host "${hb.host}" has a key: heartbeats must be signed`);
      if (auth === 'required') return reject('unsigned', 'auth is required: heartbeats must be signed');
      return ACCEPT_UNSIGNED;
    }
    if (entry === undefined) {
      if (auth === 'required') return reject('auth', `no key is configured for host "${hb.host}"`);
      // Signed, but hbd has nothing to check it with: it counts as unsigned, as auth allows.
      return ACCEPT_UNSIGNED;
    }
    const secrets = secretsFor(entry, hb.keyId);
    if (secrets === undefined) return reject('auth', `unknown key id "${hb.keyId}" for host "${hb.host}"`);
    if (!secrets.some((secret) => verifySignature(hb.signature!, secret))) {
      return reject('auth', `bad signature for host "${hb.host}"`);
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
}

function secretsFor(entry: KeyEntry, keyId: string | undefined): readonly string[] | undefined {
  if (typeof entry === 'string') return [entry];
  if (keyId === undefined) return Object.values(entry);
  const secret = entry[keyId];
  return secret === undefined ? undefined : [secret];
}

function reject(reason: DropReason, detail: string): Admission {
  return { ok: false, reason, detail };
}
