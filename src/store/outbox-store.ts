import type {
  AnnouncedHost,
  Decision,
  NewMessage,
  OutboxMessage,
  OutboxQuery,
  OutboxState,
  Trigger,
} from '../model/outbox.js';

export interface OutboxStore {
  /** Call inside the transaction that stores the transitions (see `WriterOptions.triggersFor`). */
  addTriggers(triggers: readonly Omit<Trigger, 'id'>[]): Promise<Trigger[]>;
  pendingTriggers(): Promise<Trigger[]>;
  /** Returns the messages queued; one already queued under the same channel and dedup key is not queued twice. */
  decide(decision: Decision): Promise<OutboxMessage[]>;
  /** In delivery order (by position). */
  pendingMessages(): Promise<OutboxMessage[]>;
  announcedHosts(): Promise<AnnouncedHost[]>;
  /**
   * Called right before a message is handed to its channel: true if it is still pending (so
   * it may be sent), false if it was sent, failed or merged meanwhile. On a cluster node the
   * claim is fenced, so a leader that lost its lease sends nothing.
   */
  claim(id: number): Promise<boolean>;
  markSent(id: number, at: number, receipt: string): Promise<void>;
  markRetry(id: number, attempts: number, nextAttemptAt: number, error: string): Promise<void>;
  markFailed(id: number, attempts: number, at: number, error: string): Promise<void>;
  /**
   * Replaces pending messages with one digest (a notification of kind `digest`), in one
   * transaction; the digest takes the earliest one's position.
   */
  merge(ids: readonly number[], digest: NewMessage): Promise<OutboxMessage>;
  /** Newest first. */
  list(query: OutboxQuery): Promise<OutboxMessage[]>;
  countByState(): Promise<{ channel: string; state: OutboxState; count: number }[]>;
  /** Deletes finished messages older than this wall time; returns how many. */
  prune(olderThan: number): Promise<number>;
}
