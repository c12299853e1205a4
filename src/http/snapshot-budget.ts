import { clientKey } from '../auth/login-limiter.js';

export interface SnapshotBudgetOptions {
  /** Read on every call, so that a reload applies at once. */
  perMinute: () => number;
  /** ms; monotonic is best. */
  now: () => number;
  /** Most addresses remembered; the least recently seen go first (and start again with a full budget). */
  maxEntries?: number;
}

/**
 * A fleet smaller than this is charged as if it had this many hosts: reading a small fleet costs
 * little, and a dashboard, a script or a test that polls a few hosts is never held up.
 */
export const SMALL_FLEET = 1000;

interface Bucket {
  /** Snapshots still allowed, refilled continuously at `perMinute` a minute. */
  tokens: number;
  at: number;
}

/**
 * How many snapshots each client address may take: `/ws` connections and `/api/hosts` reads
 * share one budget of `perMinute` snapshots a minute (a token bucket that holds at most that
 * many). A read is charged by the hosts it serves: the whole fleet is one snapshot, a page or a
 * filtered answer its share of one, so paging through the fleet costs what reading it at once does.
 */
export class SnapshotBudget {
  readonly #perMinute: () => number;
  readonly #now: () => number;
  readonly #maxEntries: number;
  /** In order of last use, oldest first, so the ones to drop are at the front. */
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: SnapshotBudgetOptions) {
    this.#perMinute = options.perMinute;
    this.#now = options.now;
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  /** What serving `hosts` hosts out of a fleet of `fleetSize` costs, in snapshots (at most 1). */
  static cost(hosts: number, fleetSize: number): number {
    return Math.min(hosts, fleetSize) / Math.max(fleetSize, SMALL_FLEET);
  }

  /**
   * Charges `cost` snapshots to the address. Returns 0 when granted, else the whole seconds to
   * wait before the same request would be (nothing is charged then).
   */
  take(address: string, cost: number): number {
    const perMinute = this.#perMinute();
    const now = this.#now();
    const key = clientKey(address);
    const known = this.#buckets.get(key);
    const refilled = known ? (now - known.at) * (perMinute / 60_000) : perMinute;
    const tokens = Math.min(perMinute, (known?.tokens ?? 0) + refilled);
    if (tokens < cost) return Math.max(1, Math.ceil(((cost - tokens) * 60) / perMinute));
    this.#buckets.delete(key);
    this.#buckets.set(key, { tokens: tokens - cost, at: now });
    this.#trim(now, perMinute);
    return 0;
  }

  /** Addresses remembered, for tests of the bound. */
  get size(): number {
    return this.#buckets.size;
  }

  #trim(now: number, perMinute: number): void {
    for (const [key, bucket] of this.#buckets) {
      // A bucket that has filled up again says no more than a new one would.
      const full = bucket.tokens + (now - bucket.at) * (perMinute / 60_000) >= perMinute;
      if (!full && this.#buckets.size <= this.#maxEntries) return;
      this.#buckets.delete(key);
    }
  }
}
