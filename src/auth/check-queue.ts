export interface CheckQueueOptions {
  /** Checks running at once. */
  concurrency?: number;
  /** Checks waiting for a turn; past this a check is refused at once. */
  maxWaiting?: number;
}

/**
 * A short line for password checks. scrypt runs on libuv's thread pool, which file reads (the
 * dashboard's assets), zlib and DNS lookups share; it has 4 threads. Checks running one at a time
 * leave the other threads free whatever a flood of logins sends, and a bounded line refuses the
 * rest at once, without hashing, instead of queueing work nobody can wait for.
 */
export class CheckQueue {
  readonly #concurrency: number;
  readonly #maxWaiting: number;
  #running = 0;
  /** Wakes the next waiting check: handing over a place keeps `#running` as it is. */
  readonly #waiting: (() => void)[] = [];

  constructor(options: CheckQueueOptions = {}) {
    this.#concurrency = options.concurrency ?? 1;
    this.#maxWaiting = options.maxWaiting ?? 16;
  }

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `check` when its turn comes; undefined at once, and `check` never called, when the line is full. */
  tryRun<T>(check: () => Promise<T>): Promise<T> | undefined {
    if (this.#running < this.#concurrency) {
      this.#running++;
      return this.#runThenHandOver(check);
    }
    if (this.#waiting.length >= this.#maxWaiting) return undefined;
    const turn = new Promise<void>((resolve) => this.#waiting.push(resolve));
    return turn.then(() => this.#runThenHandOver(check));
  }

  async #runThenHandOver<T>(check: () => Promise<T>): Promise<T> {
    try {
      return await check();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
