/**
 * One line for everything that touches the database. better-sqlite3 runs a statement
 * synchronously, so a synchronous job can never be interleaved with anything; but a transaction
 * whose work awaits stays open across event-loop turns, and whatever another caller ran
 * meanwhile on the one connection would land inside it (and roll back with it). So while such
 * a transaction is open, every other job waits its turn, in the order they came.
 *
 * The common case costs nothing extra: a synchronous job that finds the line empty runs at
 * once, and only a transaction holds the line.
 */
export class Serial {
  #busy = false;
  readonly #waiting: (() => void)[] = [];

  /** Runs `job` now if nothing holds the line, else after everything before it. */
  sync<T>(job: () => T): Promise<T> {
    if (this.#idle()) return settle(job);
    return new Promise<T>((resolve, reject) => {
      this.#waiting.push(() => settle(job).then(resolve, reject));
    });
  }

  /** Runs `job` when its turn comes and holds the line until the promise it returns settles. */
  async<T>(job: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.#busy = true;
        let running: Promise<T>;
        try {
          running = job();
        } catch (error) {
          running = Promise.reject(error);
        }
        running.then(resolve, reject).finally(() => {
          this.#busy = false;
          this.#next();
        });
      };
      if (this.#idle()) start();
      else this.#waiting.push(start);
    });
  }

  #idle(): boolean {
    return !this.#busy && this.#waiting.length === 0;
  }

  /** Starts the waiting jobs in order: the synchronous ones all at once, up to the next transaction. */
  #next(): void {
    while (!this.#busy) {
      const start = this.#waiting.shift();
      if (!start) return;
      start();
    }
  }
}

function settle<T>(job: () => T): Promise<T> {
  try {
    return Promise.resolve(job());
  } catch (error) {
    return Promise.reject(error);
  }
}
