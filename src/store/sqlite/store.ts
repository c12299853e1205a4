import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { createPrivate, tightenPrivate } from '../../lib/private-file.js';
import { BeatLog, readBeatLog } from '../beat-log.js';
import type { Store, StoreContext, StoreParts } from '../store.js';
import { WriteBehind } from '../write-behind.js';
import { type BadRowReporter, badRowMessage, damageOf } from './damage.js';
import { createSqliteDns } from './dns.js';
import { createSqliteEvents } from './events.js';
import { createSqliteHosts } from './hosts.js';
import { migrate } from './migrations.js';
import { createSqliteOutbox } from './outbox.js';
import { createSqlitePings } from './pings.js';
import { Serial } from './serial.js';
import { createSqliteSessions } from './sessions.js';
import { createSqliteSilences } from './silences.js';
import { PART_NAMES, type SyncParts } from './sync.js';

export const SQLITE_DRIVER = 'sqlite';

export interface SqliteOptions {
  /** The database file, or ':memory:'; by default the config's `pickfile`. */
  path?: string | undefined;
}

/**
 * How often the writer's cycle moves routine timing from the beat log into the file (the log
 * holds it meanwhile): storing a busy host once per cycle rather than once per heartbeat is
 * what lets a large fleet be heard at full speed.
 */
export const STORE_CYCLE_MS = 10_000;

/**
 * The embedded store: one SQLite file in WAL mode, written by hbd alone. A file SQLite calls
 * damaged throws a DamagedStateError naming it, from any method (see damage.ts).
 */
export function openSqliteStore(options: SqliteOptions, context: StoreContext): Store {
  const path = options.path ?? context.pickfile;
  try {
    return open(path, context);
  } catch (error) {
    // Also from what runs after the file opened: reading the schema, counting the events.
    throw damageOf(path, error);
  }
}

function open(path: string, context: StoreContext): Store {
  const { warn } = context;
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
  const { events, bounds } = createSqliteEvents(db, context.eventLimits);
  const parts: SyncParts = {
    hosts: createSqliteHosts(db, skipRow),
    events,
    dns: createSqliteDns(db),
    outbox: createSqliteOutbox(db, skipRow),
    silences: createSqliteSilences(db),
    sessions: createSqliteSessions(db, skipRow),
    pings: createSqlitePings(db, skipRow),
  };

  const serial = new Serial();
  // A call outside `transaction` is a transaction of its own (a deferred one: a read takes no lock).
  const inTransaction = db.transaction((job: () => unknown) => job());
  const alone = <T>(job: () => T): T => {
    try {
      const result = inTransaction(job) as T;
      bounds.committed();
      return result;
    } catch (error) {
      bounds.rolledBack();
      throw damageOf(path, error);
    }
  };

  let writerOpened = false;
  const store: Store = {
    driver: SQLITE_DRIVER,
    location: path,
    ...wrapParts(parts, (job) => serial.sync(() => alone(job))),
    transaction: (work) =>
      serial.async(async () => {
        // IMMEDIATE: the write lock is taken now, so no statement halfway through can meet a
        // busy database (another process reading the file, say) and leave the work half done.
        try {
          db.exec('BEGIN IMMEDIATE');
        } catch (error) {
          throw damageOf(path, error);
        }
        let open = true;
        const tx = wrapParts(parts, (job) => {
          if (!open) return Promise.reject(new Error('a transaction was used after it ended'));
          try {
            return Promise.resolve(job());
          } catch (error) {
            return Promise.reject(damageOf(path, error));
          }
        });
        try {
          const result = await work(tx);
          open = false;
          db.exec('COMMIT');
          bounds.committed();
          return result;
        } catch (error) {
          open = false;
          if (db.inTransaction) {
            try {
              db.exec('ROLLBACK');
            } catch {
              // What failed first is what the caller needs to hear.
            }
          }
          bounds.rolledBack();
          throw damageOf(path, error);
        }
      }),
    async openWriter(options) {
      // Two writers would each believe they own the beat log and the pending changes.
      if (writerOpened) throw new Error(`the store ${path} already has a writer`);
      writerOpened = true;
      const beats = path === ':memory:' ? undefined : `${path}.beats`;
      // Timing heard before a crash and not yet in the store: read before the log is reopened.
      const unstoredTimings = beats ? [...readBeatLog(beats).values()] : [];
      const beatLog =
        beats === undefined
          ? undefined
          : new BeatLog(beats, (error) => options.onFileError?.('beat log', beats, error));
      return new WriteBehind({
        ...options,
        store,
        beatLog,
        unstoredTimings,
        storeName: `state store ${path}`,
        flushIntervalMs: STORE_CYCLE_MS,
      });
    },
    close: () =>
      serial.sync(() => {
        db.close();
      }),
  };
  return store;
}

/** The synchronous sub-stores as asynchronous ones: every method goes through `run`. */
function wrapParts(parts: SyncParts, run: <T>(job: () => T) => Promise<T>): StoreParts {
  const wrapped: Record<string, Record<string, unknown>> = {};
  for (const name of PART_NAMES) {
    const methods: Record<string, unknown> = {};
    for (const [key, method] of Object.entries(
      parts[name] as Record<string, (...args: unknown[]) => unknown>,
    )) {
      methods[key] = (...args: unknown[]) => run(() => method(...args));
    }
    wrapped[name] = methods;
  }
  return wrapped as unknown as StoreParts;
}

/** What skipping a bad row of each table costs, for its warning. */
const consequenceOfSkipping: Readonly<Record<string, string>> = {
  hosts: 'hbd does not know this host until its next heartbeat, which replaces the row',
  notify_triggers: 'the notification it was waiting to become is not sent',
  outbox: 'this message is not sent, nor listed',
  sessions: 'whoever logged in with it logs in again',
  pings: 'this ping is not listed',
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
