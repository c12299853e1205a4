import type { Cancel, Timers } from '../../src/notify/timers.js';
import { ManualClock } from './manual-clock.js';

interface Pending {
  at: number;
  seq: number;
  callback: () => void;
}

/**
 * Timers on a ManualClock: nothing fires until `advance` moves the clock, and then every timer
 * due fires in order, at its own instant, with the promises it started settled before the next.
 * What a test sees then does not depend on how fast the machine is.
 */
export class ManualTimers implements Timers {
  readonly clock: ManualClock;
  #pending: Pending[] = [];
  #seq = 0;

  constructor(clock = new ManualClock()) {
    this.clock = clock;
  }

  /** Wall time, ms, for the parts' `now`. */
  readonly now = (): number => this.clock.wall();

  after(ms: number, callback: () => void): Cancel {
    const entry = { at: this.clock.mono() + Math.max(0, ms), seq: this.#seq++, callback };
    this.#pending.push(entry);
    return () => {
      this.#pending = this.#pending.filter((other) => other !== entry);
    };
  }

  /** Moves the clock `ms` forward, firing what falls due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.clock.mono() + ms;
    for (;;) {
      await settle();
      const next = this.#next();
      if (!next || next.at > end) break;
      this.#pending = this.#pending.filter((other) => other !== next);
      this.clock.advance(next.at - this.clock.mono());
      next.callback();
    }
    this.clock.advance(end - this.clock.mono());
    await settle();
  }

  #next(): Pending | undefined {
    let next: Pending | undefined;
    for (const entry of this.#pending) {
      if (!next || entry.at < next.at || (entry.at === next.at && entry.seq < next.seq)) next = entry;
    }
    return next;
  }
}

/** Lets every promise already started run to its end (the stores in these tests answer at once). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
}
