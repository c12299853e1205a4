import { MAX_DURATION_MS } from '../lib/duration.js';
import { checkHostPattern, hostMatcher } from '../lib/host-pattern.js';
import type { Silence } from '../model/silence.js';
import type { SilenceStore } from '../store/silence-store.js';

export interface SilencesOptions {
  store: SilenceStore;
  /** Wall time, ms: silences end at a wall time, which must mean the same after a restart. */
  now: () => number;
  /**
   * Deleting expired rows failed. Nothing is unmuted or muted by it (reads skip expired rows),
   * and the delete is tried again a second later.
   */
  onPruneError?: (error: unknown) => void;
}

export interface NewSilence {
  /** A host name or a glob with `*` and `?`; lower-cased here. */
  pattern: string;
  durationMs: number;
  reason?: string | null;
}

export const MAX_REASON_LENGTH = 500;
const PRUNE_INTERVAL_MS = 1000;

interface ActiveSilence {
  silence: Readonly<Silence>;
  covers: (host: string) => boolean;
}

/**
 * The silences in force, kept in memory with their patterns compiled, because the
 * notification path asks about every message; the store only keeps them across restarts.
 */
export class Silences {
  readonly #store: SilenceStore;
  readonly #now: () => number;
  readonly #onPruneError: (error: unknown) => void;
  /** Soonest expiry first, so expired ones are always at the front. */
  #active: ActiveSilence[];
  #lastPruneAt: number;
  #storeHasExpired = false;

  constructor(options: SilencesOptions) {
    this.#store = options.store;
    this.#now = options.now;
    this.#onPruneError = options.onPruneError ?? (() => {});
    const now = this.#now();
    this.#lastPruneAt = now;
    this.#active = this.#store.active(now).map(compile);
    // Rows that expired while hbd was stopped would otherwise stay until the next expiry.
    this.#pruneStore(now);
  }

  /**
   * The silence that mutes `host` at `at` (default now), or undefined. When several do,
   * the one that lasts longest, since that is when the host can be heard again. Silences
   * that expired before now are forgotten, so an `at` in the past sees only those still in force.
   */
  matching(host: string, at: number = this.#now()): Silence | undefined {
    this.#pruneIfDue();
    for (let i = this.#active.length - 1; i >= 0; i--) {
      const entry = this.#active[i]!;
      if (entry.silence.until <= at) break;
      if (entry.covers(host)) return entry.silence;
    }
    return undefined;
  }

  /** Validates and stores a new silence; throws a RangeError that names the bad field. */
  add(request: NewSilence): Silence {
    const pattern = checkHostPattern(request.pattern);
    const reason = checkReason(request.reason);
    const { durationMs } = request;
    if (!Number.isFinite(durationMs) || durationMs <= 0 || durationMs > MAX_DURATION_MS) {
      throw new RangeError(`duration: expected more than zero and at most 366 days, got ${durationMs} ms`);
    }
    const now = this.#now();
    const entry = compile(this.#store.add({ pattern, until: now + durationMs, reason, createdAt: now }));
    const later = this.#active.findIndex((other) => other.silence.until > entry.silence.until);
    this.#active.splice(later < 0 ? this.#active.length : later, 0, entry);
    return entry.silence;
  }

  /** False when there is no such silence. */
  remove(id: number): boolean {
    const removed = this.#store.remove(id);
    this.#active = this.#active.filter((entry) => entry.silence.id !== id);
    return removed;
  }

  /** The silences in force now, soonest expiry first. */
  list(): Silence[] {
    const now = this.#now();
    this.#pruneIfDue();
    return this.#active.filter((entry) => entry.silence.until > now).map((entry) => entry.silence);
  }

  #pruneIfDue(): void {
    const now = this.#now();
    // A wall clock stepped back counts as due too, or pruning would wait for it to catch up.
    if (Math.abs(now - this.#lastPruneAt) < PRUNE_INTERVAL_MS) return;
    this.#lastPruneAt = now;
    let expired = 0;
    while (expired < this.#active.length && this.#active[expired]!.silence.until <= now) expired++;
    if (expired > 0) {
      this.#active.splice(0, expired);
      this.#storeHasExpired = true;
    }
    if (this.#storeHasExpired) this.#pruneStore(now);
  }

  #pruneStore(now: number): void {
    try {
      this.#store.pruneExpired(now);
      this.#storeHasExpired = false;
    } catch (error) {
      this.#storeHasExpired = true;
      this.#onPruneError(error);
    }
  }
}

function compile(silence: Silence): ActiveSilence {
  return { silence: Object.freeze({ ...silence }), covers: hostMatcher(silence.pattern) };
}

/** Blank means no reason. */
function checkReason(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new RangeError('reason: expected text');
  const reason = value.trim();
  if (reason.length > MAX_REASON_LENGTH) {
    throw new RangeError(`reason: expected at most ${MAX_REASON_LENGTH} characters, got ${reason.length}`);
  }
  return reason === '' ? null : reason;
}
