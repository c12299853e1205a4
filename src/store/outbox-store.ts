import type { Notification } from '../notify/types.js';

/**
 * - down: the host went silent (up or late → down)
 * - up: it came back from down
 * - status: its reported status changed to or from warn/fail
 */
export type TriggerKind = 'down' | 'up' | 'status';

/** The host as it was when the transition happened: what the message will say. */
export interface TriggerDetail {
  from: string | null;
  to: string | null;
  reason: string;
  status: string;
  msg: string | null;
  addr: string;
  /** The value of the `group_by` field ('' when none). */
  group: string;
  /** How long the host had been in its previous state, ms (null when unknown). */
  previousFor: number | null;
}

/** A transition that may become a message; stored with the transition, deleted when decided. */
export interface Trigger {
  id: number;
  eventId: number;
  /** Wall time of the transition, ms. */
  at: number;
  host: string;
  kind: TriggerKind;
  detail: TriggerDetail;
}

export type OutboxState = 'pending' | 'sent' | 'failed' | 'merged';

export interface OutboxMessage {
  id: number;
  channel: string;
  notification: Notification;
  state: OutboxState;
  /** Wall times, ms. */
  createdAt: number;
  attempts: number;
  nextAttemptAt: number;
  deadlineAt: number;
  lastError: string | null;
  doneAt: number | null;
  /** What the provider answered when it accepted the message. */
  receipt: string | null;
  /** For `merged`: the digest that carried it. */
  mergedInto: number | null;
  /**
   * Where the message stands in its channel's delivery order: its id, except that a digest
   * stands where the earliest message it carries stood, so that it still goes before the
   * later messages about those hosts.
   */
  position: number;
}

export type NewMessage = Pick<OutboxMessage, 'channel' | 'notification' | 'createdAt' | 'deadlineAt'>;

/** What people were last told about a host, so a recovery is announced only after its problem was. */
export interface NotifiedHost {
  host: string;
  /** When its down message was written; null when it is not known as down. */
  downAt: number | null;
  /** The warn/fail status last announced; null when none is outstanding. */
  status: string | null;
  remindedAt: number | null;
}

/** One decision, stored atomically: triggers consumed, messages queued, per-host memory updated. */
export interface Decision {
  consumed: readonly number[];
  messages: readonly NewMessage[];
  notified: readonly NotifiedHost[];
}

export interface OutboxQuery {
  state?: OutboxState;
  channel?: string;
  limit: number;
}

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
  notifiedHosts(): NotifiedHost[];
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
