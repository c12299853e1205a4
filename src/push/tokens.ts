import { createHash, timingSafeEqual } from 'node:crypto';
import type { HostPolicy } from '../config/host-policy.js';
import { MIN_PING_KEY_CHARS, MIN_PUSH_TOKEN_CHARS } from '../config/push-schema.js';
import type { Config } from '../config/schema.js';

export type PushConfig = Pick<Config, 'push' | 'push_ping_key'>;

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

  constructor(config: PushConfig) {
    for (const [host, entry] of Object.entries(config.push))
      this.#hostByDigest.set(digestKey(entry.token), host);
    this.#pushHosts = new Set(Object.keys(config.push));
    this.#pingKeyDigest = config.push_ping_key === null ? undefined : digest(config.push_ping_key);
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

/**
 * The interval and grace of push hosts, from their `push:` entry, over `base` (the `hosts:`
 * overrides): what an entry does not set, `hosts:` or the defaults decide.
 */
export function withPushTiming(push: PushConfig['push'], base: HostPolicy): HostPolicy {
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
