import type { Bus } from '../lib/bus.js';
import type { PublishedRecords } from '../model/dns.js';
import type { HostEvent } from '../model/events.js';
import type { HostRecord, HostTiming } from '../model/host.js';
import type { Trigger } from '../model/outbox.js';
import type { SessionRecord } from '../model/session.js';
import type { HostTable } from '../state/host-table.js';
import type { ChangeSink } from '../state/monitor.js';
import type { ClusterBackend } from './cluster-backend.js';
import type { Fence } from './fencing.js';
import type { OutboxStore } from './outbox-store.js';
import type { PingStore } from './ping-store.js';
import type { SilenceStore } from './silence-store.js';
import type { WriteFailure } from './write-retry.js';

/**
 * Where hbd keeps what must survive a restart: a few sub-stores, each for one kind of thing,
 * behind one asynchronous interface, so that a database with a network between it and hbd is a
 * driver like the embedded SQLite file. Every method outside `transaction` is one transaction
 * of its own.
 */
export interface Store extends StoreParts {
  /** The driver's name, as in the config's `store:`. */
  readonly driver: string;
  /** What to name in log lines and /healthz: the file, or the server without its password. */
  readonly location: string;
  /**
   * Runs `work` in one transaction: either everything it wrote through `tx` is stored, or
   * nothing is (it threw). Transactions never interleave: a driver serialises or isolates them.
   */
  transaction<T>(work: (tx: StoreParts) => Promise<T>): Promise<T>;
  /**
   * How host changes reach this store. The write-behind policy (group commit, a beat log,
   * how often routine timing is stored) is the driver's own: the state machine only says
   * what changed.
   */
  openWriter(options: WriterOptions): Promise<HostWriter>;
  /** What the nodes of a cluster share beside the sub-stores; only a store several hbd processes can reach has it. */
  readonly cluster?: ClusterBackend;
  close(): Promise<void>;
}

/** The sub-stores, as the store offers them and as a transaction does. */
export interface StoreParts {
  readonly hosts: HostStore;
  readonly events: EventStore;
  readonly dns: DnsStore;
  /** Notification triggers, the outbox, and what was announced per host. */
  readonly outbox: OutboxStore;
  readonly silences: SilenceStore;
  readonly sessions: SessionStore;
  /** The last HTTP pings of each host, a few per host. */
  readonly pings: PingStore;
}

export interface HostStore {
  /** Every stored host, in the order they first appeared. */
  load(): Promise<HostRecord[]>;
  write(changes: HostChanges): Promise<void>;
}

export interface HostChanges {
  /** Hosts forgotten: their rows go, and their kept pings with them. */
  deletes: readonly string[];
  upserts: readonly HostRecord[];
  /** Hosts already stored whose timing alone changed. */
  timings: readonly HostTiming[];
}

export interface EventQuery {
  host?: string;
  /** Only events at or after this wall time (ms). */
  since?: number;
  /** Only events with a larger id (for paging and catching up). */
  afterId?: number;
  limit: number;
}

export interface RetentionPolicy {
  /** Drop events older than this wall time (ms). */
  olderThan: number;
  /** Keep at most this many of the newest events. */
  maxEvents: number;
}

/** How many events are kept as they are written (see `limits.events_per_host`, `history.max_events`). */
export interface EventLimits {
  maxEvents: number;
  perHost: number;
}

export interface EventStore {
  /** Stores the events in order, within the event limits, and returns them with their ids. */
  append(events: readonly Omit<HostEvent, 'id'>[]): Promise<HostEvent[]>;
  /** Newest first. */
  list(query: EventQuery): Promise<HostEvent[]>;
  /**
   * When the host last changed state before `beforeEventId` (wall ms), for "had been up for …";
   * going late and back is not a change here (a late host is still up).
   */
  previousStateChange(host: string, beforeEventId: number): Promise<number | undefined>;
  /** Returns how many were deleted. */
  prune(policy: RetentionPolicy): Promise<number>;
}

export interface DnsStore {
  load(): Promise<PublishedRecords[]>;
  save(records: PublishedRecords): Promise<void>;
}

export interface SessionStore {
  add(session: SessionRecord): Promise<void>;
  get(key: string): Promise<SessionRecord | undefined>;
  /** Marks the session as used at `at`. */
  touch(key: string, at: number): Promise<void>;
  /** In login order. */
  list(): Promise<SessionRecord[]>;
  /** Returns how many existed. */
  remove(keys: readonly string[]): Promise<number>;
}

/** What a driver is given besides its own options. */
export interface StoreContext {
  /** The state file of the config (`pickfile`): where a file-based driver keeps its data by default. */
  pickfile: string;
  /** Read at every commit, so that a reload applies at once. */
  eventLimits: () => EventLimits;
  /** Told what the store found amiss and worked around: an empty file, a row it skips, a loose mode. */
  warn: (message: string) => void;
  /**
   * Set on a cluster node: the leader-only writes (hosts.write, events.append and prune,
   * dns.save, every outbox write, and `transaction`) are made only while this node holds the
   * lease with the fence's token, checked inside the same transaction; otherwise they throw
   * NotLeaderError and change nothing.
   */
  fence?: Fence;
}

export interface WriterOptions {
  table: HostTable;
  bus: Bus;
  /**
   * The notification triggers of freshly stored events, derived in their transaction through
   * `tx` so that they are stored with them (a crash leaves both or neither).
   */
  triggersFor?: (events: readonly HostEvent[], tx: StoreParts) => Promise<Omit<Trigger, 'id'>[]>;
  /** The store refuses writes: at the first failure, then at most once a minute. */
  onError: (error: unknown, backlog: StoreBacklog) => void;
  /** The store took everything again after failing. */
  onRecovered?: (outage: WriteFailure & { backlog: StoreBacklog }) => void;
  /** A file the writer keeps beside the store (a beat log) cannot be written. */
  onFileError?: (what: string, path: string, error: unknown) => void;
}

/** What waits in memory for the store. */
export interface StoreBacklog {
  events: number;
  /** Hosts whose row (whole or timing) is not stored yet. */
  hosts: number;
  /** Events dropped since the store started to fail, past the bound on pending events. */
  droppedEvents: number;
}

/**
 * Write-behind between the state machine and the store. Events are stored before they are
 * published on the bus (`event`), and their triggers with them (`triggers`, after the events).
 */
export interface HostWriter extends ChangeSink {
  /** Timing that was accepted before a crash but not yet stored (from a beat log, say). */
  readonly unstoredTimings: readonly HostTiming[];
  recordEvent(event: Omit<HostEvent, 'id'>): void;
  /**
   * Stores this turn's transitions and content changes now, so whoever reads next finds them.
   * False if the store failed (everything stays pending).
   */
  commitPending(): Promise<boolean>;
  /** Stores everything pending, now. */
  flushAll(): Promise<boolean>;
  /** What cannot be written, and since when, for /healthz; empty while all is well. */
  problems(): { what: string; failure: WriteFailure }[];
  /** Final flush, tried even while the store fails; afterwards nothing is scheduled. */
  close(): Promise<void>;
}
