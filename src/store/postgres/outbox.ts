import type { Notification } from '../../model/notification.js';
import type {
  AnnouncedHost,
  NewMessage,
  OutboxMessage,
  OutboxQuery,
  OutboxState,
  Trigger,
  TriggerDetail,
  TriggerKind,
} from '../../model/outbox.js';
import type { OutboxStore } from '../outbox-store.js';
import { type Db, pgJson, pgText, placeholders } from './db.js';

export interface TriggerRow {
  id: number;
  event_id: number;
  at: number;
  host: string;
  kind: TriggerKind;
  detail: TriggerDetail;
}

export interface MessageRow {
  id: number;
  channel: string;
  dedup_key: string;
  kind: string;
  notification: Notification;
  state: OutboxState;
  created_at: number;
  attempts: number;
  next_attempt_at: number;
  deadline_at: number;
  last_error: string | null;
  done_at: number | null;
  receipt: string | null;
  merged_into: number | null;
  position: number | null;
}

export interface NotifiedRow {
  host: string;
  down_at: number | null;
  status: string | null;
  reminded_at: number | null;
}

export function triggerOfRow(row: TriggerRow): Trigger {
  return {
    id: row.id,
    eventId: row.event_id,
    at: row.at,
    host: row.host,
    kind: row.kind,
    detail: row.detail,
  };
}

export function messageOfRow(row: MessageRow): OutboxMessage {
  return {
    id: row.id,
    channel: row.channel,
    notification: row.notification,
    state: row.state,
    createdAt: row.created_at,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    deadlineAt: row.deadline_at,
    lastError: row.last_error,
    doneAt: row.done_at,
    receipt: row.receipt,
    mergedInto: row.merged_into,
    position: row.position ?? row.id,
  };
}

export function announcedOfRow(row: NotifiedRow): AnnouncedHost {
  return { host: row.host, downAt: row.down_at, status: row.status, remindedAt: row.reminded_at };
}

/**
 * Notification triggers, the outbox and what was announced per host, as the SQLite driver
 * keeps them (src/store/sqlite/outbox.ts). `decide` and `merge` are several statements: the
 * store runs every write in a transaction of its own, or in the caller's.
 */
export function createPgOutbox(db: Db): OutboxStore {
  async function queue(message: NewMessage): Promise<OutboxMessage | undefined> {
    const { notification } = message;
    const { rows } = await db.query<MessageRow>(
      `INSERT INTO outbox (channel, dedup_key, kind, notification, state, created_at, attempts,
                           next_attempt_at, deadline_at)
       VALUES ($1, $2, $3, $4, 'pending', $5, 0, $5, $6)
       ON CONFLICT (channel, dedup_key) DO NOTHING
       RETURNING *`,
      [
        message.channel,
        pgText(notification.dedupKey),
        notification.kind,
        pgJson(notification),
        message.createdAt,
        message.deadlineAt,
      ],
    );
    return rows[0] && messageOfRow(rows[0]);
  }

  return {
    async addTriggers(triggers) {
      if (triggers.length === 0) return [];
      const { rows } = await db.query<{ id: number }>(
        `INSERT INTO notify_triggers (event_id, at, host, kind, detail)
         VALUES ${placeholders(triggers.length, 5)} RETURNING id`,
        triggers.flatMap((trigger) => [
          trigger.eventId,
          trigger.at,
          trigger.host,
          trigger.kind,
          pgJson(trigger.detail),
        ]),
      );
      const ids = rows.map((row) => row.id).sort((a, b) => a - b);
      return triggers.map((trigger, i) => ({ ...trigger, id: ids[i]! }));
    },
    async pendingTriggers() {
      const { rows } = await db.query<TriggerRow>('SELECT * FROM notify_triggers ORDER BY id');
      return rows.map(triggerOfRow);
    },
    async decide(decision) {
      if (decision.consumed.length > 0) {
        await db.query('DELETE FROM notify_triggers WHERE id = ANY($1::bigint[])', [[...decision.consumed]]);
      }
      for (const host of decision.notified) {
        if (host.downAt === null && host.status === null) {
          await db.query('DELETE FROM notified WHERE host = $1', [host.host]);
        } else {
          await db.query(
            `INSERT INTO notified (host, down_at, status, reminded_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (host) DO UPDATE SET down_at = excluded.down_at, status = excluded.status,
               reminded_at = excluded.reminded_at`,
            [host.host, host.downAt, host.status, host.remindedAt],
          );
        }
      }
      const queued: OutboxMessage[] = [];
      for (const message of decision.messages) {
        const stored = await queue(message);
        if (stored) queued.push(stored);
      }
      return queued;
    },
    async pendingMessages() {
      const { rows } = await db.query<MessageRow>(
        "SELECT * FROM outbox WHERE state = 'pending' ORDER BY COALESCE(position, id), id",
      );
      return rows.map(messageOfRow);
    },
    async announcedHosts() {
      const { rows } = await db.query<NotifiedRow>('SELECT * FROM notified ORDER BY host');
      return rows.map(announcedOfRow);
    },
    async claim(id) {
      // A row another transaction holds (another node's claim or write) is not claimable.
      const { rowCount } = await db.query(
        "SELECT id FROM outbox WHERE id = $1 AND state = 'pending' FOR UPDATE SKIP LOCKED",
        [id],
      );
      return (rowCount ?? 0) > 0;
    },
    async markSent(id, at, receipt) {
      await db.query(
        "UPDATE outbox SET state = 'sent', attempts = attempts + 1, done_at = $1, receipt = $2, last_error = NULL WHERE id = $3",
        [at, pgText(receipt), id],
      );
    },
    async markRetry(id, attempts, nextAttemptAt, error) {
      await db.query('UPDATE outbox SET attempts = $1, next_attempt_at = $2, last_error = $3 WHERE id = $4', [
        attempts,
        nextAttemptAt,
        pgText(error),
        id,
      ]);
    },
    async markFailed(id, attempts, at, error) {
      await db.query(
        "UPDATE outbox SET state = 'failed', attempts = $1, done_at = $2, last_error = $3 WHERE id = $4",
        [attempts, at, pgText(error), id],
      );
    },
    async merge(ids, digest) {
      const stored = await queue(digest);
      if (!stored) throw new Error(`a digest with key ${digest.notification.dedupKey} is already queued`);
      await db.query(
        "UPDATE outbox SET state = 'merged', merged_into = $1, done_at = $2 WHERE id = ANY($3::bigint[]) AND state = 'pending'",
        [stored.id, digest.createdAt, [...ids]],
      );
      // A digest goes where the earliest message it carries stood (a carried digest by its own place).
      const { rows } = await db.query<MessageRow>(
        `UPDATE outbox SET position = (
           SELECT MIN(COALESCE(position, id)) FROM outbox
           WHERE state = 'merged' AND channel = $2 AND merged_into = $1)
         WHERE id = $1 RETURNING *`,
        [stored.id, digest.channel],
      );
      return messageOfRow(rows[0]!);
    },
    async list(query: OutboxQuery) {
      const where: string[] = [];
      const values: unknown[] = [];
      if (query.state !== undefined) {
        values.push(query.state);
        where.push(`state = $${values.length}`);
      }
      if (query.channel !== undefined) {
        values.push(query.channel);
        where.push(`channel = $${values.length}`);
      }
      values.push(query.limit);
      const { rows } = await db.query<MessageRow>(
        `SELECT * FROM outbox ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY id DESC LIMIT $${values.length}`,
        values,
      );
      return rows.map(messageOfRow);
    },
    async countByState() {
      const { rows } = await db.query<{ channel: string; state: OutboxState; count: number }>(
        'SELECT channel, state, COUNT(*) AS count FROM outbox GROUP BY channel, state',
      );
      return rows;
    },
    async prune(olderThan) {
      const { rowCount } = await db.query("DELETE FROM outbox WHERE state <> 'pending' AND created_at < $1", [
        olderThan,
      ]);
      return rowCount ?? 0;
    },
  };
}
