import pg from 'pg';
import type {
  ClusterBackend,
  ClusterTopic,
  LeaseState,
  NodeReport,
  NodeRow,
  SharedBeat,
  SharedChange,
} from '../cluster-backend.js';

/** The advisory lock that orders the writers of hbd_shared (any constant no other part of hbd uses). */
const SHARED_WRITERS_LOCK = 0x68626431; // "hbd1"
const CHANNEL = 'hbd_cluster';
const TOPICS: readonly ClusterTopic[] = ['beats', 'silences', 'nodes'];
/** A lost LISTEN connection is re-opened after this long, doubling up to the maximum. */
const RELISTEN_FIRST_MS = 500;
const RELISTEN_MAX_MS = 10_000;

/**
 * The cluster's shared tables (cluster-schema.ts) on PostgreSQL. Every method is one statement
 * or one short transaction on the store's pool; LISTEN holds one connection of its own.
 */
export function createPgCluster(pool: pg.Pool, connection: pg.ClientConfig): ClusterBackend {
  return {
    async claimLease(node, leaseMs): Promise<LeaseState> {
      // One statement: take the lease if it is free or expired, renew it if it is ours; either
      // way say who holds it now. A change of holder (or our own expired lease) is a new term.
      const { rows } = await pool.query<{ holder: string | null; token: string; mine: boolean }>(
        `WITH claimed AS (
           UPDATE hbd_lease SET
             token = CASE WHEN holder = $1 AND expires_at > now() THEN token ELSE token + 1 END,
             holder = $1,
             expires_at = now() + make_interval(secs => $2::double precision / 1000)
           WHERE id = 1 AND (holder = $1 OR expires_at <= now())
           RETURNING holder, token
         )
         SELECT holder, token, true AS mine FROM claimed
         UNION ALL
         SELECT CASE WHEN expires_at > now() THEN holder END, token, false
           FROM hbd_lease WHERE id = 1 AND NOT EXISTS (SELECT 1 FROM claimed)`,
        [node, leaseMs],
      );
      const row = rows[0];
      if (!row) throw new Error('the hbd_lease table has no row: the schema is incomplete');
      const token = Number(row.token);
      return { holder: row.holder, token: row.mine ? token : undefined, currentToken: token };
    },

    async releaseLease(node, token) {
      await pool.query(
        `UPDATE hbd_lease SET holder = NULL, expires_at = '-infinity'
          WHERE id = 1 AND holder = $1 AND token = $2`,
        [node, token],
      );
    },

    async reportNode(report: NodeReport) {
      await pool.query(
        `INSERT INTO hbd_nodes (name, started_at, role, api, lag_ms, version, last_seen)
         VALUES ($1, $2, $3, $4, $5, $6, now())
         ON CONFLICT (name) DO UPDATE SET started_at = excluded.started_at, role = excluded.role,
           api = excluded.api, lag_ms = excluded.lag_ms, version = excluded.version, last_seen = now()`,
        [report.name, report.startedAt, report.role, report.api, report.lagMs, report.version],
      );
    },

    async nodes(): Promise<NodeRow[]> {
      const { rows } = await pool.query<{
        name: string;
        started_at: number;
        role: string;
        api: string;
        lag_ms: number | null;
        version: string;
        silent_for_ms: number;
      }>(
        `SELECT name, started_at, role, api, lag_ms, version,
                extract(epoch FROM now() - last_seen) * 1000 AS silent_for_ms
           FROM hbd_nodes ORDER BY name`,
      );
      return rows.map((row) => ({
        name: row.name,
        startedAt: Number(row.started_at),
        role: row.role === 'leader' ? 'leader' : 'follower',
        api: row.api,
        lagMs: row.lag_ms === null ? null : Number(row.lag_ms),
        version: row.version,
        silentForMs: Math.max(0, Number(row.silent_for_ms)),
      }));
    },

    async forgetNode(name) {
      const { rowCount } = await pool.query('DELETE FROM hbd_nodes WHERE name = $1', [name]);
      return (rowCount ?? 0) > 0;
    },

    async shareBeats(node, beats: readonly SharedBeat[]) {
      if (beats.length === 0) return;
      const rows = beats.map((beat) => ({
        host: beat.host,
        seen_at: beat.seenAt,
        beat: { hb: beat.hb, addr: beat.addr, signed: beat.signed, via: beat.via ?? null },
      }));
      // A host's row is replaced only by a newer heartbeat, whichever node heard it.
      await writeShared(
        pool,
        `INSERT INTO hbd_shared (host, rev, node, seen_at, beat)
         SELECT host, nextval('hbd_shared_rev'), $1, seen_at, beat
           FROM jsonb_to_recordset($2::jsonb) AS x(host text, seen_at double precision, beat jsonb)
         ON CONFLICT (host) DO UPDATE SET rev = excluded.rev, node = excluded.node,
           seen_at = excluded.seen_at, beat = excluded.beat
         WHERE hbd_shared.seen_at < excluded.seen_at`,
        [node, JSON.stringify(rows)],
      );
    },

    async shareForgotten(node, hosts) {
      if (hosts.length === 0) return;
      await writeShared(
        pool,
        `INSERT INTO hbd_shared (host, rev, node, seen_at, beat)
         SELECT host, nextval('hbd_shared_rev'), $1, extract(epoch FROM clock_timestamp()) * 1000, NULL
           FROM unnest($2::text[]) AS x(host)
         ON CONFLICT (host) DO UPDATE SET rev = excluded.rev, node = excluded.node,
           seen_at = excluded.seen_at, beat = NULL`,
        [node, hosts],
      );
    },

    async changesAfter(afterRev, limit, exceptNode): Promise<SharedChange[]> {
      const { rows } = await pool.query<{
        host: string;
        rev: string;
        node: string;
        seen_at: number;
        beat: { hb: SharedBeat['hb']; addr: string; signed: boolean; via: 'http' | null } | null;
      }>(
        `SELECT host, rev, node, seen_at, beat FROM hbd_shared
          WHERE rev > $1 AND ($3::text IS NULL OR node <> $3) ORDER BY rev LIMIT $2`,
        [afterRev, limit, exceptNode ?? null],
      );
      return rows.map((row): SharedChange => {
        const rev = Number(row.rev);
        const seenAt = Number(row.seen_at);
        if (row.beat === null) return { rev, node: row.node, kind: 'forgotten', host: row.host, at: seenAt };
        return {
          rev,
          node: row.node,
          kind: 'beat',
          beat: {
            host: row.host,
            seenAt,
            hb: row.beat.hb,
            addr: row.beat.addr,
            signed: row.beat.signed,
            via: row.beat.via ?? undefined,
          },
        };
      });
    },

    async listen(onChange, onError) {
      let client: pg.Client | undefined;
      let stopped = false;
      let delayMs = RELISTEN_FIRST_MS;
      let retry: NodeJS.Timeout | undefined;
      const connect = async (): Promise<void> => {
        const next = new pg.Client(connection);
        next.on('notification', (message) => {
          const topic = TOPICS.find((known) => known === message.payload);
          if (topic) onChange(topic);
        });
        // A dropped connection is re-opened; what was announced meanwhile is caught up by the
        // readers' own periodic reads, so a lost notice only delays.
        next.on('error', (error) => {
          onError(error);
          again(next);
        });
        next.on('end', () => again(next));
        await next.connect();
        await next.query(`LISTEN ${CHANNEL}`);
        client = next;
        delayMs = RELISTEN_FIRST_MS;
      };
      const again = (lost: pg.Client) => {
        if (stopped || client !== lost || retry) return;
        client = undefined;
        lost.end().catch(() => {});
        schedule();
      };
      const schedule = () => {
        retry = setTimeout(() => {
          retry = undefined;
          if (stopped) return;
          connect().catch((error) => {
            onError(error);
            delayMs = Math.min(delayMs * 2, RELISTEN_MAX_MS);
            schedule();
          });
        }, delayMs);
        retry.unref();
      };
      try {
        await connect();
      } catch (error) {
        onError(error);
        schedule();
      }
      return async () => {
        stopped = true;
        if (retry) clearTimeout(retry);
        await client?.end().catch(() => {});
        client = undefined;
      };
    },

    async announce(topic) {
      await pool.query('SELECT pg_notify($1, $2)', [CHANNEL, topic]);
    },
  };
}

/** Writes to hbd_shared in a transaction that holds the writers' lock, so revisions commit in order. */
async function writeShared(pool: pg.Pool, sql: string, params: unknown[]): Promise<void> {
  const client = await pool.connect();
  // Checked out, a client has no listener of the pool's: a connection lost between two statements
  // would be an unhandled 'error' that ends the process. The next statement fails instead.
  const ignoreLoss = () => {};
  client.on('error', ignoreLoss);
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [SHARED_WRITERS_LOCK]);
    await client.query(sql, params);
    await client.query('COMMIT');
    client.removeListener('error', ignoreLoss);
    client.release();
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    // A connection that failed mid-transaction is not given back to the pool for reuse (and keeps
    // its listener: its socket may still report the loss after it is let go).
    client.release(error instanceof Error ? error : true);
    throw error;
  }
}
