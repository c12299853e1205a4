import type Database from 'better-sqlite3';
import type { HostEvent } from '../../model/events.js';
import type { EventLimits, EventQuery, EventStore, RetentionPolicy } from '../store.js';
import { EventBounds } from './event-bounds.js';
import type { Sync } from './sync.js';

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
 * The `events` table (schema 1). `bounds` keeps it within `limits()` as events are appended;
 * the store tells it when each transaction ends.
 */
export function createSqliteEvents(
  db: Database.Database,
  limits: () => EventLimits,
): { events: Sync<EventStore>; bounds: EventBounds } {
  const bounds = new EventBounds(db);
  const insertEvent = db.prepare<Omit<EventRow, 'id'>>(
    `INSERT INTO events (at, host, kind, from_value, to_value, reason)
     VALUES (@at, @host, @kind, @from_value, @to_value, @reason)`,
  );
  // Up ⇄ late is no change for "had been up for": a host goes late on its way down, and
  // counting that would make every down say it had been up for one grace period.
  const selectPreviousChange = db.prepare<[string, number], { at: number }>(
    `SELECT at FROM events WHERE host = ? AND kind = 'state' AND id < ?
       AND NOT (IFNULL(from_value, '') IN ('up', 'late') AND to_value IN ('up', 'late'))
     ORDER BY id DESC LIMIT 1`,
  );
  const deleteOlder = db.prepare<[number]>('DELETE FROM events WHERE at < ?');
  // By count, not by id: ids have gaps wherever a host's oldest events were trimmed, and
  // `MAX(id) - maxEvents` would take the quiet hosts' history along with the flood's.
  const deleteBeyond = db.prepare<[number]>(
    'DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id DESC LIMIT -1 OFFSET ?)',
  );

  const events: Sync<EventStore> = {
    append(list) {
      const stored = list.map((event) => {
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
      if (stored.length > 0)
        bounds.added(
          list.map((event) => event.host),
          limits(),
        );
      return stored;
    },
    list(query: EventQuery): HostEvent[] {
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
    previousStateChange: (host, beforeEventId) => selectPreviousChange.get(host, beforeEventId)?.at,
    prune(policy: RetentionPolicy): number {
      const deleted = deleteOlder.run(policy.olderThan).changes + deleteBeyond.run(policy.maxEvents).changes;
      if (deleted > 0) bounds.pruned();
      return deleted;
    },
  };
  return { events, bounds };
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
