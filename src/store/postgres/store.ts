import pg from 'pg';
import type { ClusterBackend } from '../cluster-backend.js';
import type { Store, StoreContext, StoreParts } from '../store.js';
import { WriteBehind } from '../write-behind.js';
import { createPgCluster } from './cluster.js';
import { connectionOf, openFailure } from './connection.js';
import type { Db } from './db.js';
import type { PostgresOptions } from './driver.js';
import { PgEventBounds } from './event-bounds.js';
import { checkFence } from './fence.js';
import { Lane } from './lane.js';
import { migrate } from './migrations.js';
import { createParts, METHOD_KINDS, type MethodKind, type PartsContext } from './parts.js';
import type { SkipRow } from './skip-row.js';

export const POSTGRES_DRIVER = 'postgresql';

/**
 * How often the writer's cycle stores routine timing. Without a beat log the timing waits in
 * memory for the cycle, so it is short: what a crash can lose is at most a second of it, and
 * on a cluster what a new leader finds is that fresh.
 */
export const PG_CYCLE_MS = 1000;

/** A lost idle connection is reported at most this often: a server restart loses them all at once. */
const LOST_CONNECTION_REPORT_MS = 60_000;

/**
 * The PostgreSQL store: a pool of connections to one database, which several hbd nodes may
 * share. Calls keep the order they were made in (lane.ts); every write outside `transaction`
 * is a transaction of its own; on a cluster node the leader-only writes are fenced (fence.ts).
 */
export async function openPostgresStore(options: PostgresOptions, context: StoreContext): Promise<Store> {
  const connection = connectionOf(options);
  const { location } = connection;
  try {
    await migrate(connection.client);
  } catch (error) {
    throw openFailure(location, options, error);
  }
  const pool = new pg.Pool(connection.pool);
  let lastLossReport = Number.NEGATIVE_INFINITY;
  // An idle connection that breaks is dropped by the pool; without a listener it would end hbd.
  pool.on('error', (error) => {
    if (performance.now() - lastLossReport < LOST_CONNECTION_REPORT_MS) return;
    lastLossReport = performance.now();
    context.warn(
      `postgresql store ${location}: a connection was lost (${error.message}); a new one is opened when needed`,
    );
  });

  const { fence } = context;
  const skipRow: SkipRow = (table, id, host, problem) =>
    context.warn(
      `postgresql store ${location}, table ${table}, row ${id}${host === undefined ? '' : ` (host ${JSON.stringify(host)})`}: ` +
        `${problem}; the row is skipped: ${consequenceOfSkipping[table] ?? 'it is ignored'}`,
    );
  const partsContext: PartsContext = {
    bounds: new PgEventBounds(),
    limits: context.eventLimits,
    boundsKey: () => fence?.token() ?? 0,
    skipRow,
  };
  const lane = new Lane();
  let closed = false;
  const ensureOpen = () => {
    if (closed) throw new Error(`the postgresql store ${location} is closed`);
  };

  /** Runs `work` in a transaction on one pooled connection; `fenced` checks the lease first. */
  async function inTransaction<T>(fenced: boolean, work: (db: Db) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    // A connection lost while the work awaits something else: its next statement fails and says so.
    client.on('error', ignoreLoss);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      if (fenced && fence) await checkFence(client, fence);
      const result = await work(client);
      await client.query('COMMIT');
      partsContext.bounds.committed();
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // The connection cannot be trusted: the pool drops it rather than hand it out again.
        broken = rollbackError as Error;
      }
      partsContext.bounds.rolledBack();
      throw error;
    } finally {
      // A broken connection keeps its listener: its socket may still report the loss once let go.
      if (!broken) client.off('error', ignoreLoss);
      client.release(broken);
    }
  }

  const onPool = createParts(pool, partsContext);
  const parts = {} as Record<string, Record<string, unknown>>;
  for (const [part, methods] of Object.entries(METHOD_KINDS) as [
    keyof StoreParts,
    Record<string, MethodKind>,
  ][]) {
    const wrapped: Record<string, unknown> = {};
    for (const [method, kind] of Object.entries(methods)) {
      const call = (target: StoreParts, args: unknown[]) =>
        (target[part] as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]!(...args);
      wrapped[method] =
        kind === 'read'
          ? (...args: unknown[]) =>
              lane.shared(async () => {
                ensureOpen();
                return call(onPool, args);
              })
          : (...args: unknown[]) =>
              lane.exclusive(async () => {
                ensureOpen();
                return inTransaction(kind === 'fenced', (db) => call(createParts(db, partsContext), args));
              });
    }
    parts[part] = wrapped;
  }

  let cluster: ClusterBackend | undefined;
  const store: Store = {
    driver: POSTGRES_DRIVER,
    location,
    ...(parts as unknown as StoreParts),
    transaction: (work) =>
      lane.exclusive(async () => {
        ensureOpen();
        return inTransaction(true, async (db) => {
          let open = true;
          const guarded: Db = {
            query: (text, values) =>
              open
                ? db.query(text, values)
                : Promise.reject(new Error('a transaction was used after it ended')),
          };
          try {
            return await work(createParts(guarded, partsContext));
          } finally {
            open = false;
          }
        });
      }),
    async openWriter(writerOptions) {
      // A cluster node opens a writer each time it becomes the leader: no state is shared
      // between them but the database.
      return new WriteBehind({
        ...writerOptions,
        store,
        storeName: `state store ${location}`,
        flushIntervalMs: PG_CYCLE_MS,
      });
    },
    get cluster() {
      cluster ??= createPgCluster(pool, connection.client);
      return cluster;
    },
    close: () =>
      lane.exclusive(async () => {
        if (closed) return;
        closed = true;
        await pool.end();
      }),
  };
  return store;
}

function ignoreLoss(): void {}

/** What skipping a bad row of each table costs, for its warning. */
const consequenceOfSkipping: Readonly<Record<string, string>> = {
  hosts: 'hbd does not know this host until its next heartbeat, which replaces the row',
  sessions: 'whoever logged in with it logs in again',
  pings: 'this ping is not listed',
};
