import { PINGS_KEPT, type PingRecord, type PingStore } from '../store/ping-store.js';

/**
 * How long pings wait in memory before they are written together. A ping is an HTTP request,
 * far rarer than a heartbeat, but anyone holding a token can send them in a loop: written in
 * one transaction at most this often, each host costs at most PINGS_KEPT row writes per flush,
 * however fast its pings come.
 */
export const PING_FLUSH_MS = 1000;

/**
 * The last pings of each host, kept in the store (store/ping-store.ts), so that whichever hbd
 * reads the store can show them. Pings are gathered for up to PING_FLUSH_MS and written in one
 * transaction; what waits is bounded like the store's ring (PINGS_KEPT per host), and is read
 * with what is stored, so a ping shows at once.
 */
export class RecentPings {
  readonly #store: PingStore;
  readonly #onError: (error: unknown) => void;
  readonly #flushMs: number;
  /** Per host, oldest first, at most PINGS_KEPT: what is not handed to the store yet. */
  #pending = new Map<string, PingRecord[]>();
  #timer: NodeJS.Timeout | undefined;
  /** The write in progress: a read waits for it, so it never misses pings that are in neither place. */
  #writing: Promise<void> | undefined;
  /** Whether the last write failed: a failing store is reported once, not at every flush. */
  #failing = false;
  #closed = false;

  constructor(deps: { store: PingStore; onError: (error: unknown) => void; flushMs?: number }) {
    this.#store = deps.store;
    this.#onError = deps.onError;
    this.#flushMs = deps.flushMs ?? PING_FLUSH_MS;
  }

  /** Keeps a ping as its host's newest. */
  record(ping: PingRecord): void {
    const pending = this.#pending.get(ping.host);
    if (pending === undefined) this.#pending.set(ping.host, [ping]);
    else {
      pending.push(ping);
      if (pending.length > PINGS_KEPT) pending.shift();
    }
    this.#schedule();
  }

  /** The host's last pings, newest first. */
  async recent(host: string): Promise<PingRecord[]> {
    while (this.#writing) await this.#writing;
    const stored = await this.#store.recent(host);
    const pending = this.#pending.get(host) ?? [];
    return [...pending].reverse().concat(stored).slice(0, PINGS_KEPT);
  }

  /** Writes what waits, now. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // One write at a time, in the order the pings came.
    while (this.#writing) await this.#writing;
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    const writing = this.#write(batch);
    this.#writing = writing;
    try {
      await writing;
    } finally {
      if (this.#writing === writing) this.#writing = undefined;
    }
  }

  /** The final write; afterwards pings are still kept in memory, but never written. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }

  async #write(batch: Map<string, PingRecord[]>): Promise<void> {
    try {
      await this.#store.add([...batch.values()].flat());
      this.#failing = false;
    } catch (error) {
      if (!this.#failing) this.#onError(error);
      this.#failing = true;
      // Kept for the next flush, behind any pings that came meanwhile, within the same bound.
      for (const [host, pings] of batch) {
        this.#pending.set(host, [...pings, ...(this.#pending.get(host) ?? [])].slice(-PINGS_KEPT));
      }
      this.#schedule();
    }
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.#flushMs);
    this.#timer.unref();
  }
}
