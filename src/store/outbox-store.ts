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
  /** Call inside the transaction that stores the transitions. */
  addTriggers(triggers: readonly Omit<Trigger, 'id'>[]): Trigger[];
  pendingTriggers(): Trigger[];
  /**
   * When the host last changed state before `beforeEventId` (wall ms), for "had been up for …";
   * going late and back is not a change here (a late host is still up).
   */
  previousStateChange(host: string, beforeEventId: number): number | undefined;
  /** Returns the messages queued; one already queued under the same channel and dedup key is not queued twice. */
  decide(decision: Decision): OutboxMessage[];
  /** In delivery order (by position). */
  pendingMessages(): OutboxMessage[];
  notifiedHosts(): AnnouncedHost[];
  markSent(id: number, at: number, receipt: string): void;
  markRetry(id: number, attempts: number, nextAttemptAt: number, error: string): void;
  markFailed(id: number, attempts: number, at: number, error: string): void;
  /**
   * Replaces pending messages with one digest (a notification of kind `digest`), in one
   * transaction; the digest takes the earliest one's position.
   */
  merge(ids: readonly number[], digest: NewMessage): OutboxMessage;
  /** Newest first. */
  list(query: OutboxQuery): OutboxMessage[];
  countByState(): { channel: string; state: OutboxState; count: number }[];
  /** Deletes finished messages older than this wall time; returns how many. */
  prune(olderThan: number): number;
}
