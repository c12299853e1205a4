import type { Notification } from './notification.js';

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
export interface AnnouncedHost {
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
  notified: readonly AnnouncedHost[];
}

export interface OutboxQuery {
  state?: OutboxState;
  channel?: string;
  limit: number;
}
