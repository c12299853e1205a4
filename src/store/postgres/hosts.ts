import type { HostRecord, HostTiming } from '../../model/host.js';
import { fromRow } from '../sqlite/host-row.js';
import type { HostChanges, HostStore } from '../store.js';
import { chunks, type Db, pgJson, pgText, placeholders } from './db.js';
import type { SkipRow } from './skip-row.js';

/** A host as the `hosts` table holds it. */
export interface PgHostRow {
  id: number;
  name: string;
  state: string;
  status: string;
  msg: string | null;
  fields: unknown;
  addr: string;
  ip4: string | null;
  ip6: string | null;
  signed: boolean;
  first_seen: number;
  last_seen: number;
  last_ts: number | null;
  every: number | null;
  last_seq: number | null;
  received: number;
  lost: number;
}

const HOST_COLUMNS =
  'name, state, status, msg, fields, addr, ip4, ip6, signed, first_seen, last_seen, last_ts, every, last_seq, received, lost';

/** The host a row describes, or what is wrong with it: checked as the SQLite driver checks its rows. */
export function hostOfRow(row: PgHostRow): HostRecord | string {
  return fromRow({
    ...(row as unknown as Parameters<typeof fromRow>[0]),
    signed: row.signed ? 1 : 0,
    fields: row.fields === null ? null : JSON.stringify(row.fields),
  });
}

/** The values of one host for HOST_COLUMNS, as parameters. */
export function hostValues(host: HostRecord): unknown[] {
  return [
    host.name,
    host.state,
    host.status,
    pgText(host.msg),
    Object.keys(host.fields).length > 0 ? pgJson(host.fields) : null,
    pgText(host.addr),
    host.ip4,
    host.ip6,
    host.signed,
    host.firstSeen,
    host.lastSeen,
    host.lastTs,
    host.every,
    host.lastSeq,
    host.received,
    host.lost,
  ];
}

/** The last of each name, where it first stood: what writing them one after another leaves. */
function lastOfEach<T extends { name: string }>(items: readonly T[]): T[] {
  const byName = new Map<string, T>();
  for (const item of items) byName.set(item.name, item);
  return [...byName.values()];
}

/** The `hosts` table; a deleted host's rows in `pings` go with it. A write is a few statements, not one per host. */
export function createPgHosts(db: Db, skipRow: SkipRow): HostStore {
  return {
    async load() {
      const { rows } = await db.query<PgHostRow>('SELECT * FROM hosts ORDER BY id');
      const hosts: HostRecord[] = [];
      for (const row of rows) {
        const host = hostOfRow(row);
        if (typeof host === 'string') skipRow('hosts', row.id, row.name, host);
        else hosts.push(host);
      }
      return hosts;
    },
    async write(changes: HostChanges) {
      if (changes.deletes.length > 0) {
        await db.query('DELETE FROM hosts WHERE name = ANY($1::text[])', [changes.deletes]);
        // A forgotten host's pings go with it: a host that comes back by that name starts afresh.
        await db.query('DELETE FROM pings WHERE host = ANY($1::text[])', [changes.deletes]);
      }
      for (const batch of chunks(lastOfEach(changes.upserts))) {
        // Rows are inserted in the order given, so new hosts get ids in the order they appeared.
        await db.query(
          `INSERT INTO hosts (${HOST_COLUMNS}) VALUES ${placeholders(batch.length, 16)}
           ON CONFLICT (name) DO UPDATE SET
             state = excluded.state, status = excluded.status, msg = excluded.msg, fields = excluded.fields,
             addr = excluded.addr, ip4 = excluded.ip4, ip6 = excluded.ip6, signed = excluded.signed,
             first_seen = excluded.first_seen, last_seen = excluded.last_seen, last_ts = excluded.last_ts,
             every = excluded.every, last_seq = excluded.last_seq, received = excluded.received,
             lost = excluded.lost`,
          batch.flatMap(hostValues),
        );
      }
      for (const batch of chunks(lastOfEach(changes.timings))) await writeTimings(db, batch);
    },
  };
}

/** One UPDATE for a batch of timings, from arrays: a cycle stores hundreds of hosts at once. */
async function writeTimings(db: Db, timings: readonly HostTiming[]): Promise<void> {
  await db.query(
    `UPDATE hosts SET last_seen = t.last_seen, last_ts = t.last_ts, last_seq = t.last_seq, every = t.every,
       received = t.received, lost = t.lost, signed = t.signed
     FROM unnest($1::text[], $2::float8[], $3::float8[], $4::float8[], $5::float8[], $6::int8[], $7::int8[],
                 $8::boolean[])
       AS t(name, last_seen, last_ts, last_seq, every, received, lost, signed)
     WHERE hosts.name = t.name`,
    [
      timings.map((t) => t.name),
      timings.map((t) => t.lastSeen),
      timings.map((t) => t.lastTs),
      timings.map((t) => t.lastSeq),
      timings.map((t) => t.every),
      timings.map((t) => t.received),
      timings.map((t) => t.lost),
      timings.map((t) => t.signed),
    ],
  );
}
