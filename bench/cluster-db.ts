/**
 * The bench's own window on the cluster's PostgreSQL database, as its superuser: the server's
 * processes (for their CPU), its statistics (transactions and rows), the lease and the events.
 */
import pg from 'pg';
import { childrenOf, parentOf } from './cluster-cpu.js';

/** `pg_stat_database` counters of one database. */
export interface DbCounters {
  transactions: number;
  inserted: number;
  updated: number;
  deleted: number;
  fetched: number;
  returned: number;
}

export type DbRates = DbCounters;

export interface StoredEvent {
  id: number;
  host: string;
  kind: string;
  to: string | null;
  reason: string;
}

export class DbWatch {
  readonly #client: pg.Client;
  readonly #postmaster: number;

  private constructor(client: pg.Client, postmaster: number) {
    this.#client = client;
    this.#postmaster = postmaster;
  }

  /** `url`: the superuser's URL of the cluster's database. */
  static async open(url: string): Promise<DbWatch> {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
    await client.connect();
    try {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // Every backend is a child of the postmaster: this connection's leads to it.
      const postmaster = parentOf(rows[0]!.pid);
      if (postmaster === undefined) throw new Error('cannot find the PostgreSQL server process in /proc');
      return new DbWatch(client, postmaster);
    } catch (error) {
      await client.end();
      throw error;
    }
  }

  /** The server and every process it runs (backends, WAL writer, checkpointer, autovacuum…). */
  serverPids(): number[] {
    return [this.#postmaster, ...childrenOf(this.#postmaster)];
  }

  /**
   * Counters as the server last flushed them: a busy backend flushes its statistics about once a
   * second, so the rates are only good over windows of several seconds taken under steady load.
   */
  async counters(): Promise<DbCounters> {
    const { rows } = await this.#client.query<Record<keyof DbCounters, string>>(
      `SELECT xact_commit + xact_rollback AS transactions, tup_inserted AS inserted, tup_updated AS updated,
              tup_deleted AS deleted, tup_fetched AS fetched, tup_returned AS returned
         FROM pg_stat_database WHERE datname = current_database()`,
    );
    const row = rows[0]!;
    return {
      transactions: Number(row.transactions),
      inserted: Number(row.inserted),
      updated: Number(row.updated),
      deleted: Number(row.deleted),
      fetched: Number(row.fetched),
      returned: Number(row.returned),
    };
  }

  async lease(): Promise<{ holder: string | null; token: number }> {
    const { rows } = await this.#client.query<{ holder: string | null; token: string }>(
      'SELECT holder, token FROM hbd_lease WHERE id = 1',
    );
    const row = rows[0];
    if (!row) throw new Error('hbd_lease has no row yet');
    return { holder: row.holder, token: Number(row.token) };
  }

  async newestEventId(): Promise<number> {
    const { rows } = await this.#client.query<{ id: string | null }>('SELECT max(id) AS id FROM events');
    return Number(rows[0]?.id ?? 0);
  }

  /** The first event stored after `afterId`, optionally of one host. */
  async firstEventAfter(afterId: number, host?: string): Promise<StoredEvent | undefined> {
    const { rows } = await this.#client.query<{
      id: string;
      host: string;
      kind: string;
      to_value: string | null;
      reason: string;
    }>(
      `SELECT id, host, kind, to_value, reason FROM events
        WHERE id > $1 AND ($2::text IS NULL OR host = $2) ORDER BY id LIMIT 1`,
      [afterId, host ?? null],
    );
    const row = rows[0];
    return (
      row && { id: Number(row.id), host: row.host, kind: row.kind, to: row.to_value, reason: row.reason }
    );
  }

  async close(): Promise<void> {
    await this.#client.end().catch(() => {});
  }
}

export function ratesOf(before: DbCounters, after: DbCounters, seconds: number): DbRates {
  const per = (key: keyof DbCounters) => (after[key] - before[key]) / seconds;
  return {
    transactions: per('transactions'),
    inserted: per('inserted'),
    updated: per('updated'),
    deleted: per('deleted'),
    fetched: per('fetched'),
    returned: per('returned'),
  };
}
