import type Database from 'better-sqlite3';
import type { DnsStore } from '../store.js';
import type { Sync } from './sync.js';

interface PublishedRow {
  host: string;
  name: string;
  a: string | null;
  aaaa: string | null;
  last_success: number | null;
  last_error: string | null;
  last_error_at: number | null;
}

/** The `dns_records` table (schema 2): what was last published per host. */
export function createSqliteDns(db: Database.Database): Sync<DnsStore> {
  const selectPublished = db.prepare<[], PublishedRow>('SELECT * FROM dns_records');
  const upsertPublished = db.prepare<PublishedRow>(
    `INSERT INTO dns_records (host, name, a, aaaa, last_success, last_error, last_error_at)
     VALUES (@host, @name, @a, @aaaa, @last_success, @last_error, @last_error_at)
     ON CONFLICT (host) DO UPDATE SET name = excluded.name, a = excluded.a, aaaa = excluded.aaaa,
       last_success = excluded.last_success, last_error = excluded.last_error, last_error_at = excluded.last_error_at`,
  );
  return {
    load: () =>
      selectPublished.all().map((row) => ({
        host: row.host,
        name: row.name,
        A: row.a,
        AAAA: row.aaaa,
        lastSuccess: row.last_success,
        lastError: row.last_error,
        lastErrorAt: row.last_error_at,
      })),
    save(records) {
      upsertPublished.run({
        host: records.host,
        name: records.name,
        a: records.A,
        aaaa: records.AAAA,
        last_success: records.lastSuccess,
        last_error: records.lastError,
        last_error_at: records.lastErrorAt,
      });
    },
  };
}
