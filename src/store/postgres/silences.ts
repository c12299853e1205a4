import type { Silence } from '../../model/silence.js';
import type { SilenceStore } from '../silence-store.js';
import { type Db, pgText } from './db.js';

export interface SilenceRow {
  id: number;
  pattern: string;
  until: number;
  reason: string | null;
  created_at: number;
}

export function silenceOfRow(row: SilenceRow): Silence {
  return {
    id: row.id,
    pattern: row.pattern,
    until: row.until,
    reason: row.reason,
    createdAt: row.created_at,
  };
}

/** The `silences` table. */
export function createPgSilences(db: Db): SilenceStore {
  return {
    async add(silence) {
      const { rows } = await db.query<{ id: number }>(
        'INSERT INTO silences (pattern, until, reason, created_at) VALUES ($1, $2, $3, $4) RETURNING id',
        [pgText(silence.pattern), silence.until, pgText(silence.reason), silence.createdAt],
      );
      return { id: rows[0]!.id, ...silence };
    },
    async active(now) {
      const { rows } = await db.query<SilenceRow>(
        'SELECT * FROM silences WHERE until > $1 ORDER BY until, id',
        [now],
      );
      return rows.map(silenceOfRow);
    },
    async remove(id) {
      const { rowCount } = await db.query('DELETE FROM silences WHERE id = $1', [id]);
      return (rowCount ?? 0) > 0;
    },
    async pruneExpired(now) {
      const { rowCount } = await db.query('DELETE FROM silences WHERE until <= $1', [now]);
      return rowCount ?? 0;
    },
  };
}
