import { ROLES } from '../../model/role.js';
import type { SessionRecord } from '../../model/session.js';
import type { SessionStore } from '../store.js';
import { type Db, pgText } from './db.js';
import type { SkipRow } from './skip-row.js';

export interface SessionRow {
  id: number;
  key: string;
  user_name: string;
  role: string;
  csrf: string;
  credential: string;
  created: number;
  last_seen: number;
}

export const SESSION_COLUMNS = 'key, user_name, role, csrf, credential, created, last_seen';

export function sessionValues(session: SessionRecord): unknown[] {
  return [
    session.key,
    pgText(session.user),
    session.role,
    session.csrf,
    session.credential,
    session.created,
    session.lastSeen,
  ];
}

/** The session a row holds, or what is wrong with it: a role hbd does not know is never trusted. */
export function sessionOfRow(row: SessionRow): SessionRecord | string {
  if (!(ROLES as readonly string[]).includes(row.role)) return `column role is ${JSON.stringify(row.role)}`;
  return {
    key: row.key,
    user: row.user_name,
    role: row.role as SessionRecord['role'],
    csrf: row.csrf,
    credential: row.credential,
    created: row.created,
    lastSeen: row.last_seen,
  };
}

/** The `sessions` table, in login order (its id). */
export function createPgSessions(db: Db, skipRow: SkipRow): SessionStore {
  const read = (row: SessionRow): SessionRecord | undefined => {
    const session = sessionOfRow(row);
    if (typeof session !== 'string') return session;
    skipRow('sessions', row.id, undefined, session);
    return undefined;
  };
  return {
    async add(session) {
      await db.query(`INSERT INTO sessions (${SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
        ...sessionValues(session),
      ]);
    },
    async get(key) {
      const { rows } = await db.query<SessionRow>('SELECT * FROM sessions WHERE key = $1', [key]);
      return rows[0] && read(rows[0]);
    },
    async touch(key, at) {
      await db.query('UPDATE sessions SET last_seen = $1 WHERE key = $2', [at, key]);
    },
    async list() {
      const { rows } = await db.query<SessionRow>('SELECT * FROM sessions ORDER BY id');
      return rows.map(read).filter((session): session is SessionRecord => session !== undefined);
    },
    async remove(keys) {
      if (keys.length === 0) return 0;
      const { rowCount } = await db.query('DELETE FROM sessions WHERE key = ANY($1::text[])', [[...keys]]);
      return rowCount ?? 0;
    },
  };
}
