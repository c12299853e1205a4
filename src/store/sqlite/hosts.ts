import type Database from 'better-sqlite3';
import type { HostRecord } from '../../model/host.js';
import type { HostChanges, HostStore } from '../store.js';
import type { BadRowReporter } from './damage.js';
import { fromRow, type HostRow, toRow } from './host-row.js';
import type { Sync } from './sync.js';

/** The `hosts` table (schema 1); a deleted host's rows in `pings` (schema 6) go with it. */
export function createSqliteHosts(db: Database.Database, skipRow: BadRowReporter): Sync<HostStore> {
  const upsertHost = db.prepare<HostRow>(
    `INSERT INTO hosts (name, state, status, msg, fields, addr, ip4, ip6, signed, first_seen, last_seen,
                        last_ts, every, last_seq, received, lost)
     VALUES (@name, @state, @status, @msg, @fields, @addr, @ip4, @ip6, @signed, @first_seen, @last_seen,
             @last_ts, @every, @last_seq, @received, @lost)
     ON CONFLICT (name) DO UPDATE SET
       state = excluded.state, status = excluded.status, msg = excluded.msg, fields = excluded.fields,
       addr = excluded.addr, ip4 = excluded.ip4, ip6 = excluded.ip6, signed = excluded.signed,
       first_seen = excluded.first_seen, last_seen = excluded.last_seen, last_ts = excluded.last_ts,
       every = excluded.every, last_seq = excluded.last_seq, received = excluded.received, lost = excluded.lost`,
  );
  const updateTiming = db.prepare<
    [number, number | null, number | null, number | null, number, number, number, string]
  >(
    `UPDATE hosts SET last_seen = ?, last_ts = ?, last_seq = ?, every = ?, received = ?, lost = ?, signed = ?
     WHERE name = ?`,
  );
  const deleteHost = db.prepare<[string]>('DELETE FROM hosts WHERE name = ?');
  // A forgotten host's pings go with it: a host that comes back by that name starts afresh.
  const deletePings = db.prepare<[string]>('DELETE FROM pings WHERE host = ?');
  const selectHosts = db.prepare<[], HostRow & { id: number }>('SELECT * FROM hosts ORDER BY id');

  return {
    load() {
      const hosts: HostRecord[] = [];
      for (const row of selectHosts.iterate()) {
        const host = fromRow(row);
        if (typeof host === 'string')
          skipRow('hosts', row.id, typeof row.name === 'string' ? row.name : undefined, host);
        else hosts.push(host);
      }
      return hosts;
    },
    write(changes: HostChanges) {
      for (const name of changes.deletes) {
        deleteHost.run(name);
        deletePings.run(name);
      }
      for (const host of changes.upserts) upsertHost.run(toRow(host));
      for (const t of changes.timings) {
        updateTiming.run(
          t.lastSeen,
          t.lastTs,
          t.lastSeq,
          t.every,
          t.received,
          t.lost,
          t.signed ? 1 : 0,
          t.name,
        );
      }
    },
  };
}
