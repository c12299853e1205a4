import type { Clock } from '../../src/lib/clock.js';

/** A clock that moves only when told to: both its wall and its monotonic time. */
export class ManualClock implements Clock {
  #wall: number;
  #mono = 1_000;

  constructor(wallStart = Date.UTC(2026, 10, 25, 12, 0, 0)) {
    this.#wall = wallStart;
  }

  wall(): number {
    return this.#wall;
  }

  mono(): number {
    return this.#mono;
  }

  advance(ms: number): void {
    this.#wall += ms;
    this.#mono += ms;
  }

  /** A wall-clock step (NTP, suspend) that monotonic time does not see. */
  stepWall(ms: number): void {
    this.#wall += ms;
  }
}
