import type Database from 'better-sqlite3';
import { PING_KINDS, PINGS_KEPT, type PingKind, type PingRecord, type PingStore } from '../ping-store.js';
import type { BadRowReporter } from './damage.js';
import type { Sync } from './sync.js';

interface PingRow {
  rowid: number;
  host: string;
  slot: number;
  n: number;
  at: number;
  protocol: string;
  kind: string;
  exit_code: number | null;
  body: string | null;
  addr: string;
  run_id: string | null;
}

/** The `pings` table (schema 6): each host's ring of its last PINGS_KEPT pings. */
export function createSqlitePings(db: Database.Database, skipRow: BadRowReporter): Sync<PingStore> {
  const lastNumber = db.prepare<[string], number | null>('SELECT MAX(n) FROM pings WHERE host = ?').pluck();
  // An update in place where the slot is taken: the row (and its rowid) is reused.
  const upsert = db.prepare<Omit<PingRow, 'rowid'>>(
    `INSERT INTO pings (host, slot, n, at, protocol, kind, exit_code, body, addr, run_id)
     VALUES (@host, @slot, @n, @at, @protocol, @kind, @exit_code, @body, @addr, @run_id)
     ON CONFLICT (host, slot) DO UPDATE SET
       n = excluded.n, at = excluded.at, protocol = excluded.protocol, kind = excluded.kind,
       exit_code = excluded.exit_code, body = excluded.body, addr = excluded.addr, run_id = excluded.run_id`,
  );
  const selectRecent = db.prepare<[string], PingRow>(
    'SELECT rowid, * FROM pings WHERE host = ? ORDER BY n DESC',
  );

  return {
    add(pings) {
      for (const ping of pings) {
        const n = (lastNumber.get(ping.host) ?? 0) + 1;
        upsert.run({
          host: ping.host,
          slot: n % PINGS_KEPT,
          n,
          at: ping.at,
          protocol: ping.protocol,
          kind: ping.kind,
          exit_code: ping.exitCode,
          body: ping.body,
          addr: ping.addr,
          run_id: ping.runId,
        });
      }
    },
    recent(host) {
      const pings: PingRecord[] = [];
      for (const row of selectRecent.iterate(host)) {
        if ((PING_KINDS as readonly string[]).includes(row.kind)) pings.push(fromRow(row));
        else skipRow('pings', row.rowid, row.host, `column kind is ${JSON.stringify(row.kind)}`);
      }
      return pings;
    },
  };
}

function fromRow(row: PingRow): PingRecord {
  return {
    host: row.host,
    at: row.at,
    protocol: row.protocol,
    kind: row.kind as PingKind,
    exitCode: row.exit_code,
    body: row.body,
    addr: row.addr,
    runId: row.run_id,
  };
}
