import type { PublishedRecords } from '../../model/dns.js';
import type { DnsStore } from '../store.js';
import { type Db, pgText } from './db.js';

export interface DnsRow {
  host: string;
  name: string;
  a: string | null;
  aaaa: string | null;
  last_success: number | null;
  last_error: string | null;
  last_error_at: number | null;
}

export const DNS_COLUMNS = 'host, name, a, aaaa, last_success, last_error, last_error_at';

export function dnsValues(records: PublishedRecords): unknown[] {
  return [
    records.host,
    records.name,
    records.A,
    records.AAAA,
    records.lastSuccess,
    pgText(records.lastError),
    records.lastErrorAt,
  ];
}

export function recordsOfRow(row: DnsRow): PublishedRecords {
  return {
    host: row.host,
    name: row.name,
    A: row.a,
    AAAA: row.aaaa,
    lastSuccess: row.last_success,
    lastError: row.last_error,
    lastErrorAt: row.last_error_at,
  };
}

/** The `dns_records` table: what was last published per host. */
export function createPgDns(db: Db): DnsStore {
  return {
    async load() {
      const { rows } = await db.query<DnsRow>('SELECT * FROM dns_records ORDER BY host');
      return rows.map(recordsOfRow);
    },
    async save(records) {
      await db.query(
        `INSERT INTO dns_records (${DNS_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (host) DO UPDATE SET name = excluded.name, a = excluded.a, aaaa = excluded.aaaa,
           last_success = excluded.last_success, last_error = excluded.last_error,
           last_error_at = excluded.last_error_at`,
        dnsValues(records),
      );
    },
  };
}
