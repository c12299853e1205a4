/**
 * The order in which one store's calls run, as the SQLite driver's single connection gives it:
 * a write (a transaction, or a sub-store method that writes) starts once everything asked
 * before it has finished, and holds the lane until it ends; reads asked one after another run
 * side by side on the pool, but never beside a write or ahead of one asked before them. So a
 * caller always sees every write it asked for earlier, whole, and none of a later one.
 */
export class Lane {
  #reading = 0;
  #writing = false;
  readonly #waiting: { exclusive: boolean; start: () => void }[] = [];

  /** Runs a read: beside other reads, after every write asked before it. */
  shared<T>(job: () => Promise<T>): Promise<T> {
    return this.#enqueue(false, job);
  }

  /** Runs a write: alone, after everything asked before it. */
  exclusive<T>(job: () => Promise<T>): Promise<T> {
    return this.#enqueue(true, job);
  }

  #enqueue<T>(exclusive: boolean, job: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        if (exclusive) this.#writing = true;
        else this.#reading++;
        let running: Promise<T>;
        try {
          running = job();
        } catch (error) {
          running = Promise.reject(error);
        }
        running.then(resolve, reject).finally(() => {
          if (exclusive) this.#writing = false;
          else this.#reading--;
          this.#next();
        });
      };
      this.#waiting.push({ exclusive, start });
      this.#next();
    });
  }

  /** Starts waiting jobs from the front while they may run. */
  #next(): void {
    for (;;) {
      const first = this.#waiting[0];
      if (!first || this.#writing) return;
      if (first.exclusive && this.#reading > 0) return;
      this.#waiting.shift();
      first.start();
    }
  }
}
