import type { Bus } from '../lib/bus.js';
import type { HostEvent } from '../model/events.js';
import type { HostRecord, HostTiming } from '../model/host.js';
import type { Trigger } from '../model/outbox.js';
import type { HostTable } from '../state/host-table.js';
import type { BeatLog } from './beat-log.js';
import type { HostWriter, Store, StoreBacklog, StoreParts, WriterOptions } from './store.js';
import { type WriteFailure, WriteRetry } from './write-retry.js';

export interface WriteBehindOptions extends WriterOptions {
  /** Written through `transaction`, one per commit. */
  store: Store;
  /** What /healthz and the logs call the store: `state store /var/lib/hbd/hbd.sqlite`. */
  storeName?: string;
  /** Where every heartbeat's timing goes before the next turn; without it, timing waits for the cycle. */
  beatLog?: BeatLog | undefined;
  /** What the beat log held at start (read before it was opened). */
  unstoredTimings?: readonly HostTiming[];
  /** How often a cycle stores the timing of the hosts that beat since the last one. */
  flushIntervalMs?: number;
  /**
   * Most routine (timing-only) rows per transaction. A cycle is written in slices of
   * this size, each followed by a pause twice as long as the slice took, so that the
   * event loop (and so the UDP socket) keeps at least two thirds of the time.
   */
  maxTimingRowsPerCommit?: number;
  /** Most events kept in memory while the store fails; past it the oldest are dropped and counted. */
  maxPendingEvents?: number;
  /** How retries are paced (1 s doubling to a minute; reported once a minute); a test can pass a faster one. */
  retry?: WriteRetry;
}

/**
 * Events kept while the store fails: about 25 MB. Hosts need no bound of their own: a pending
 * host is a slot of the host table, which `limits.max_hosts` bounds.
 */
export const MAX_PENDING_EVENTS = 100_000;

/** What one commit takes out of the pending changes; put back if the store refuses it. */
interface Batch {
  content: Set<number>;
  deletes: string[];
  events: Omit<HostEvent, 'id'>[];
}

/**
 * Write-behind between the state machine and the store, with group commit.
 *
 * - Transitions (and whatever else changed in the same turn) are stored before the
 *   next event-loop turn, in one transaction, with the notification triggers they cause;
 *   only then are the events published (then the triggers), so a transition anyone was
 *   told about is always stored.
 * - Every beat's timing (last seen, signed `ts`, `seq`) goes to the beat log before
 *   the next turn: one sequential append, not a transaction. A `kill -9` loses none.
 * - A cycle every `flushIntervalMs` stores the timing of the hosts that beat since
 *   the last one, in key order, in paced slices; then the log up to the cycle's
 *   start is dropped, whether its lines were stored as timing or as whole hosts.
 *   Writing a host once per cycle rather than once per beat is what lets a busy
 *   fleet be heard at full speed.
 *
 * Commits run one at a time, in the order asked for: each takes what is pending when its turn
 * comes, and changes made while one is being written wait for the next. The cycle's bookkeeping
 * (which slots it drains, the beat log's rotation) is only touched by a commit in its turn.
 */
export class WriteBehind implements HostWriter {
  readonly unstoredTimings: readonly HostTiming[];
  readonly #store: Store;
  readonly #storeName: string;
  readonly #table: HostTable;
  readonly #bus: Bus;
  readonly #triggersFor: WriterOptions['triggersFor'];
  readonly #beatLog: BeatLog | undefined;
  readonly #flushIntervalMs: number;
  readonly #maxTimingRows: number;
  readonly #onError: WriterOptions['onError'];
  readonly #onRecovered: WriterOptions['onRecovered'];
  readonly #maxPendingEvents: number;
  readonly #retry: WriteRetry;
  #droppedEvents = 0;
  #lastBacklog: StoreBacklog | undefined;

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
  /** Commits asked for and not finished; the last one's promise. */
  #queued = 0;
  #tail: Promise<unknown> = Promise.resolve();
  /** A commit for the end of this turn is queued and has not started. */
  #soonQueued = false;
  #immediate: NodeJS.Immediate | undefined;
  #timer: NodeJS.Timeout | undefined;
  #drainTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: WriteBehindOptions) {
    this.#store = options.store;
    this.#storeName = options.storeName ?? `state store ${options.store.location}`;
    this.#table = options.table;
    this.#bus = options.bus;
    this.#triggersFor = options.triggersFor;
    this.#beatLog = options.beatLog;
    this.unstoredTimings = options.unstoredTimings ?? [];
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

  problems(): { what: string; failure: WriteFailure }[] {
    const problems: { what: string; failure: WriteFailure }[] = [];
    if (this.#retry.failure) problems.push({ what: this.#storeName, failure: this.#retry.failure });
    const beatLog = this.#beatLog?.failure;
    if (beatLog) problems.push({ what: 'beat log', failure: beatLog });
    return problems;
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
    this.#events.push(event);
    this.#boundEvents();
    this.#commitSoon();
  }

  /**
   * Stores the transitions and content changes of this turn now rather than at its end,
   * so whoever reads the state next also finds its events stored. Timing rows keep
   * their cycle. False if the store failed, or is failing and its retry is not due
   * (it all stays pending).
   */
  commitPending(): Promise<boolean> {
    // The common case for a reader: nothing changed, nothing is being written.
    if (!this.#hasUrgentWork() && this.#queued === 0) return Promise.resolve(true);
    return this.#serially(() => (this.#hasUrgentWork() ? this.#commit(false) : Promise.resolve(true)));
  }

  /**
   * Stores everything pending, now. False if the store failed, or is failing and its retry is
   * not due (it all stays pending).
   */
  flushAll(): Promise<boolean> {
    return this.#serially(() => this.#flushAll(false));
  }

  /** Final flush, tried even while the store fails; afterwards nothing is scheduled. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const stored = await this.#serially(() => this.#flushAll(true));
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

  /** Runs `commit` once every commit asked for before it has finished. */
  #serially(commit: () => Promise<boolean>): Promise<boolean> {
    this.#queued++;
    const run = this.#tail.then(commit).finally(() => {
      this.#queued--;
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Stores until nothing is pending. Ingest is stopped (or not started) when this is called;
   * otherwise it would go on as long as new changes arrive during each commit.
   */
  async #flushAll(force: boolean): Promise<boolean> {
    this.#cancelScheduled();
    while (this.#hasWork()) {
      this.#startCycle();
      if (!(await this.#commit(true, force))) return false;
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

  #hasUrgentWork(): boolean {
    return this.#content.size > 0 || this.#deletes.length > 0 || this.#events.length > 0;
  }

  #hasWork(): boolean {
    return this.#hasUrgentWork() || this.#timing.size > 0 || this.#drained < this.#draining.length;
  }

  /** Only reachable while the store fails: memory stays bounded, and the newest events, which say how the fleet is now, are kept. */
  #boundEvents(): void {
    while (this.#events.length > this.#maxPendingEvents) {
      const dropped = Math.max(1, Math.floor(this.#maxPendingEvents / 10));
      this.#events.splice(0, dropped);
      this.#droppedEvents += dropped;
    }
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
   * One transaction: whole hosts, events and their triggers, deletions, and with `takeSlice`
   * the next slice of the cycle. While the store fails, only an attempt whose retry is due
   * (or a `force`d one) reaches it. Called only in its turn (see `#serially`).
   */
  async #commit(takeSlice: boolean, force = false): Promise<boolean> {
    // A pending cycle timer stays: an urgent commit every turn must not keep postponing it.
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#immediate = undefined;
    this.#beatLog?.flush();
    const started = performance.now();
    const slice = takeSlice
      ? this.#draining.subarray(this.#drained, this.#drained + this.#maxTimingRows)
      : new Int32Array(0);
    let stored: HostEvent[] = [];
    let triggers: Trigger[] = [];
    if (slice.length > 0 || this.#hasUrgentWork()) {
      if (!force && !this.#retry.due()) {
        this.#retryLater();
        return false;
      }
      const batch = this.#take();
      const upserts: HostRecord[] = [];
      for (const slot of batch.content) {
        if (this.#table.isLive(slot)) upserts.push(this.#table.record(slot));
      }
      const timings: HostTiming[] = [];
      for (const slot of slice) {
        if (this.#table.isLive(slot) && !batch.content.has(slot)) timings.push(this.#table.timing(slot));
      }
      try {
        ({ stored, triggers } = await this.#store.transaction((tx) =>
          this.#write(tx, batch, upserts, timings),
        ));
      } catch (error) {
        // Keep it all for the next attempt; events stay unpublished until they are stored.
        this.#putBack(batch);
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
    if (triggers.length > 0) this.#bus.emit('triggers', triggers);
    return true;
  }

  async #write(
    tx: StoreParts,
    batch: Batch,
    upserts: HostRecord[],
    timings: HostTiming[],
  ): Promise<{ stored: HostEvent[]; triggers: Trigger[] }> {
    if (batch.deletes.length > 0 || upserts.length > 0 || timings.length > 0) {
      await tx.hosts.write({ deletes: batch.deletes, upserts, timings });
    }
    if (batch.events.length === 0) return { stored: [], triggers: [] };
    const stored = await tx.events.append(batch.events);
    const wanted = this.#triggersFor ? await this.#triggersFor(stored, tx) : [];
    const triggers = wanted.length > 0 ? await tx.outbox.addTriggers(wanted) : [];
    return { stored, triggers };
  }

  /** What this commit stores; changes made while it is written go to the next one. */
  #take(): Batch {
    const batch = { content: this.#content, deletes: this.#deletes, events: this.#events };
    this.#content = new Set();
    this.#deletes = [];
    this.#events = [];
    return batch;
  }

  /** A batch the store refused, back before what came since, as if it had waited all along. */
  #putBack(batch: Batch): void {
    for (const slot of this.#content) batch.content.add(slot);
    this.#content = batch.content;
    this.#deletes = batch.deletes.concat(this.#deletes);
    this.#events = batch.events.concat(this.#events);
    this.#boundEvents();
  }

  #commitSoon(): void {
    if (this.#immediate || this.#soonQueued || this.#closed) return;
    this.#immediate = setImmediate(() => {
      this.#immediate = undefined;
      this.#soonQueued = true;
      void this.#serially(() => {
        this.#soonQueued = false;
        return this.#commit(false);
      });
    });
  }

  #cycleLater(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#serially(() => {
        this.#startCycle();
        return this.#commit(true);
      });
    }, this.#flushIntervalMs);
    this.#timer.unref();
  }

  /** After a failure: one attempt when the retry is due, whatever arrives meanwhile. */
  #retryLater(): void {
    if (this.#retryTimer || this.#closed) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#serially(() => {
        this.#startCycle();
        return this.#commit(true, true);
      });
    }, this.#retry.waitMs());
    this.#retryTimer.unref();
  }

  #drainLater(pauseMs: number): void {
    if (this.#drainTimer || this.#closed) return;
    this.#drainTimer = setTimeout(() => {
      this.#drainTimer = undefined;
      void this.#serially(() => this.#commit(true));
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
