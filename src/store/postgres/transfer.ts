import pg from 'pg';
import { PINGS_KEPT } from '../ping-store.js';
import type { StoreContext } from '../store.js';
import {
  type LastIds,
  noRows,
  pagesOf,
  StoreNotEmptyError,
  type StoreTransfer,
  TRANSFER_KINDS,
  type TransferCounts,
  type TransferKind,
  type TransferRows,
  type TransferSource,
} from '../transfer.js';
import { connectionOf, openFailure } from './connection.js';
import { type Db, pgJson, pgText, placeholders } from './db.js';
import { DNS_COLUMNS, type DnsRow, dnsValues, recordsOfRow } from './dns.js';
import type { PostgresOptions } from './driver.js';
import { fromEventRow } from './events.js';
import { hostOfRow, hostValues, type PgHostRow } from './hosts.js';
import { migrate } from './migrations.js';
import {
  announcedOfRow,
  type MessageRow,
  messageOfRow,
  type NotifiedRow,
  type TriggerRow,
  triggerOfRow,
} from './outbox.js';
import { type PingRow, pingOfRow } from './pings.js';
import { SESSION_COLUMNS, type SessionRow, sessionOfRow, sessionValues } from './sessions.js';
import { type SilenceRow, silenceOfRow } from './silences.js';

/** How each kind is kept: its table, the columns that order it, and how a row is read and written. */
interface Table<K extends TransferKind> {
  table: string;
  /** Unique, in the order rows are read and written. */
  key: readonly string[];
  /** A row as the kind's record, or what is wrong with it. */
  read(row: pg.QueryResultRow): TransferRows[K] | string;
  columns: string;
  values(row: TransferRows[K]): unknown[];
}

type Tables = { [K in TransferKind]: Table<K> };

const TABLES: Tables = {
  hosts: {
    table: 'hosts',
    key: ['id'],
    read: (row) => hostOfRow(row as PgHostRow),
    columns:
      'name, state, status, msg, fields, addr, ip4, ip6, signed, first_seen, last_seen, last_ts, every, last_seq, received, lost',
    values: hostValues,
  },
  events: {
    table: 'events',
    key: ['id'],
    read: (row) => fromEventRow(row as Parameters<typeof fromEventRow>[0]),
    columns: 'id, at, host, kind, from_value, to_value, reason',
    values: (e) => [e.id, e.at, e.host, e.kind, pgText(e.from), pgText(e.to), pgText(e.reason)],
  },
  dns: {
    table: 'dns_records',
    key: ['host'],
    read: (row) => recordsOfRow(row as DnsRow),
    columns: DNS_COLUMNS,
    values: dnsValues,
  },
  triggers: {
    table: 'notify_triggers',
    key: ['id'],
    read: (row) => triggerOfRow(row as TriggerRow),
    columns: 'id, event_id, at, host, kind, detail',
    values: (t) => [t.id, t.eventId, t.at, t.host, t.kind, pgJson(t.detail)],
  },
  messages: {
    table: 'outbox',
    key: ['id'],
    read: (row) => messageOfRow(row as MessageRow),
    columns:
      'id, channel, dedup_key, kind, notification, state, created_at, attempts, next_attempt_at, deadline_at, ' +
      'last_error, done_at, receipt, merged_into, position',
    values: (m) => [
      m.id,
      m.channel,
      pgText(m.notification.dedupKey),
      m.notification.kind,
      pgJson(m.notification),
      m.state,
      m.createdAt,
      m.attempts,
      m.nextAttemptAt,
      m.deadlineAt,
      pgText(m.lastError),
      m.doneAt,
      pgText(m.receipt),
      m.mergedInto,
      m.position,
    ],
  },
  announced: {
    table: 'notified',
    key: ['host'],
    read: (row) => announcedOfRow(row as NotifiedRow),
    columns: 'host, down_at, status, reminded_at',
    values: (a) => [a.host, a.downAt, a.status, a.remindedAt],
  },
  silences: {
    table: 'silences',
    key: ['id'],
    read: (row) => silenceOfRow(row as SilenceRow),
    columns: 'id, pattern, until, reason, created_at',
    values: (s) => [s.id, pgText(s.pattern), s.until, pgText(s.reason), s.createdAt],
  },
  sessions: {
    table: 'sessions',
    key: ['id'],
    read: (row) => sessionOfRow(row as SessionRow),
    columns: SESSION_COLUMNS,
    values: sessionValues,
  },
  pings: {
    table: 'pings',
    key: ['host', 'n'],
    read: (row) => pingOfRow(row as PingRow),
    columns: 'host, slot, n, at, protocol, kind, exit_code, body, addr, run_id',
    values: (p) => [
      p.host,
      p.n % PINGS_KEPT,
      p.n,
      p.at,
      p.protocol,
      p.kind,
      p.exitCode,
      pgText(p.body),
      pgText(p.addr),
      pgText(p.runId),
    ],
  },
};

/** The tables whose ids come from a sequence, and the kind whose last id it keeps. */
const SEQUENCES: readonly [keyof LastIds, string][] = [
  ['events', 'events'],
  ['triggers', 'notify_triggers'],
  ['messages', 'outbox'],
  ['silences', 'silences'],
];

/** A node that reported within this long is taken to be running. */
const RUNNING_WITHIN_S = 15;

/** The PostgreSQL store opened for `hbd store copy`: one connection, a transaction to fill it. */
export async function openPostgresTransfer(
  options: PostgresOptions,
  context: StoreContext,
): Promise<StoreTransfer> {
  const connection = connectionOf(options);
  const { location } = connection;
  try {
    await migrate(connection.client);
  } catch (error) {
    throw openFailure(location, options, error);
  }
  // A copy moves everything in one transaction: no statement of it may be cut short.
  const pool = new pg.Pool({
    ...connection.pool,
    max: 1,
    statement_timeout: 0,
    query_timeout: 0,
    idle_in_transaction_session_timeout: 0,
  });
  pool.on('error', () => {});
  const skip = (kind: TransferKind, key: unknown[], problem: string) =>
    context.warn(
      `postgresql store ${location}, table ${TABLES[kind].table}, row ${key.join(', ')}: ${problem}; not copied`,
    );

  const reader = (db: Db): TransferSource => ({
    counts: () => countRows(db),
    async lastIds() {
      const ids = { events: 0, triggers: 0, messages: 0, silences: 0 };
      for (const [kind, table] of SEQUENCES) {
        const { rows } = await db.query<{ last: number | null }>(
          `SELECT pg_sequence_last_value(pg_get_serial_sequence($1, 'id')::regclass) AS last`,
          [table],
        );
        ids[kind] = rows[0]?.last ?? 0;
      }
      return ids;
    },
    rows<K extends TransferKind>(kind: K): AsyncIterable<TransferRows[K][]> {
      const { table, key, read } = TABLES[kind] as unknown as Table<K>;
      const keys = key.join(', ');
      return pagesOf<TransferRows[K], unknown[]>(async (after, limit) => {
        const values = after === undefined ? [limit] : [...after, limit];
        const where =
          after === undefined ? '' : `WHERE (${keys}) > (${key.map((_, i) => `$${i + 1}`).join(', ')})`;
        const { rows } = await db.query(
          `SELECT * FROM ${table} ${where} ORDER BY ${keys} LIMIT $${values.length}`,
          values,
        );
        const kept: TransferRows[K][] = [];
        for (const row of rows) {
          const record = read(row);
          if (typeof record === 'string')
            skip(
              kind,
              key.map((column) => row[column]),
              record,
            );
          else kept.push(record);
        }
        const last = rows.at(-1);
        return { rows: kept, fetched: rows.length, last: last && key.map((column) => last[column]) };
      });
    },
  });

  return {
    location,
    ...reader(pool),
    async inUse() {
      const nodes = await pool.query<{ name: string }>(
        `SELECT name FROM hbd_nodes WHERE last_seen > now() - make_interval(secs => $1) ORDER BY name`,
        [RUNNING_WITHIN_S],
      );
      const lease = await pool.query<{ holder: string }>(
        'SELECT holder FROM hbd_lease WHERE id = 1 AND holder IS NOT NULL AND expires_at > now()',
      );
      const names = new Set([...nodes.rows.map((row) => row.name), ...lease.rows.map((row) => row.holder)]);
      if (names.size === 0) return undefined;
      return `hbd is running on it: node ${[...names].join(', ')} reported within the last ${RUNNING_WITHIN_S} s or holds the leader lease`;
    },
    async fill(source, { replace }) {
      const client = await pool.connect();
      // A connection lost meanwhile fails the next statement, which says so.
      const ignoreLoss = () => {};
      client.on('error', ignoreLoss);
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const before = await countRows(client);
        if (TRANSFER_KINDS.some((kind) => before[kind] > 0)) {
          if (!replace) throw new StoreNotEmptyError(location, before);
        }
        // The heartbeats the nodes shared belong to what is replaced: a node must not apply them to the copy.
        await client.query(
          `TRUNCATE ${TRANSFER_KINDS.map((kind) => TABLES[kind].table).join(', ')}, hbd_shared`,
        );
        const written = noRows();
        for (const kind of TRANSFER_KINDS) {
          const { table, columns, values } = TABLES[kind] as unknown as Table<typeof kind>;
          const width = columns.split(',').length;
          for await (const page of source.rows(kind)) {
            for (let i = 0; i < page.length; i += 1000) {
              const batch = page.slice(i, i + 1000);
              await client.query(
                `INSERT INTO ${table} (${columns}) VALUES ${placeholders(batch.length, width)}`,
                batch.flatMap((row) => values(row as never)),
              );
            }
            written[kind] += page.length;
          }
        }
        // Ids go on after the last the source handed out, so none is given twice.
        const lastIds = await source.lastIds();
        for (const [kind, table] of SEQUENCES) {
          await client.query(
            `SELECT setval(pg_get_serial_sequence($1, 'id'), GREATEST($2::bigint, (SELECT COALESCE(MAX(id), 0) FROM ${table}), 1),
                           GREATEST($2::bigint, (SELECT COALESCE(MAX(id), 0) FROM ${table})) > 0)`,
            [table, lastIds[kind]],
          );
        }
        await client.query('COMMIT');
        return written;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          broken = rollbackError as Error;
        }
        throw error;
      } finally {
        client.off('error', ignoreLoss);
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

async function countRows(db: Db): Promise<TransferCounts> {
  const { rows } = await db.query<Record<TransferKind, number>>(
    `SELECT ${TRANSFER_KINDS.map((kind) => `(SELECT count(*) FROM ${TABLES[kind].table}) AS ${kind}`).join(', ')}`,
  );
  return { ...noRows(), ...rows[0] };
}
