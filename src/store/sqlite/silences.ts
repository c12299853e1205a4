import type Database from 'better-sqlite3';
import type { Silence } from '../../model/silence.js';
import type { SilenceStore } from '../silence-store.js';
import type { Sync } from './sync.js';

interface SilenceRow {
  id: number;
  pattern: string;
  until: number;
  reason: string | null;
  created_at: number;
}

/** Silences in the `silences` table of the store's database (schema 3 and later). */
export function createSqliteSilences(db: Database.Database): Sync<SilenceStore> {
  const insert = db.prepare<[string, number, string | null, number]>(
    'INSERT INTO silences (pattern, until, reason, created_at) VALUES (?, ?, ?, ?)',
  );
  const selectActive = db.prepare<[number], SilenceRow>(
    'SELECT * FROM silences WHERE until > ? ORDER BY until, id',
  );
  const deleteById = db.prepare<[number]>('DELETE FROM silences WHERE id = ?');
  const deleteExpired = db.prepare<[number]>('DELETE FROM silences WHERE until <= ?');

  return {
    add(silence) {
      const { lastInsertRowid } = insert.run(
        silence.pattern,
        silence.until,
        silence.reason,
        silence.createdAt,
      );
      return { id: Number(lastInsertRowid), ...silence };
    },
    active: (now) => selectActive.all(now).map(fromRow),
    remove: (id) => deleteById.run(id).changes > 0,
    pruneExpired: (now) => deleteExpired.run(now).changes,
  };
}

function fromRow(row: SilenceRow): Silence {
  return {
    id: row.id,
    pattern: row.pattern,
    until: row.until,
    reason: row.reason,
    createdAt: row.created_at,
  };
}
