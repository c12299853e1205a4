import type { HostEvent } from '../../model/events.js';
import type { EventLimits, EventQuery, EventStore, RetentionPolicy } from '../store.js';
import { type Db, pgText, placeholders } from './db.js';
import type { PgEventBounds } from './event-bounds.js';

interface EventRow {
  id: number;
  at: number;
  host: string;
  kind: HostEvent['kind'];
  from_value: string | null;
  to_value: string | null;
  reason: string;
}

/** The `events` table, kept within `limits()` by `bounds` as events are appended. */
export function createPgEvents(
  db: Db,
  bounds: PgEventBounds,
  limits: () => EventLimits,
  /** What the event counts are valid under (see PgEventBounds). */
  boundsKey: () => number,
): EventStore {
  return {
    async append(list) {
      if (list.length === 0) return [];
      await bounds.ready(db, boundsKey());
      const stored: HostEvent[] = [];
      for (let i = 0; i < list.length; i += 1000) {
        const batch = list.slice(i, i + 1000);
        const { rows } = await db.query<{ id: number }>(
          `INSERT INTO events (at, host, kind, from_value, to_value, reason)
           VALUES ${placeholders(batch.length, 6)} RETURNING id`,
          batch.flatMap((event) => [
            event.at,
            event.host,
            event.kind,
            pgText(event.from),
            pgText(event.to),
            pgText(event.reason),
          ]),
        );
        // Ids are handed out in the order the rows are inserted, whatever order RETURNING uses.
        const ids = rows.map((row) => row.id).sort((a, b) => a - b);
        for (const [j, event] of batch.entries()) stored.push({ ...event, id: ids[j]! });
      }
      await bounds.added(
        db,
        list.map((event) => event.host),
        limits(),
      );
      return stored;
    },
    async list(query: EventQuery) {
      const where: string[] = [];
      const values: unknown[] = [];
      if (query.host !== undefined) {
        values.push(query.host);
        where.push(`host = $${values.length}`);
      }
      if (query.since !== undefined) {
        values.push(query.since);
        where.push(`at >= $${values.length}`);
      }
      if (query.afterId !== undefined) {
        values.push(query.afterId);
        where.push(`id > $${values.length}`);
      }
      values.push(query.limit);
      const { rows } = await db.query<EventRow>(
        `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY id DESC LIMIT $${values.length}`,
        values,
      );
      return rows.map(fromEventRow);
    },
    async previousStateChange(host, beforeEventId) {
      // Up ⇄ late is no change for "had been up for" (as in the SQLite driver).
      const { rows } = await db.query<{ at: number }>(
        `SELECT at FROM events WHERE host = $1 AND kind = 'state' AND id < $2
           AND NOT (COALESCE(from_value, '') IN ('up', 'late') AND to_value IN ('up', 'late'))
         ORDER BY id DESC LIMIT 1`,
        [host, beforeEventId],
      );
      return rows[0]?.at;
    },
    async prune(policy: RetentionPolicy) {
      const old = await db.query('DELETE FROM events WHERE at < $1', [policy.olderThan]);
      // By count, not by id: ids have gaps wherever a host's oldest events were trimmed.
      const beyond = await db.query(
        'DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id DESC OFFSET $1)',
        [policy.maxEvents],
      );
      const deleted = (old.rowCount ?? 0) + (beyond.rowCount ?? 0);
      if (deleted > 0) await bounds.pruned(db, boundsKey());
      return deleted;
    },
  };
}

export function fromEventRow(row: EventRow): HostEvent {
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
