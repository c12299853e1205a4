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
 * notification path asks about every message (`matching` and `list` never wait for the store);
 * the store only keeps them across restarts, and is read once, by `load`.
 */
export class Silences {
  readonly #store: SilenceStore;
  readonly #now: () => number;
  readonly #onPruneError: (error: unknown) => void;
  readonly #changeListeners: (() => void)[] = [];
  /** Soonest expiry first, so expired ones are always at the front. */
  #active: ActiveSilence[] = [];
  #lastPruneAt: number;
  #storeHasExpired = false;
  /** The delete of expired rows in flight, if any: one at a time. */
  #pruning: Promise<void> | undefined;

  constructor(options: SilencesOptions) {
    this.#store = options.store;
    this.#now = options.now;
    this.#onPruneError = options.onPruneError ?? (() => {});
    this.#lastPruneAt = this.#now();
  }

  /** Reads the silences in force from the store (at start: before anything asks). */
  async load(): Promise<void> {
    const now = this.#now();
    this.#lastPruneAt = now;
    this.#active = (await this.#store.active(now)).map(compile);
    // Rows that expired while hbd was stopped would otherwise stay until the next expiry.
    this.#storeHasExpired = true;
    await this.#pruneStore(now);
  }

  /** Resolves once no store write started here is in flight (for a clean stop, and for tests). */
  async whenIdle(): Promise<void> {
    await this.#pruning;
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

  /**
   * Called after a silence is added or removed here, e.g. to tell the other nodes of a cluster
   * (which then `load` again).
   */
  onChanged(listener: () => void): void {
    this.#changeListeners.push(listener);
  }

  #changed(): void {
    for (const listener of this.#changeListeners) listener();
  }

  /** Validates and stores a new silence; throws a RangeError that names the bad field. */
  async add(request: NewSilence): Promise<Silence> {
    const pattern = checkHostPattern(request.pattern);
    const reason = checkReason(request.reason);
    const { durationMs } = request;
    if (!Number.isFinite(durationMs) || durationMs <= 0 || durationMs > MAX_DURATION_MS) {
      throw new RangeError(`duration: expected more than zero and at most 366 days, got ${durationMs} ms`);
    }
    const now = this.#now();
    const entry = compile(
      await this.#store.add({ pattern, until: now + durationMs, reason, createdAt: now }),
    );
    const later = this.#active.findIndex((other) => other.silence.until > entry.silence.until);
    this.#active.splice(later < 0 ? this.#active.length : later, 0, entry);
    this.#changed();
    return entry.silence;
  }

  /** False when there is no such silence. */
  async remove(id: number): Promise<boolean> {
    const removed = await this.#store.remove(id);
    this.#active = this.#active.filter((entry) => entry.silence.id !== id);
    if (removed) this.#changed();
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
    if (this.#storeHasExpired) void this.#pruneStore(now);
  }

  /** Deletes expired rows, in the background of the sync reads; a failure is retried at the next prune. */
  #pruneStore(now: number): Promise<void> {
    if (!this.#pruning) {
      const run = this.#prune(now).finally(() => {
        if (this.#pruning === run) this.#pruning = undefined;
      });
      this.#pruning = run;
    }
    return this.#pruning;
  }

  async #prune(now: number): Promise<void> {
    try {
      // Cleared first: silences that expire while this runs set it again, for the next prune.
      this.#storeHasExpired = false;
      await this.#store.pruneExpired(now);
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
