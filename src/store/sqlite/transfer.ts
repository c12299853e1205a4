import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Notification } from '../../model/notification.js';
import type { OutboxState, TriggerDetail, TriggerKind } from '../../model/outbox.js';
import type { PingKind } from '../ping-store.js';
import { PINGS_KEPT } from '../ping-store.js';
import type { StoreContext } from '../store.js';
import {
  type LastIds,
  noRows,
  pagesOf,
  StoreNotEmptyError,
  type StoreTransfer,
  TRANSFER_KINDS,
  type TransferCounts,
  type TransferKind,
  type TransferRows,
} from '../transfer.js';
import { damageOf, parseJsonColumn } from './damage.js';
import { fromRow, type HostRow, toRow } from './host-row.js';
import { openSqliteStore, type SqliteOptions } from './store.js';

type Row = Record<string, unknown>;

/** How each kind is kept: its table, the columns that order it, and how a row is read and written. */
interface Table<K extends TransferKind> {
  table: string;
  /** Unique, in the order rows are read and written. */
  key: readonly string[];
  read(row: Row): TransferRows[K] | string;
  write(record: TransferRows[K]): Row;
}

const json = (column: string, text: unknown) => {
  const parsed = parseJsonColumn(column, String(text));
  return typeof parsed === 'string' ? parsed : { value: parsed.value };
};

const TABLES: { [K in TransferKind]: Table<K> } = {
  hosts: {
    table: 'hosts',
    key: ['id'],
    read: (row) => fromRow(row as unknown as HostRow),
    write: (host) => ({ ...toRow(host) }),
  },
  events: {
    table: 'events',
    key: ['id'],
    read: (row) => ({
      id: row.id as number,
      at: row.at as number,
      host: row.host as string,
      kind: row.kind as TransferRows['events']['kind'],
      from: row.from_value as string | null,
      to: row.to_value as string | null,
      reason: row.reason as string,
    }),
    write: (e) => ({
      id: e.id,
      at: e.at,
      host: e.host,
      kind: e.kind,
      from_value: e.from,
      to_value: e.to,
      reason: e.reason,
    }),
  },
  dns: {
    table: 'dns_records',
    key: ['host'],
    read: (row) => ({
      host: row.host as string,
      name: row.name as string,
      A: row.a as string | null,
      AAAA: row.aaaa as string | null,
      lastSuccess: row.last_success as number | null,
      lastError: row.last_error as string | null,
      lastErrorAt: row.last_error_at as number | null,
    }),
    write: (r) => ({
      host: r.host,
      name: r.name,
      a: r.A,
      aaaa: r.AAAA,
      last_success: r.lastSuccess,
      last_error: r.lastError,
      last_error_at: r.lastErrorAt,
    }),
  },
  triggers: {
    table: 'notify_triggers',
    key: ['id'],
    read: (row) => {
      const detail = json('detail', row.detail);
      if (typeof detail === 'string') return detail;
      return {
        id: row.id as number,
        eventId: row.event_id as number,
        at: row.at as number,
        host: row.host as string,
        kind: row.kind as TriggerKind,
        detail: detail.value as TriggerDetail,
      };
    },
    write: (t) => ({
      id: t.id,
      event_id: t.eventId,
      at: t.at,
      host: t.host,
      kind: t.kind,
      detail: JSON.stringify(t.detail),
    }),
  },
  messages: {
    table: 'outbox',
    key: ['id'],
    read: (row) => {
      const notification = json('notification', row.notification);
      if (typeof notification === 'string') return notification;
      return {
        id: row.id as number,
        channel: row.channel as string,
        notification: notification.value as Notification,
        state: row.state as OutboxState,
        createdAt: row.created_at as number,
        attempts: row.attempts as number,
        nextAttemptAt: row.next_attempt_at as number,
        deadlineAt: row.deadline_at as number,
        lastError: row.last_error as string | null,
        doneAt: row.done_at as number | null,
        receipt: row.receipt as string | null,
        mergedInto: row.merged_into as number | null,
        position: (row.position as number | null) ?? (row.id as number),
      };
    },
    write: (m) => ({
      id: m.id,
      channel: m.channel,
      dedup_key: m.notification.dedupKey,
      kind: m.notification.kind,
      notification: JSON.stringify(m.notification),
      state: m.state,
      created_at: m.createdAt,
      attempts: m.attempts,
      next_attempt_at: m.nextAttemptAt,
      deadline_at: m.deadlineAt,
      last_error: m.lastError,
      done_at: m.doneAt,
      receipt: m.receipt,
      merged_into: m.mergedInto,
      position: m.position,
    }),
  },
  announced: {
    table: 'notified',
    key: ['host'],
    read: (row) => ({
      host: row.host as string,
      downAt: row.down_at as number | null,
      status: row.status as string | null,
      remindedAt: row.reminded_at as number | null,
    }),
    write: (a) => ({ host: a.host, down_at: a.downAt, status: a.status, reminded_at: a.remindedAt }),
  },
  silences: {
    table: 'silences',
    key: ['id'],
    read: (row) => ({
      id: row.id as number,
      pattern: row.pattern as string,
      until: row.until as number,
      reason: row.reason as string | null,
      createdAt: row.created_at as number,
    }),
    write: (s) => ({
      id: s.id,
      pattern: s.pattern,
      until: s.until,
      reason: s.reason,
      created_at: s.createdAt,
    }),
  },
  sessions: {
    table: 'sessions',
    key: ['rowid'],
    read: (row) => ({
      key: row.key as string,
      user: row.user as string,
      role: row.role as TransferRows['sessions']['role'],
      csrf: row.csrf as string,
      credential: row.credential as string,
      created: row.created as number,
      lastSeen: row.last_seen as number,
    }),
    write: (s) => ({
      key: s.key,
      user: s.user,
      role: s.role,
      csrf: s.csrf,
      credential: s.credential,
      created: s.created,
      last_seen: s.lastSeen,
    }),
  },
  pings: {
    table: 'pings',
    key: ['host', 'n'],
    read: (row) => ({
      host: row.host as string,
      at: row.at as number,
      protocol: row.protocol as string,
      kind: row.kind as PingKind,
      exitCode: row.exit_code as number | null,
      body: row.body as string | null,
      addr: row.addr as string,
      runId: row.run_id as string | null,
      n: row.n as number,
    }),
    write: (p) => ({
      host: p.host,
      slot: p.n % PINGS_KEPT,
      n: p.n,
      at: p.at,
      protocol: p.protocol,
      kind: p.kind,
      exit_code: p.exitCode,
      body: p.body,
      addr: p.addr,
      run_id: p.runId,
    }),
  },
};

/** Tables whose ids SQLite keeps in sqlite_sequence (AUTOINCREMENT): the others reuse the highest. */
const SEQUENCED: readonly [keyof LastIds, string][] = [
  ['events', 'events'],
  ['silences', 'silences'],
];
const MAX_ID: readonly [keyof LastIds, string][] = [
  ['triggers', 'notify_triggers'],
  ['messages', 'outbox'],
];

/**
 * The SQLite store opened for `hbd store copy`: the file is brought to the current schema by
 * the store itself (and created, for a target), then read and written row by row.
 */
export async function openSqliteTransfer(
  options: SqliteOptions,
  context: StoreContext,
): Promise<StoreTransfer> {
  const path = options.path ?? context.pickfile;
  await openSqliteStore({ path }, context).close();
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (error) {
    throw damageOf(path, error);
  }
  const skip = (kind: TransferKind, key: unknown[], problem: string) =>
    context.warn(
      `state file ${path}, table ${TABLES[kind].table}, row ${key.join(', ')}: ${problem}; not copied`,
    );
  const counts = (): TransferCounts => {
    const counted = noRows();
    for (const kind of TRANSFER_KINDS) {
      counted[kind] = db.prepare<[], number>(`SELECT count(*) FROM ${TABLES[kind].table}`).pluck().get() ?? 0;
    }
    return counted;
  };

  return {
    location: path,
    counts: async () => counts(),
    async lastIds() {
      const ids = { events: 0, triggers: 0, messages: 0, silences: 0 };
      for (const [kind, table] of SEQUENCED) {
        ids[kind] =
          db.prepare<[string], number>('SELECT seq FROM sqlite_sequence WHERE name = ?').pluck().get(table) ??
          0;
      }
      for (const [kind, table] of MAX_ID) {
        ids[kind] = db.prepare<[], number | null>(`SELECT MAX(id) FROM ${table}`).pluck().get() ?? 0;
      }
      return ids;
    },
    rows<K extends TransferKind>(kind: K) {
      const { table, key, read } = TABLES[kind] as unknown as Table<K>;
      const keys = key.join(', ');
      // rowid is not part of `*`: ask for it by name where it orders the rows.
      const columns = key.includes('rowid') ? 'rowid, *' : '*';
      return pagesOf<TransferRows[K], unknown[]>(async (after, limit) => {
        const where = after === undefined ? '' : `WHERE (${keys}) > (${key.map(() => '?').join(', ')})`;
        const rows = db
          .prepare<unknown[], Row>(`SELECT ${columns} FROM ${table} ${where} ORDER BY ${keys} LIMIT ?`)
          .all(...(after ?? []), limit);
        const kept: TransferRows[K][] = [];
        for (const row of rows) {
          const record = read(row);
          if (typeof record === 'string')
            skip(
              kind,
              key.map((column) => row[column]),
              record,
            );
          else kept.push(record);
        }
        const last = rows.at(-1);
        return { rows: kept, fetched: rows.length, last: last && key.map((column) => last[column]) };
      });
    },
    async inUse() {
      // The writer keeps a beat log beside the file from start to a clean stop.
      if (!existsSync(`${path}.beats`)) return undefined;
      return (
        `hbd is running on it, or stopped without a clean shutdown (its beat log ${path}.beats is there). ` +
        'Stop hbd; after a crash, start and stop it once so that it stores what the beat log holds'
      );
    },
    async fill(source, { replace }) {
      db.exec('BEGIN IMMEDIATE');
      try {
        const before = counts();
        if (!replace && TRANSFER_KINDS.some((kind) => before[kind] > 0)) {
          throw new StoreNotEmptyError(path, before);
        }
        for (const kind of TRANSFER_KINDS) db.exec(`DELETE FROM ${TABLES[kind].table}`);
        db.exec(`DELETE FROM sqlite_sequence WHERE name IN ('events', 'silences')`);
        const written = noRows();
        for (const kind of TRANSFER_KINDS) {
          const { table, write } = TABLES[kind] as unknown as Table<typeof kind>;
          let insert: Database.Statement<[Row]> | undefined;
          for await (const page of source.rows(kind)) {
            for (const record of page) {
              const row = write(record as never);
              insert ??= db.prepare<[Row]>(
                `INSERT INTO ${table} (${Object.keys(row)
                  .map((column) => `"${column}"`)
                  .join(', ')}) VALUES (${Object.keys(row)
                  .map((column) => `@${column}`)
                  .join(', ')})`,
              );
              insert.run(row);
            }
            written[kind] += page.length;
          }
        }
        // AUTOINCREMENT ids go on after the last the source handed out, so none is given twice.
        const lastIds = await source.lastIds();
        for (const [kind, table] of SEQUENCED) {
          db.prepare('DELETE FROM sqlite_sequence WHERE name = ?').run(table);
          const highest = db.prepare<[], number | null>(`SELECT MAX(id) FROM ${table}`).pluck().get() ?? 0;
          const last = Math.max(highest, lastIds[kind]);
          if (last > 0) db.prepare('INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)').run(table, last);
        }
        db.exec('COMMIT');
        return written;
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw damageOf(path, error);
      }
    },
    async close() {
      db.close();
    },
  };
}
