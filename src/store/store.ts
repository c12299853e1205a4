import type { PublishedRecords } from '../model/dns.js';
import type { HostEvent } from '../model/events.js';
import type { HostRecord, HostTiming } from '../model/host.js';
import type { OutboxStore } from './outbox-store.js';
import type { SilenceStore } from './silence-store.js';

export interface EventQuery {
  host?: string;
  /** Only events at or after this wall time (ms). */
  since?: number;
  /** Only events with a larger id (for paging and catching up). */
  afterId?: number;
  limit: number;
}

/** One atomic write: either all of it is stored, or none of it. */
export interface CommitBatch {
  deletes: readonly string[];
  upserts: readonly HostRecord[];
  /** Hosts already stored whose timing alone changed. */
  timings: readonly HostTiming[];
  events: readonly Omit<HostEvent, 'id'>[];
}

export interface RetentionPolicy {
  /** Drop events older than this wall time (ms). */
  olderThan: number;
  /** Keep at most this many of the newest events. */
  maxEvents: number;
}

/**
 * Where hbd keeps what must survive a restart. One small interface so that another
 * database can be added as a driver without touching the state machine.
 */
export interface Store {
  readonly driver: string;
  loadHosts(): HostRecord[];
  /**
   * Writes the batch in one transaction and returns its events with their ids.
   * `inTransaction` runs inside that transaction, after the events are written, so
   * that work derived from them (an outbox, say) is stored atomically with them.
   */
  commit(batch: CommitBatch, inTransaction?: (events: readonly HostEvent[]) => void): HostEvent[];
  /** Newest first. */
  events(query: EventQuery): HostEvent[];
  prune(policy: RetentionPolicy): number;
  loadPublished(): PublishedRecords[];
  savePublished(records: PublishedRecords): void;
  readonly silences: SilenceStore;
  /** Notification triggers, the outbox, and what was announced per host. */
  readonly outbox: OutboxStore;
  close(): void;
}
