/**
 * When to try a failing write again, and when to say so: the state store, the beat log and the
 * journal all share it. A full disk must cost neither CPU nor the log: retrying on every
 * heartbeat once spun hbd at 100 % and logged a stack trace per attempt.
 *
 * The first failure waits `firstDelayMs`, each further one twice as long, up to `maxDelayMs`;
 * a failure is worth reporting when it is the first one or `reportEveryMs` after the last report.
 */
export interface WriteRetryOptions {
  firstDelayMs?: number;
  maxDelayMs?: number;
  reportEveryMs?: number;
  /** Milliseconds; monotonic is best. */
  now?: () => number;
}

export interface WriteFailure {
  /** When writes started to fail (`now()` time). */
  since: number;
  /** Failed attempts since then. */
  attempts: number;
  lastError: unknown;
}

export const FIRST_RETRY_MS = 1000;
export const MAX_RETRY_MS = 60_000;
export const REPORT_EVERY_MS = 60_000;

export class WriteRetry {
  readonly #firstDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #reportEveryMs: number;
  readonly #now: () => number;
  #failure: WriteFailure | undefined;
  #delayMs = 0;
  #nextAttemptAt = Number.NEGATIVE_INFINITY;
  #lastReport = Number.NEGATIVE_INFINITY;

  constructor(options: WriteRetryOptions = {}) {
    this.#firstDelayMs = options.firstDelayMs ?? FIRST_RETRY_MS;
    this.#maxDelayMs = options.maxDelayMs ?? MAX_RETRY_MS;
    this.#reportEveryMs = options.reportEveryMs ?? REPORT_EVERY_MS;
    this.#now = options.now ?? (() => performance.now());
  }

  /** The current run of failures, if writes are failing. */
  get failure(): WriteFailure | undefined {
    return this.#failure;
  }

  /** Whether an attempt is due: always while writes succeed; after a failure, once its delay ran out. */
  due(): boolean {
    return this.#now() >= this.#nextAttemptAt;
  }

  /** Milliseconds until the next attempt is due (0 if it is). */
  waitMs(): number {
    return Math.max(0, this.#nextAttemptAt - this.#now());
  }

  /** Records a failed attempt; returns true if it should be reported. */
  failed(error: unknown): boolean {
    const now = this.#now();
    this.#delayMs = this.#failure ? Math.min(this.#delayMs * 2, this.#maxDelayMs) : this.#firstDelayMs;
    this.#nextAttemptAt = now + this.#delayMs;
    if (this.#failure) {
      this.#failure.attempts++;
      this.#failure.lastError = error;
    } else {
      this.#failure = { since: now, attempts: 1, lastError: error };
    }
    if (now - this.#lastReport < this.#reportEveryMs) return false;
    this.#lastReport = now;
    return true;
  }

  /** Records a successful write; returns the run of failures it ends, if any. */
  succeeded(): WriteFailure | undefined {
    const ended = this.#failure;
    this.#failure = undefined;
    this.#delayMs = 0;
    this.#nextAttemptAt = Number.NEGATIVE_INFINITY;
    // The last report's time stays: a disk that is nearly full, failing and succeeding by
    // turns, is still reported once a minute, not at every turn.
    return ended;
  }
}
