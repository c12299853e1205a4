import type { Bus } from '../bus.js';
import type { Store } from '../store/store.js';
import type { HostEvent } from './events.js';
import type { HostTable } from './host-table.js';
import type { ChangeSink } from './monitor.js';

export interface CommitterOptions {
  store: Store;
  table: HostTable;
  bus: Bus;
  /** Most a routine change (a last-seen time) waits before it is stored. */
  flushIntervalMs?: number;
  /**
   * Most routine (timing-only) rows per transaction. A large fleet's backlog is
   * written in slices, with the event loop (and so the UDP socket) served between.
   */
  maxTimingRowsPerCommit?: number;
  onError: (error: unknown) => void;
}

/**
 * Write-behind between the state machine and the store, with group commit.
 *
 * Transitions and signed timestamps are stored before the next event-loop turn, in
 * one transaction with everything else that changed meanwhile; only then are the
 * events published, so a transition anyone was told about is always on disk. Plain
 * last-seen updates ride along, or are stored within `flushIntervalMs` (a `kill -9`
 * loses at most that much of them). A host whose content did not change (same
 * status, message, fields, address) is written as its timing columns only.
 */
export class Committer implements ChangeSink {
  readonly #store: Store;
  readonly #table: HostTable;
  readonly #bus: Bus;
  readonly #flushIntervalMs: number;
  readonly #maxTimingRows: number;
  readonly #onError: (error: unknown) => void;
  readonly #commitHooks: ((events: readonly HostEvent[]) => void)[] = [];

  /** Slots to store whole. */
  #content = new Set<number>();
  /** Slots whose timing alone changed (and that are not in #content). */
  #timing = new Set<number>();
  #deletes: string[] = [];
  #events: Omit<HostEvent, 'id'>[] = [];
  #immediate: NodeJS.Immediate | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: CommitterOptions) {
    this.#store = options.store;
    this.#table = options.table;
    this.#bus = options.bus;
    this.#flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.#maxTimingRows = options.maxTimingRowsPerCommit ?? 2000;
    this.#onError = options.onError;
  }

  /** Runs inside every commit that stores events, so derived rows are stored atomically with them. */
  addCommitHook(hook: (events: readonly HostEvent[]) => void): void {
    this.#commitHooks.push(hook);
  }

  hostChanged(slot: number, urgent: boolean, content: boolean): void {
    if (content) {
      this.#content.add(slot);
      this.#timing.delete(slot);
    } else if (!this.#content.has(slot)) {
      this.#timing.add(slot);
    }
    if (urgent) this.#flushSoon();
    else this.#flushLater();
  }

  hostForgotten(name: string): void {
    this.#deletes.push(name);
    this.#flushSoon();
  }

  recordEvent(event: Omit<HostEvent, 'id'>): void {
    this.#events.push(event);
    this.#flushSoon();
  }

  /**
   * Stores what is pending: everything but, past `maxTimingRowsPerCommit`, the rest of
   * the routine rows, which follow in the next turn. Returns false (and keeps it all
   * pending) if the store failed.
   */
  flush(): boolean {
    this.#cancelScheduled();
    if (
      this.#content.size === 0 &&
      this.#timing.size === 0 &&
      this.#deletes.length === 0 &&
      this.#events.length === 0
    ) {
      return true;
    }
    const upserts = [];
    for (const slot of this.#content) {
      if (this.#table.isLive(slot)) upserts.push(this.#table.record(slot));
    }
    const timings = [];
    const timingSlots = [];
    for (const slot of this.#timing) {
      if (timings.length === this.#maxTimingRows) break;
      timingSlots.push(slot);
      if (this.#table.isLive(slot)) timings.push(this.#table.timing(slot));
    }
    let stored: HostEvent[];
    try {
      stored = this.#store.commit(
        { deletes: this.#deletes, upserts, timings, events: this.#events },
        (committed) => {
          if (committed.length > 0) for (const hook of this.#commitHooks) hook(committed);
        },
      );
    } catch (error) {
      // Keep it all for the next attempt; events stay unpublished until they are stored.
      this.#onError(error);
      if (!this.#closed) this.#flushLater();
      return false;
    }
    this.#content = new Set();
    this.#deletes = [];
    this.#events = [];
    for (const slot of timingSlots) this.#timing.delete(slot);
    if (this.#timing.size > 0 && !this.#closed) this.#flushSoon();
    for (const event of stored) this.#bus.emit('event', event);
    return true;
  }

  /** Final flush of everything; afterwards nothing is scheduled. */
  close(): void {
    this.#closed = true;
    while (
      this.#timing.size > 0 ||
      this.#content.size > 0 ||
      this.#events.length > 0 ||
      this.#deletes.length > 0
    ) {
      if (!this.flush()) break;
    }
    this.#cancelScheduled();
  }

  #flushSoon(): void {
    if (this.#immediate || this.#closed) return;
    this.#immediate = setImmediate(() => {
      this.#immediate = undefined;
      this.flush();
    });
  }

  #flushLater(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, this.#flushIntervalMs);
    this.#timer.unref();
  }

  #cancelScheduled(): void {
    if (this.#immediate) clearImmediate(this.#immediate);
    if (this.#timer) clearTimeout(this.#timer);
    this.#immediate = undefined;
    this.#timer = undefined;
  }
}
