import type Database from 'better-sqlite3';

/**
 * Each entry upgrades the schema by one version; `PRAGMA user_version` says how far a file is.
 * Entries are only ever added: a released one never changes (test/store/migrations.test.ts
 * builds a file at every version from them and upgrades it).
 */
export const MIGRATIONS: readonly string[] = [
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
  // Logged-in sessions, so that a restart logs nobody out. `key` is a digest of the session id
  // (the cookie), `credential` a digest of the password hash: nothing here works as a cookie or
  // can be guessed at offline. In login order (the rowid).
  `CREATE TABLE sessions (
     key TEXT NOT NULL UNIQUE,
     user TEXT NOT NULL,
     role TEXT NOT NULL,
     csrf TEXT NOT NULL,
     credential TEXT NOT NULL,
     created REAL NOT NULL,
     last_seen REAL NOT NULL
   );`,
  // The last pings of each host (store/ping-store.ts): a ring of PINGS_KEPT rows per host. `n`
  // numbers a host's pings; the one numbered n takes slot n % PINGS_KEPT, replacing the row
  // there in place, so a host looping pings rewrites its own rows and never adds any.
  `CREATE TABLE pings (
     host TEXT NOT NULL,
     slot INTEGER NOT NULL,
     n INTEGER NOT NULL,
     at REAL NOT NULL,
     protocol TEXT NOT NULL,
     kind TEXT NOT NULL,
     exit_code INTEGER,
     body TEXT,
     addr TEXT NOT NULL,
     run_id TEXT,
     UNIQUE (host, slot)
   );`,
];

/** Brings the file to the current schema, in one transaction; refuses a file of a newer hbd. */
export function migrate(db: Database.Database): void {
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
