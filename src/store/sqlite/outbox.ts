import type Database from 'better-sqlite3';
import type { Notification } from '../../model/notification.js';
import type {
  AnnouncedHost,
  Decision,
  NewMessage,
  OutboxMessage,
  OutboxQuery,
  OutboxState,
  Trigger,
  TriggerDetail,
  TriggerKind,
} from '../../model/outbox.js';
import type { OutboxStore } from '../outbox-store.js';
import { type BadRowReporter, parseJsonColumn } from './damage.js';
import type { Sync } from './sync.js';

interface TriggerRow {
  id: number;
  event_id: number;
  at: number;
  host: string;
  kind: TriggerKind;
  detail: string;
}

interface MessageRow {
  id: number;
  channel: string;
  dedup_key: string;
  kind: string;
  notification: string;
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

interface NotifiedRow {
  host: string;
  down_at: number | null;
  status: string | null;
  reminded_at: number | null;
}

/**
 * The notification tables (schema 3, with `position` from schema 4). A row
 * whose JSON cannot be read is skipped and told to `skipRow`: one bad message must not stop
 * hbd, nor the messages behind it.
 */
export function createSqliteOutbox(db: Database.Database, skipRow: BadRowReporter): Sync<OutboxStore> {
  const messagesOf = (rows: MessageRow[]): OutboxMessage[] => {
    const messages: OutboxMessage[] = [];
    for (const row of rows) {
      const message = fromMessageRow(row);
      if (typeof message === 'string') skipRow('outbox', row.id, undefined, message);
      else messages.push(message);
    }
    return messages;
  };
  const storedMessage = (id: number): OutboxMessage => {
    const message = fromMessageRow(selectMessage.get(id)!);
    // Just written from a Notification: it can only be unreadable if the file is damaged.
    if (typeof message === 'string') throw new Error(`outbox row ${id}: ${message}`);
    return message;
  };
  const insertTrigger = db.prepare<[number, number, string, string, string]>(
    'INSERT INTO notify_triggers (event_id, at, host, kind, detail) VALUES (?, ?, ?, ?, ?)',
  );
  const selectTriggers = db.prepare<[], TriggerRow>('SELECT * FROM notify_triggers ORDER BY id');
  const deleteTrigger = db.prepare<[number]>('DELETE FROM notify_triggers WHERE id = ?');
  const insertMessage = db.prepare<[string, string, string, string, number, number, number], { id: number }>(
    `INSERT INTO outbox (channel, dedup_key, kind, notification, state, created_at, attempts,
                         next_attempt_at, deadline_at)
     VALUES (?, ?, ?, ?, 'pending', ?, 0, ?, ?)
     ON CONFLICT (channel, dedup_key) DO NOTHING
     RETURNING id`,
  );
  const selectMessage = db.prepare<[number], MessageRow>('SELECT * FROM outbox WHERE id = ?');
  const selectPending = db.prepare<[], MessageRow>(
    "SELECT * FROM outbox WHERE state = 'pending' ORDER BY IFNULL(position, id), id",
  );
  // A digest goes where the earliest message it carries stood (a carried digest counts by
  // its own position). The index on (state, channel, id) finds the carried rows.
  const placeDigest = db.prepare<{ digest: number; channel: string }>(
    `UPDATE outbox SET position = (
       SELECT MIN(IFNULL(position, id)) FROM outbox
       WHERE state = 'merged' AND channel = @channel AND merged_into = @digest)
     WHERE id = @digest`,
  );
  const upsertNotified = db.prepare<NotifiedRow>(
    `INSERT INTO notified (host, down_at, status, reminded_at) VALUES (@host, @down_at, @status, @reminded_at)
     ON CONFLICT (host) DO UPDATE SET down_at = excluded.down_at, status = excluded.status,
       reminded_at = excluded.reminded_at`,
  );
  const deleteNotified = db.prepare<[string]>('DELETE FROM notified WHERE host = ?');
  const selectNotified = db.prepare<[], NotifiedRow>('SELECT * FROM notified');
  const selectPendingId = db
    .prepare<[number], number>("SELECT id FROM outbox WHERE id = ? AND state = 'pending'")
    .pluck();
  const updateSent = db.prepare<[number, string, number]>(
    "UPDATE outbox SET state = 'sent', attempts = attempts + 1, done_at = ?, receipt = ?, last_error = NULL WHERE id = ?",
  );
  const updateRetry = db.prepare<[number, number, string, number]>(
    'UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?',
  );
  const updateFailed = db.prepare<[number, number, string, number]>(
    "UPDATE outbox SET state = 'failed', attempts = ?, done_at = ?, last_error = ? WHERE id = ?",
  );
  const updateMerged = db.prepare<[number, number, number]>(
    "UPDATE outbox SET state = 'merged', merged_into = ?, done_at = ? WHERE id = ? AND state = 'pending'",
  );
  const selectCounts = db.prepare<[], { channel: string; state: OutboxState; count: number }>(
    'SELECT channel, state, COUNT(*) AS count FROM outbox GROUP BY channel, state',
  );
  const deleteOld = db.prepare<[number]>("DELETE FROM outbox WHERE state != 'pending' AND created_at < ?");

  function queue(message: NewMessage): OutboxMessage | undefined {
    const { notification } = message;
    const row = insertMessage.get(
      message.channel,
      notification.dedupKey,
      notification.kind,
      JSON.stringify(notification),
      message.createdAt,
      message.createdAt,
      message.deadlineAt,
    );
    return row && storedMessage(row.id);
  }

  const decide = db.transaction((decision: Decision): OutboxMessage[] => {
    for (const id of decision.consumed) deleteTrigger.run(id);
    for (const host of decision.notified) {
      if (host.downAt === null && host.status === null) deleteNotified.run(host.host);
      else
        upsertNotified.run({
          host: host.host,
          down_at: host.downAt,
          status: host.status,
          reminded_at: host.remindedAt,
        });
    }
    const queued: OutboxMessage[] = [];
    for (const message of decision.messages) {
      const stored = queue(message);
      if (stored) queued.push(stored);
    }
    return queued;
  });

  const merge = db.transaction((ids: readonly number[], digest: NewMessage): OutboxMessage => {
    const stored = queue(digest);
    if (!stored) throw new Error(`a digest with key ${digest.notification.dedupKey} is already queued`);
    for (const id of ids) updateMerged.run(stored.id, digest.createdAt, id);
    placeDigest.run({ digest: stored.id, channel: digest.channel });
    return storedMessage(stored.id);
  });

  return {
    addTriggers: (triggers) =>
      triggers.map((trigger) => {
        const { lastInsertRowid } = insertTrigger.run(
          trigger.eventId,
          trigger.at,
          trigger.host,
          trigger.kind,
          JSON.stringify(trigger.detail),
        );
        return { ...trigger, id: Number(lastInsertRowid) };
      }),
    pendingTriggers() {
      const triggers: Trigger[] = [];
      for (const row of selectTriggers.iterate()) {
        const detail = parseJsonColumn('detail', row.detail);
        if (typeof detail === 'string') {
          skipRow('notify_triggers', row.id, row.host, detail);
          continue;
        }
        triggers.push({
          id: row.id,
          eventId: row.event_id,
          at: row.at,
          host: row.host,
          kind: row.kind,
          detail: detail.value as TriggerDetail,
        });
      }
      return triggers;
    },
    decide: (decision) => decide(decision),
    pendingMessages: () => messagesOf(selectPending.all()),
    announcedHosts: () =>
      selectNotified.all().map(
        (row): AnnouncedHost => ({
          host: row.host,
          downAt: row.down_at,
          status: row.status,
          remindedAt: row.reminded_at,
        }),
      ),
    // One process writes the file: a message still pending is this process's to send.
    claim: (id) => selectPendingId.get(id) !== undefined,
    markSent(id, at, receipt) {
      updateSent.run(at, receipt, id);
    },
    markRetry(id, attempts, nextAttemptAt, error) {
      updateRetry.run(attempts, nextAttemptAt, error, id);
    },
    markFailed(id, attempts, at, error) {
      updateFailed.run(attempts, at, error, id);
    },
    merge: (ids, digest) => merge(ids, digest),
    list(query: OutboxQuery): OutboxMessage[] {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (query.state !== undefined) {
        where.push('state = ?');
        params.push(query.state);
      }
      if (query.channel !== undefined) {
        where.push('channel = ?');
        params.push(query.channel);
      }
      const sql = `SELECT * FROM outbox ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                   ORDER BY id DESC LIMIT ?`;
      const rows = db.prepare<(string | number)[], MessageRow>(sql).all(...params, query.limit);
      return messagesOf(rows);
    },
    countByState: () => selectCounts.all(),
    prune: (olderThan) => deleteOld.run(olderThan).changes,
  };
}

/** The message a row holds, or what is wrong with it. */
function fromMessageRow(row: MessageRow): OutboxMessage | string {
  const notification = parseJsonColumn('notification', row.notification);
  if (typeof notification === 'string') return notification;
  return {
    id: row.id,
    channel: row.channel,
    notification: notification.value as Notification,
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
