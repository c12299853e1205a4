import type { Logger } from 'pino';
import type { DropReason } from '../protocol/types.js';

export interface DropLogOptions {
  /** Most warnings written per window; the rest are counted and summed up. */
  burst?: number;
  windowMs?: number;
}

/**
 * Warns about bad datagrams, naming their source, at a bounded pace: a flood of
 * garbage must not turn into a flood of log lines (or a disk filled by them).
 */
export class DropLog {
  readonly #log: Logger;
  readonly #burst: number;
  readonly #windowMs: number;
  #windowStart = 0;
  #written = 0;
  #suppressed = 0;
  /** The suppressed ones by reason, so the summary still says why (a flood of `limit` reads as one). */
  #suppressedBy = new Map<DropReason, number>();

  constructor(log: Logger, options: DropLogOptions = {}) {
    this.#log = log;
    this.#burst = options.burst ?? 10;
    this.#windowMs = options.windowMs ?? 10_000;
  }

  dropped(reason: DropReason, detail: string, source: string, now: number): void {
    if (now - this.#windowStart >= this.#windowMs) {
      if (this.#suppressed > 0) {
        const byReason = Object.fromEntries(this.#suppressedBy);
        const reasons = [...this.#suppressedBy].map(([reason, count]) => `${reason}: ${count}`).join(', ');
        this.#log.warn(
          { suppressed: this.#suppressed, byReason },
          `${this.#suppressed} more bad datagrams were dropped without a warning each (${reasons})`,
        );
      }
      this.#windowStart = now;
      this.#written = 0;
      this.#suppressed = 0;
      this.#suppressedBy.clear();
    }
    if (this.#written < this.#burst) {
      this.#written++;
      this.#log.warn({ reason, source }, `dropped datagram from ${source}: ${reason}: ${detail}`);
    } else {
      this.#suppressed++;
      this.#suppressedBy.set(reason, (this.#suppressedBy.get(reason) ?? 0) + 1);
    }
  }
}
