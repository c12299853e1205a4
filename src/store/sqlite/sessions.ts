import type Database from 'better-sqlite3';
import { ROLES } from '../../model/role.js';
import type { SessionRecord } from '../../model/session.js';
import type { SessionStore } from '../store.js';
import type { BadRowReporter } from './damage.js';
import type { Sync } from './sync.js';

interface SessionRow {
  rowid: number;
  key: string;
  user: string;
  role: string;
  csrf: string;
  credential: string;
  created: number;
  last_seen: number;
}

/** The `sessions` table (schema 5). A row with a role hbd does not know is skipped, never trusted. */
export function createSqliteSessions(db: Database.Database, skipRow: BadRowReporter): Sync<SessionStore> {
  const insert = db.prepare<Omit<SessionRow, 'rowid'>>(
    `INSERT INTO sessions (key, user, role, csrf, credential, created, last_seen)
     VALUES (@key, @user, @role, @csrf, @credential, @created, @last_seen)`,
  );
  const selectOne = db.prepare<[string], SessionRow>('SELECT rowid, * FROM sessions WHERE key = ?');
  const selectAll = db.prepare<[], SessionRow>('SELECT rowid, * FROM sessions ORDER BY rowid');
  const updateLastSeen = db.prepare<[number, string]>('UPDATE sessions SET last_seen = ? WHERE key = ?');
  const deleteOne = db.prepare<[string]>('DELETE FROM sessions WHERE key = ?');

  const read = (row: SessionRow): SessionRecord | undefined => {
    const session = fromRow(row);
    if (typeof session !== 'string') return session;
    skipRow('sessions', row.rowid, undefined, session);
    return undefined;
  };
  return {
    add(session) {
      insert.run({
        key: session.key,
        user: session.user,
        role: session.role,
        csrf: session.csrf,
        credential: session.credential,
        created: session.created,
        last_seen: session.lastSeen,
      });
    },
    get(key) {
      const row = selectOne.get(key);
      return row && read(row);
    },
    touch(key, at) {
      updateLastSeen.run(at, key);
    },
    list() {
      const sessions: SessionRecord[] = [];
      for (const row of selectAll.iterate()) {
        const session = read(row);
        if (session) sessions.push(session);
      }
      return sessions;
    },
    remove(keys) {
      let removed = 0;
      for (const key of keys) removed += deleteOne.run(key).changes;
      return removed;
    },
  };
}

function fromRow(row: SessionRow): SessionRecord | string {
  if (!(ROLES as readonly string[]).includes(row.role)) return `column role is ${JSON.stringify(row.role)}`;
  return {
    key: row.key,
    user: row.user,
    role: row.role as SessionRecord['role'],
    csrf: row.csrf,
    credential: row.credential,
    created: row.created,
    lastSeen: row.last_seen,
  };
}
