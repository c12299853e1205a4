import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The shortest push token accepted. Healthchecks.io UUIDs have 36 characters and current Uptime
 * Kuma tokens 32, but older Uptime Kuma releases made 10-character ones, and moving to hbd must
 * not mean re-deploying every script that holds one.
 */
export const MIN_PUSH_TOKEN_CHARS = 10;
export const MIN_PING_KEY_CHARS = 16;

/** What the push endpoints are told about the `push:` hosts and the ping key. */
export interface PushTokenOptions {
  /** Push hosts by lower-cased name, each with the token its pings carry. */
  readonly hosts: Readonly<Record<string, { readonly token: string }>>;
  /** Reaches hosts by name (`/ping/{ping_key}/{host}`); null: off. */
  readonly pingKey: string | null;
}

/**
 * Which host a push token stands for, and whether a string is the ping key.
 *
 * Tokens are looked up by their SHA-256 digest, never compared as given: comparing the strings
 * themselves stops at the first differing character, which would let a caller find a token
 * one character at a time by timing the answers. A digest shares no prefix with its token.
 */
export class PushTokens {
  readonly #hostByDigest = new Map<string, string>();
  readonly #pushHosts: ReadonlySet<string>;
  readonly #pingKeyDigest: Buffer | undefined;

  constructor(options: PushTokenOptions) {
    for (const [host, entry] of Object.entries(options.hosts))
      this.#hostByDigest.set(digestKey(entry.token), host);
    this.#pushHosts = new Set(Object.keys(options.hosts));
    this.#pingKeyDigest = options.pingKey === null ? undefined : digest(options.pingKey);
  }

  get size(): number {
    return this.#hostByDigest.size;
  }

  /** The host whose token this is, or undefined. */
  hostOf(token: string): string | undefined {
    // The minimum lengths are public: refusing shorter strings early tells nothing.
    if (token.length < MIN_PUSH_TOKEN_CHARS || this.#hostByDigest.size === 0) return undefined;
    return this.#hostByDigest.get(digestKey(token));
  }

  isPingKey(candidate: string): boolean {
    if (this.#pingKeyDigest === undefined || candidate.length < MIN_PING_KEY_CHARS) return false;
    return timingSafeEqual(digest(candidate), this.#pingKeyDigest);
  }

  /** Whether `push:` lists this (lower-cased) host name. */
  isPushHost(host: string): boolean {
    return this.#pushHosts.has(host);
  }
}

/** A host's interval and grace overrides, in seconds; what is absent, the defaults decide. */
export interface TimingOverride {
  interval?: number;
  grace?: number;
}

/**
 * The interval and grace of push hosts, from their `push:` entry, over `base` (the `hosts:`
 * overrides): what an entry does not set, `hosts:` or the defaults decide.
 */
export function withPushTiming<Entry extends TimingOverride>(
  push: Readonly<Record<string, Entry>>,
  base: (name: string) => TimingOverride,
): (name: string) => TimingOverride {
  if (Object.keys(push).length === 0) return base;
  return (name) => {
    const host = name.toLowerCase();
    // hasOwn: a host named "constructor" must not find Object.prototype's member.
    const entry = Object.hasOwn(push, host) ? push[host] : undefined;
    const override = base(name);
    if (entry === undefined || (entry.interval === undefined && entry.grace === undefined)) return override;
    return { interval: entry.interval ?? override.interval, grace: entry.grace ?? override.grace };
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function digestKey(text: string): string {
  return createHash('sha256').update(text).digest('base64');
}
