import { isIPv6 } from 'node:net';
import { expandIPv6 } from 'hono/utils/ipaddr';

export interface LoginLimiterOptions {
  /** ms since the epoch. */
  now: () => number;
  /** Failures allowed before the first lockout. */
  freeFailures?: number;
  /** The first lockout; each further failure doubles it. */
  firstLockMs?: number;
  maxLockMs?: number;
  /** Failures this old are forgotten. */
  forgetAfterMs?: number;
  /** Most addresses, and most user names, remembered; the least recently failed go first. */
  maxEntries?: number;
  /** The longest a check for a user name waits because of failures for it from anywhere. */
  maxUserDelayMs?: number;
}

interface Failures {
  count: number;
  last: number;
  lockedUntil: number;
}

/**
 * Slows password guessing. Failed logins are counted per client address and per user name, and
 * from the `freeFailures`th on, each locks that address out for twice as long as the last, up to
 * 15 minutes: one client cannot try many guesses, on one name or on many.
 *
 * A user name is never locked out: whoever fails for `alice` from other addresses would lock the
 * real alice out with one wrong password now and then. Failures for a name from anywhere only
 * make its next checks wait, with the same doubling but for at most `maxUserDelayMs` (3 s), so
 * guesses shared out over many addresses come slower while alice, from her own address, still
 * gets in after at most that wait.
 */
export class LoginLimiter {
  readonly #now: () => number;
  readonly #addresses: FailureCounts;
  readonly #users: FailureCounts;

  constructor(options: LoginLimiterOptions) {
    this.#now = options.now;
    const policy: Policy = {
      freeFailures: options.freeFailures ?? 5,
      firstLockMs: options.firstLockMs ?? 1000,
      maxLockMs: options.maxLockMs ?? 15 * 60_000,
      forgetAfterMs: options.forgetAfterMs ?? 60 * 60_000,
      maxEntries: options.maxEntries ?? 10_000,
    };
    this.#addresses = new FailureCounts(policy);
    this.#users = new FailureCounts({ ...policy, maxLockMs: options.maxUserDelayMs ?? 3000 });
  }

  /** How long this address is still locked out; 0 when it may try a login. */
  lockedForMs(address: string): number {
    return this.#addresses.lockedForMs(clientKey(address), this.#now());
  }

  /** How long a check for this user name waits before it runs: at most `maxUserDelayMs`. */
  delayForMs(user: string): number {
    return this.#users.lockedForMs(user, this.#now());
  }

  failed(address: string, user: string): void {
    const now = this.#now();
    this.#addresses.fail(clientKey(address), now);
    this.#users.fail(user, now);
  }

  /** The address keeps its count: one good password must not buy a client more guesses on other names. */
  succeeded(user: string): void {
    this.#users.reset(user);
  }

  /** Entries remembered, for tests of the bound. */
  get size(): { addresses: number; users: number } {
    return { addresses: this.#addresses.size, users: this.#users.size };
  }
}

interface Policy {
  freeFailures: number;
  firstLockMs: number;
  maxLockMs: number;
  forgetAfterMs: number;
  maxEntries: number;
}

class FailureCounts {
  readonly #policy: Policy;
  /** In order of last failure, oldest first, so the ones to drop are at the front. */
  readonly #entries = new Map<string, Failures>();

  constructor(policy: Policy) {
    this.#policy = policy;
  }

  get size(): number {
    return this.#entries.size;
  }

  lockedForMs(key: string, now: number): number {
    const entry = this.#live(key, now);
    return entry ? Math.max(0, entry.lockedUntil - now) : 0;
  }

  fail(key: string, now: number): void {
    const { freeFailures, firstLockMs, maxLockMs } = this.#policy;
    const entry = this.#live(key, now) ?? { count: 0, last: now, lockedUntil: 0 };
    entry.count++;
    entry.last = now;
    if (entry.count >= freeFailures) {
      const doublings = Math.min(entry.count - freeFailures, 30);
      entry.lockedUntil = now + Math.min(maxLockMs, firstLockMs * 2 ** doublings);
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    this.#trim(now);
  }

  reset(key: string): void {
    this.#entries.delete(key);
  }

  #live(key: string, now: number): Failures | undefined {
    const entry = this.#entries.get(key);
    if (entry && now - entry.last >= this.#policy.forgetAfterMs && now >= entry.lockedUntil) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #trim(now: number): void {
    for (const [key, entry] of this.#entries) {
      const stale = now - entry.last >= this.#policy.forgetAfterMs && now >= entry.lockedUntil;
      if (!stale && this.#entries.size <= this.#policy.maxEntries) return;
      this.#entries.delete(key);
    }
  }
}

/**
 * Whom an address stands for: an IPv6 client usually holds a whole /64, so it counts as one;
 * an IPv4 client reaching a dual-stack socket counts as its IPv4 address.
 */
export function clientKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).split(':').slice(0, 4).join(':')}::/64`;
}
