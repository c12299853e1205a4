import type { Bus } from '../lib/bus.js';
import type { HostEvent } from '../model/events.js';
import type { HostRecord, HostTiming } from '../model/host.js';
import type { BeatLog } from '../store/beat-log.js';
import type { Store } from '../store/store.js';
import { type WriteFailure, WriteRetry } from '../store/write-retry.js';
import type { HostTable } from './host-table.js';
import type { ChangeSink } from './monitor.js';

export interface CommitterOptions {
  store: Store;
  table: HostTable;
  bus: Bus;
  /** Where every heartbeat's timing goes before the next turn; without it, timing waits for the cycle. */
  beatLog?: BeatLog;
  /** How often a cycle stores the timing of the hosts that beat since the last one. */
  flushIntervalMs?: number;
  /**
   * Most routine (timing-only) rows per transaction. A cycle is written in slices of
   * this size, each followed by a pause twice as long as the slice took, so that the
   * event loop (and so the UDP socket) keeps at least two thirds of the time.
   */
  maxTimingRowsPerCommit?: number;
  /**
   * The store refuses writes: told at the first failure and then at most once a minute, with
   * what waits in memory meanwhile (retries back off from 1 s to a minute, whatever comes in).
   */
  onError: (error: unknown, backlog: StoreBacklog) => void;
  /** The store took everything again after failing; `backlog` is what waited at the last failure. */
  onRecovered?: (outage: WriteFailure & { backlog: StoreBacklog }) => void;
  /** Most events kept in memory while the store fails; past it the oldest are dropped and counted. */
  maxPendingEvents?: number;
  /** How retries are paced; a test can pass a faster one. */
  retry?: WriteRetry;
}

/** What waits in memory for the store. */
export interface StoreBacklog {
  events: number;
  /** Hosts whose row (whole or timing) is not stored yet. */
  hosts: number;
  /** Events dropped since the store started to fail, past `maxPendingEvents`. */
  droppedEvents: number;
}

/**
 * Events kept while the store fails: about 25 MB. Hosts need no bound of their own: a pending
 * host is a slot of the host table, which `limits.max_hosts` bounds.
 */
export const MAX_PENDING_EVENTS = 100_000;

/**
 * Write-behind between the state machine and the store, with group commit.
 *
 * - Transitions (and whatever else changed in the same turn) are stored before the
 *   next event-loop turn, in one transaction; only then are the events published,
 *   so a transition anyone was told about is always on disk.
 * - Every beat's timing (last seen, signed `ts`, `seq`) goes to the beat log before
 *   the next turn: one sequential append, not a transaction. A `kill -9` loses none.
 * - A cycle every `flushIntervalMs` stores the timing of the hosts that beat since
 *   the last one, in key order, in paced slices; then the log up to the cycle's
 *   start is dropped, whether its lines were stored as timing or as whole hosts.
 *   Writing a host once per cycle rather than once per beat is what lets a busy
 *   fleet be heard at full speed.
 */
export class Committer implements ChangeSink {
  readonly #store: Store;
  readonly #table: HostTable;
  readonly #bus: Bus;
  readonly #beatLog: BeatLog | undefined;
  readonly #flushIntervalMs: number;
  readonly #maxTimingRows: number;
  readonly #onError: (error: unknown, backlog: StoreBacklog) => void;
  readonly #onRecovered: ((outage: WriteFailure & { backlog: StoreBacklog }) => void) | undefined;
  readonly #maxPendingEvents: number;
  readonly #retry: WriteRetry;
  #droppedEvents = 0;
  #lastBacklog: StoreBacklog | undefined;
  readonly #commitHooks: ((events: readonly HostEvent[]) => void)[] = [];

  /** Slots to store whole at the next commit. */
  #content = new Set<number>();
  /** Slots whose timing changed since the current cycle started. */
  #timing = new Set<number>();
  /** The current cycle: slots being written, `#drained` of them done. */
  #draining = new Int32Array(0);
  #drained = 0;
  /** The beat log was rotated for the current cycle and its old file is not yet dropped. */
  #rotated = false;
  #deletes: string[] = [];
  #events: Omit<HostEvent, 'id'>[] = [];
  #immediate: NodeJS.Immediate | undefined;
  #timer: NodeJS.Timeout | undefined;
  #drainTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: CommitterOptions) {
    this.#store = options.store;
    this.#table = options.table;
    this.#bus = options.bus;
    this.#beatLog = options.beatLog;
    this.#flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.#maxTimingRows = options.maxTimingRowsPerCommit ?? 500;
    this.#onError = options.onError;
    this.#onRecovered = options.onRecovered;
    this.#maxPendingEvents = options.maxPendingEvents ?? MAX_PENDING_EVENTS;
    this.#retry = options.retry ?? new WriteRetry();
  }

  /** Since when, and why, the store refuses writes; undefined while it takes them. */
  get storeFailure(): WriteFailure | undefined {
    return this.#retry.failure;
  }

  /** Since when, and why, the beat log cannot be written; undefined while it can. */
  get beatLogFailure(): WriteFailure | undefined {
    return this.#beatLog?.failure;
  }

  /** Runs inside every commit that stores events, so derived rows are stored atomically with them. */
  addCommitHook(hook: (events: readonly HostEvent[]) => void): void {
    this.#commitHooks.push(hook);
  }

  hostChanged(slot: number, urgent: boolean, content: boolean): void {
    if (content) this.#content.add(slot);
    else this.#timing.add(slot);
    if (this.#beatLog) {
      this.#beatLog.append(this.#table.timing(slot));
      this.#commitSoon();
    }
    if (urgent) this.#commitSoon();
    else this.#cycleLater();
  }

  hostForgotten(name: string): void {
    this.#deletes.push(name);
    this.#commitSoon();
  }

  recordEvent(event: Omit<HostEvent, 'id'>): void {
    // Only reachable while the store fails: memory stays bounded, and the newest events,
    // which say how the fleet is now, are the ones kept.
    if (this.#events.length >= this.#maxPendingEvents) {
      const dropped = Math.max(1, Math.floor(this.#maxPendingEvents / 10));
      this.#events.splice(0, dropped);
      this.#droppedEvents += dropped;
    }
    this.#events.push(event);
    this.#commitSoon();
  }

  /**
   * Stores the transitions and content changes of this turn now rather than at its end,
   * so whoever reads the state next also finds its events stored. Timing rows keep
   * their cycle. Returns false if the store failed, or is failing and its retry is not due
   * (it all stays pending).
   */
  commitPending(): boolean {
    if (this.#content.size === 0 && this.#deletes.length === 0 && this.#events.length === 0) return true;
    return this.#commit(false);
  }

  /**
   * Stores everything pending, now. Returns false if the store failed, or is failing and its
   * retry is not due (it all stays pending).
   */
  flushAll(): boolean {
    return this.#flushAll(false);
  }

  /** Final flush, tried even while the store fails; afterwards nothing is scheduled. */
  close(): void {
    this.#closed = true;
    const stored = this.#flushAll(true);
    this.#cancelScheduled();
    this.#beatLog?.close(stored);
    if (!stored) {
      // Past the once-a-minute rule on purpose: this is the last word, and it is about lost data.
      const backlog = this.#backlog();
      this.#onError(
        new Error(
          `closing with ${backlog.events} events and ${backlog.hosts} hosts' changes not stored ` +
            '(the beat log keeps what it could write of their timing)',
          { cause: this.#retry.failure?.lastError },
        ),
        backlog,
      );
    }
  }

  #flushAll(force: boolean): boolean {
    this.#cancelScheduled();
    while (this.#hasWork()) {
      this.#startCycle();
      if (!this.#commit(true, force)) return false;
    }
    return true;
  }

  #backlog(): StoreBacklog {
    return {
      events: this.#events.length,
      hosts: this.#content.size + this.#timing.size + (this.#draining.length - this.#drained),
      droppedEvents: this.#droppedEvents,
    };
  }

  #hasWork(): boolean {
    return (
      this.#content.size > 0 ||
      this.#timing.size > 0 ||
      this.#drained < this.#draining.length ||
      this.#deletes.length > 0 ||
      this.#events.length > 0
    );
  }

  /** Takes the hosts that beat since the last cycle, unless a cycle is still being written. */
  #startCycle(): void {
    // While the old log waits for the store, rotating again would overwrite it.
    if (this.#drained < this.#draining.length || this.#rotated) return;
    // Beats that changed content are stored whole, not as timing, but their lines fill the log all the same.
    if (this.#timing.size === 0 && !this.#logHasLines()) return;
    // Slot order is (nearly) the store's row order, so a slice rewrites neighbouring pages
    // rather than one page per host. A numeric sort of a typed array: no stall at 100k hosts.
    this.#draining = Int32Array.from(this.#timing).sort();
    this.#drained = 0;
    this.#timing = new Set();
    // From here on, the old log holds only what this cycle is about to store: these
    // slots' timing, and whole hosts that the next successful commit takes with it.
    if (this.#beatLog) {
      this.#beatLog.rotate();
      this.#rotated = true;
    }
  }

  #logHasLines(): boolean {
    return this.#beatLog !== undefined && !this.#beatLog.empty;
  }

  /**
   * One transaction: whole hosts, events, deletions, and with `takeSlice` the next slice of the
   * cycle. While the store fails, only an attempt whose retry is due (or a `force`d one) reaches it.
   */
  #commit(takeSlice: boolean, force = false): boolean {
    // A pending cycle timer stays: an urgent commit every turn must not keep postponing it.
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#immediate = undefined;
    this.#beatLog?.flush();
    const started = performance.now();
    const slice = takeSlice
      ? this.#draining.subarray(this.#drained, this.#drained + this.#maxTimingRows)
      : new Int32Array(0);
    let stored: HostEvent[] = [];
    if (slice.length > 0 || this.#content.size > 0 || this.#deletes.length > 0 || this.#events.length > 0) {
      if (!force && !this.#retry.due()) {
        this.#retryLater();
        return false;
      }
      const upserts: HostRecord[] = [];
      for (const slot of this.#content) {
        if (this.#table.isLive(slot)) upserts.push(this.#table.record(slot));
      }
      const timings: HostTiming[] = [];
      for (const slot of slice) {
        if (this.#table.isLive(slot) && !this.#content.has(slot)) timings.push(this.#table.timing(slot));
      }
      try {
        stored = this.#store.commit(
          { deletes: this.#deletes, upserts, timings, events: this.#events },
          (committed) => {
            if (committed.length > 0) for (const hook of this.#commitHooks) hook(committed);
          },
        );
      } catch (error) {
        // Keep it all for the next attempt; events stay unpublished until they are stored.
        this.#lastBacklog = this.#backlog();
        if (this.#retry.failed(error)) this.#onError(error, this.#lastBacklog);
        this.#retryLater();
        return false;
      }
      const outage = this.#retry.succeeded();
      if (outage) {
        const backlog = this.#lastBacklog ?? this.#backlog();
        this.#droppedEvents = 0;
        this.#onRecovered?.({ ...outage, backlog });
      }
      this.#content = new Set();
      this.#deletes = [];
      this.#events = [];
      this.#drained += slice.length;
    }
    if (this.#drained === this.#draining.length) {
      if (this.#drained > 0) {
        this.#draining = new Int32Array(0);
        this.#drained = 0;
      }
      // Every commit takes all whole hosts pending, so the first one to succeed after the
      // rotation stored those the old log describes; the slices stored the rest.
      if (this.#rotated) {
        this.#rotated = false;
        this.#beatLog?.dropRotated();
      }
    }
    if (!this.#closed) {
      if (this.#drained < this.#draining.length) {
        if (slice.length > 0) this.#drainLater(2 * (performance.now() - started));
      } else if (this.#timing.size > 0 || this.#logHasLines()) {
        this.#cycleLater();
      }
    }
    for (const event of stored) this.#bus.emit('event', event);
    return true;
  }

  #commitSoon(): void {
    if (this.#immediate || this.#closed) return;
    this.#immediate = setImmediate(() => {
      this.#immediate = undefined;
      this.#commit(false);
    });
  }

  #cycleLater(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#startCycle();
      this.#commit(true);
    }, this.#flushIntervalMs);
    this.#timer.unref();
  }

  /** After a failure: one attempt when the retry is due, whatever arrives meanwhile. */
  #retryLater(): void {
    if (this.#retryTimer || this.#closed) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#startCycle();
      this.#commit(true, true);
    }, this.#retry.waitMs());
    this.#retryTimer.unref();
  }

  #drainLater(pauseMs: number): void {
    if (this.#drainTimer || this.#closed) return;
    this.#drainTimer = setTimeout(() => {
      this.#drainTimer = undefined;
      this.#commit(true);
    }, pauseMs);
    this.#drainTimer.unref();
  }

  #cancelScheduled(): void {
    if (this.#immediate) clearImmediate(this.#immediate);
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#drainTimer) clearTimeout(this.#drainTimer);
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#immediate = undefined;
    this.#timer = undefined;
    this.#drainTimer = undefined;
    this.#retryTimer = undefined;
  }
}
