import { PING_KINDS, PINGS_KEPT, type PingKind, type PingStore } from '../ping-store.js';
import type { NumberedPing } from '../transfer.js';
import { type Db, pgText } from './db.js';
import type { SkipRow } from './skip-row.js';

export interface PingRow {
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

export function pingOfRow(row: PingRow): NumberedPing {
  return {
    host: row.host,
    at: row.at,
    protocol: row.protocol,
    kind: row.kind as PingKind,
    exitCode: row.exit_code,
    body: row.body,
    addr: row.addr,
    runId: row.run_id,
    n: row.n,
  };
}

/**
 * The `pings` table: each host's ring of its last PINGS_KEPT pings. The ping numbered n takes
 * slot n % PINGS_KEPT, replacing the row there, so a host looping pings never adds rows.
 */
export function createPgPings(db: Db, skipRow: SkipRow): PingStore {
  return {
    async add(pings) {
      for (const ping of pings) {
        await db.query(
          `INSERT INTO pings (host, slot, n, at, protocol, kind, exit_code, body, addr, run_id)
           SELECT $1::text, (last.n + 1) % ${PINGS_KEPT}, last.n + 1, $2::float8, $3::text, $4::text, $5::integer,
                  $6::text, $7::text, $8::text
           FROM (SELECT COALESCE(MAX(n), 0) AS n FROM pings WHERE host = $1::text) AS last
           ON CONFLICT (host, slot) DO UPDATE SET
             n = excluded.n, at = excluded.at, protocol = excluded.protocol, kind = excluded.kind,
             exit_code = excluded.exit_code, body = excluded.body, addr = excluded.addr, run_id = excluded.run_id`,
          [
            ping.host,
            ping.at,
            ping.protocol,
            ping.kind,
            ping.exitCode,
            pgText(ping.body),
            pgText(ping.addr),
            pgText(ping.runId),
          ],
        );
      }
    },
    async recent(host) {
      const { rows } = await db.query<PingRow>('SELECT * FROM pings WHERE host = $1 ORDER BY n DESC', [host]);
      const pings = [];
      for (const row of rows) {
        if (!(PING_KINDS as readonly string[]).includes(row.kind)) {
          skipRow('pings', row.n, row.host, `column kind is ${JSON.stringify(row.kind)}`);
          continue;
        }
        const { n: _n, ...ping } = pingOfRow(row);
        pings.push(ping);
      }
      return pings;
    },
  };
}
