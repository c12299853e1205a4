import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { createPrivate, tightenPrivate } from '../lib/private-file.js';
import type { HostEvent } from '../model/events.js';
import type { HostRecord } from '../model/host.js';
import { type BadRowReporter, badRowMessage, damageOf, withDamageReported } from './damage.js';
import { EventBounds, type EventLimits } from './event-bounds.js';
import { fromRow, type HostRow, toRow } from './host-row.js';
import { createSqliteOutbox } from './sqlite-outbox.js';
import { createSqliteSilences } from './sqlite-silences.js';
import type { CommitBatch, EventQuery, RetentionPolicy, Store } from './store.js';

export const SQLITE_DRIVER = 'sqlite';

export interface SqliteStoreOptions {
  /** Path of the database file (`pickfile`), or ':memory:'. */
  path: string;
  /**
   * How many events to keep, enforced at every commit; read each time, so a reload applies at
   * once. Without it events are bounded only by `prune`.
   */
  eventLimits?: () => EventLimits;
  /** Told what the store found amiss and worked around: an empty file, a row it skips, a loose mode. */
  onWarning?: (message: string) => void;
}

/** Each entry upgrades the schema by one version; `PRAGMA user_version` says how far a file is. */
const MIGRATIONS: readonly string[] = [
  // Rows live in the order hosts first appeared (the rowid), which is the order of their
  // slots in the host table: a routine cycle, written in slot order, rewrites neighbouring
  // pages (measured: 7 µs a row instead of 22 at 100k hosts). The name index never changes.
  `CREATE TABLE hosts (
     id INTEGER PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     state TEXT NOT NULL,
     status TEXT NOT NULL,
     msg TEXT,
     fields TEXT,
     addr TEXT NOT NULL,
     ip4 TEXT,
     ip6 TEXT,
     signed INTEGER NOT NULL,
     first_seen REAL NOT NULL,
     last_seen REAL NOT NULL,
     last_ts REAL,
     every REAL,
     last_seq REAL,
     received INTEGER NOT NULL,
     lost INTEGER NOT NULL
   );
   CREATE TABLE events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     at REAL NOT NULL,
     host TEXT NOT NULL,
     kind TEXT NOT NULL,
     from_value TEXT,
     to_value TEXT,
     reason TEXT NOT NULL
   );
   CREATE INDEX events_by_host ON events (host, id);
   CREATE INDEX events_by_time ON events (at);`,
  `CREATE TABLE dns_records (
     host TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     a TEXT,
     aaaa TEXT,
     last_success REAL,
     last_error TEXT,
     last_error_at REAL
   ) WITHOUT ROWID;`,
  // Notifications. A trigger is written in the transaction of the transition that caused it
  // and deleted in the transaction that turns it into messages, so the table is exactly the
  // work not yet decided. Messages stay in the outbox after they are sent, for the API.
  `CREATE TABLE notify_triggers (
     id INTEGER PRIMARY KEY,
     event_id INTEGER NOT NULL,
     at REAL NOT NULL,
     host TEXT NOT NULL,
     kind TEXT NOT NULL,
     detail TEXT NOT NULL
   );
   CREATE TABLE outbox (
     id INTEGER PRIMARY KEY,
     channel TEXT NOT NULL,
     dedup_key TEXT NOT NULL,
     kind TEXT NOT NULL,
     notification TEXT NOT NULL,
     state TEXT NOT NULL,
     created_at REAL NOT NULL,
     attempts INTEGER NOT NULL,
     next_attempt_at REAL NOT NULL,
     deadline_at REAL NOT NULL,
     last_error TEXT,
     done_at REAL,
     receipt TEXT,
     merged_into INTEGER,
     UNIQUE (channel, dedup_key)
   );
   CREATE INDEX outbox_by_state ON outbox (state, channel, id);
   CREATE INDEX outbox_by_time ON outbox (created_at);
   CREATE TABLE notified (
     host TEXT PRIMARY KEY,
     down_at REAL,
     status TEXT,
     reminded_at REAL
   ) WITHOUT ROWID;
   CREATE TABLE silences (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     pattern TEXT NOT NULL,
     until REAL NOT NULL,
     reason TEXT,
     created_at REAL NOT NULL
   );`,
  // A message's place in its channel's delivery order: NULL for its id, and for a digest the
  // place of the earliest message it carries, so that it still goes before later messages
  // about those hosts, also after a restart.
  `ALTER TABLE outbox ADD COLUMN position INTEGER;`,
];

interface PublishedRow {
  host: string;
  name: string;
  a: string | null;
  aaaa: string | null;
  last_success: number | null;
  last_error: string | null;
  last_error_at: number | null;
}

interface EventRow {
  id: number;
  at: number;
  host: string;
  kind: HostEvent['kind'];
  from_value: string | null;
  to_value: string | null;
  reason: string;
}

/**
 * The embedded store: one SQLite file in WAL mode, written by hbd alone. A file SQLite calls
 * damaged throws a DamagedStateError naming it, from any method (see damage.ts).
 */
export default function createSqliteStore(options: SqliteStoreOptions): Store {
  try {
    return openSqliteStore(options);
  } catch (error) {
    // Also from what runs after the file opened: reading the schema, counting the events.
    throw damageOf(options.path, error);
  }
}

function openSqliteStore(options: SqliteStoreOptions): Store {
  const { path } = options;
  const warn = options.onWarning ?? (() => {});
  let db: Database.Database;
  try {
    if (path !== ':memory:') prepareFile(path, warn);
    db = new Database(path);
    // WAL + NORMAL: a committed transaction survives the process being killed (it is in
    // the OS's hands); only a power cut can take the last few, and nothing is torn.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 2000');
    migrate(db);
  } catch (error) {
    const damage = damageOf(path, error);
    if (damage !== error) throw damage;
    throw new Error(`sqlite store: cannot open ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const skipRow: BadRowReporter = (table, rowId, host, problem) =>
    warn(badRowMessage(path, table, rowId, host, problem, consequenceOfSkipping[table] ?? 'it is ignored'));
  const bounds = new EventBounds(db);

  const upsertHost = db.prepare<HostRow>(
    `INSERT INTO hosts (name, state, status, msg, fields, addr, ip4, ip6, signed, first_seen, last_seen,
                        last_ts, every, last_seq, received, lost)
     VALUES (@name, @state, @status, @msg, @fields, @addr, @ip4, @ip6, @signed, @first_seen, @last_seen,
             @last_ts, @every, @last_seq, @received, @lost)
     ON CONFLICT (name) DO UPDATE SET
       state = excluded.state, status = excluded.status, msg = excluded.msg, fields = excluded.fields,
       addr = excluded.addr, ip4 = excluded.ip4, ip6 = excluded.ip6, signed = excluded.signed,
       first_seen = excluded.first_seen, last_seen = excluded.last_seen, last_ts = excluded.last_ts,
       every = excluded.every, last_seq = excluded.last_seq, received = excluded.received, lost = excluded.lost`,
  );
  const updateTiming = db.prepare<
    [number, number | null, number | null, number | null, number, number, number, string]
  >(
    `UPDATE hosts SET last_seen = ?, last_ts = ?, last_seq = ?, every = ?, received = ?, lost = ?, signed = ?
     WHERE name = ?`,
  );
  const deleteHost = db.prepare<[string]>('DELETE FROM hosts WHERE name = ?');
  const insertEvent = db.prepare<Omit<EventRow, 'id'>>(
    `INSERT INTO events (at, host, kind, from_value, to_value, reason)
     VALUES (@at, @host, @kind, @from_value, @to_value, @reason)`,
  );
  const selectHosts = db.prepare<[], HostRow & { id: number }>('SELECT * FROM hosts ORDER BY id');
  const selectPublished = db.prepare<[], PublishedRow>('SELECT * FROM dns_records');
  const upsertPublished = db.prepare<PublishedRow>(
    `INSERT INTO dns_records (host, name, a, aaaa, last_success, last_error, last_error_at)
     VALUES (@host, @name, @a, @aaaa, @last_success, @last_error, @last_error_at)
     ON CONFLICT (host) DO UPDATE SET name = excluded.name, a = excluded.a, aaaa = excluded.aaaa,
       last_success = excluded.last_success, last_error = excluded.last_error, last_error_at = excluded.last_error_at`,
  );

  const commitTransaction = db.transaction(
    (batch: CommitBatch, inTransaction?: (events: readonly HostEvent[]) => void): HostEvent[] => {
      for (const name of batch.deletes) deleteHost.run(name);
      for (const host of batch.upserts) upsertHost.run(toRow(host));
      for (const t of batch.timings) {
        updateTiming.run(
          t.lastSeen,
          t.lastTs,
          t.lastSeq,
          t.every,
          t.received,
          t.lost,
          t.signed ? 1 : 0,
          t.name,
        );
      }
      const stored = batch.events.map((event) => {
        const { lastInsertRowid } = insertEvent.run({
          at: event.at,
          host: event.host,
          kind: event.kind,
          from_value: event.from,
          to_value: event.to,
          reason: event.reason,
        });
        return { ...event, id: Number(lastInsertRowid) };
      });
      bounds.added(
        batch.events.map((event) => event.host),
        options.eventLimits?.(),
      );
      inTransaction?.(stored);
      return stored;
    },
  );
  const commit = (batch: CommitBatch, inTransaction?: (events: readonly HostEvent[]) => void) => {
    try {
      const stored = commitTransaction(batch, inTransaction);
      bounds.committed();
      return stored;
    } catch (error) {
      bounds.rolledBack();
      throw error;
    }
  };

  const store: Store = {
    driver: SQLITE_DRIVER,
    loadHosts() {
      const hosts: HostRecord[] = [];
      for (const row of selectHosts.iterate()) {
        const host = fromRow(row);
        if (typeof host === 'string')
          skipRow('hosts', row.id, typeof row.name === 'string' ? row.name : undefined, host);
        else hosts.push(host);
      }
      return hosts;
    },
    commit: (batch, inTransaction) => commit(batch, inTransaction),
    events(query: EventQuery): HostEvent[] {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (query.host !== undefined) {
        where.push('host = ?');
        params.push(query.host);
      }
      if (query.since !== undefined) {
        where.push('at >= ?');
        params.push(query.since);
      }
      if (query.afterId !== undefined) {
        where.push('id > ?');
        params.push(query.afterId);
      }
      const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                   ORDER BY id DESC LIMIT ?`;
      return db
        .prepare<(string | number)[], EventRow>(sql)
        .all(...params, query.limit)
        .map(fromEventRow);
    },
    prune(policy: RetentionPolicy): number {
      const old = db.prepare('DELETE FROM events WHERE at < ?').run(policy.olderThan).changes;
      // By count, not by id: ids have gaps wherever a host's oldest events were trimmed, and
      // `MAX(id) - maxEvents` would take the quiet hosts' history along with the flood's.
      const excess = db
        .prepare('DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id DESC LIMIT -1 OFFSET ?)')
        .run(policy.maxEvents).changes;
      if (old + excess > 0) bounds.recount();
      return old + excess;
    },
    loadPublished: () =>
      selectPublished.all().map((row) => ({
        host: row.host,
        name: row.name,
        A: row.a,
        AAAA: row.aaaa,
        lastSuccess: row.last_success,
        lastError: row.last_error,
        lastErrorAt: row.last_error_at,
      })),
    savePublished(records) {
      upsertPublished.run({
        host: records.host,
        name: records.name,
        a: records.A,
        aaaa: records.AAAA,
        last_success: records.lastSuccess,
        last_error: records.lastError,
        last_error_at: records.lastErrorAt,
      });
    },
    silences: createSqliteSilences(db),
    outbox: createSqliteOutbox(db, skipRow),
    close: () => db.close(),
  };
  return withDamageReported(path, store);
}

/** What skipping a bad row of each table costs, for its warning. */
const consequenceOfSkipping: Readonly<Record<string, string>> = {
  hosts: 'hbd does not know this host until its next heartbeat, which replaces the row',
  notify_triggers: 'the notification it was waiting to become is not sent',
  outbox: 'this message is not sent, nor listed',
};

/**
 * Before SQLite opens the file: an empty file is worth a warning (SQLite would silently take it
 * for a new database, and hbd would start with no hosts); a new file is created 0600, and SQLite
 * gives its -wal and -shm files the mode of the database; an existing one readable by others is
 * made 0600 (it holds the fleet's names, addresses and messages, and only hbd reads it).
 */
function prepareFile(path: string, warn: (message: string) => void): void {
  mkdirSync(dirname(path), { recursive: true });
  if (sizeOf(path) === 0 && !(sizeOf(`${path}-wal`)! > 0)) {
    warn(
      `the state file ${path} is empty (0 bytes): hbd starts with no hosts and no history. ` +
        'If it held state, stop hbd and restore the file from a backup; if it is new, nothing is lost',
    );
  }
  createPrivate(path);
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (tightenPrivate(file)) warn(`${file} could be read by other users; its mode is now 0600`);
  }
}

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new Error(
      `the file was written by a newer hbd (schema ${version}, this one knows ${MIGRATIONS.length})`,
    );
  }
  db.transaction(() => {
    for (let next = version; next < MIGRATIONS.length; next++) db.exec(MIGRATIONS[next]!);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  })();
}

function fromEventRow(row: EventRow): HostEvent {
  return {
    id: row.id,
    at: row.at,
    host: row.host,
    kind: row.kind,
    from: row.from_value,
    to: row.to_value,
    reason: row.reason,
  };
}
