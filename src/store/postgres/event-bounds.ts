import { TRIM_BATCH } from '../sqlite/event-bounds.js';
import type { EventLimits } from '../store.js';
import type { Db } from './db.js';

/**
 * Keeps the events table within its limits as events are written, in the same transaction,
 * as the SQLite driver's EventBounds does: a host past its own cap loses its oldest events,
 * and past the total cap the oldest events of all go. The counts live in memory, read with one
 * query, so a commit costs a DELETE per host over its cap and one for the total.
 *
 * The counts hold while this store is the only one writing events. On a cluster node that is
 * while it leads with one fencing token: a new token means another node may have written
 * meanwhile, so they are read again at its first append (`ready`).
 */
export class PgEventBounds {
  readonly #countByHost = new Map<string, number>();
  #total = 0;
  /** Changes made in the open transaction: applied when it commits, forgotten if it rolls back. */
  readonly #delta = new Map<string, number>();
  #deltaTotal = 0;
  /** What the counts were read under (a fencing token, or 0 for a store alone); undefined once stale. */
  #readUnder: number | undefined;
  /** A prune deleted rows in bulk in the open transaction: read the counts again afterwards. */
  #staleAtEnd = false;

  /** Before the first append of a transaction: reads the counts if they are not those of `under`. */
  async ready(db: Db, under: number): Promise<void> {
    if (this.#readUnder === under) return;
    await this.#recount(db);
    this.#readUnder = under;
  }

  /** After a prune deleted rows in bulk, inside its transaction. */
  async pruned(db: Db, under: number): Promise<void> {
    await this.#recount(db);
    this.#readUnder = under;
    this.#staleAtEnd = true;
  }

  /**
   * Inside a transaction, after events were inserted (`ready` before): trims the hosts that got
   * events, then the oldest of all.
   */
  async added(db: Db, hosts: readonly string[], limits: EventLimits): Promise<void> {
    for (const host of hosts) this.#change(host, 1);
    for (const host of new Set(hosts)) {
      const over = this.#current(host) - limits.perHost;
      if (over > 0) {
        const { rowCount } = await db.query(
          'DELETE FROM events WHERE id IN (SELECT id FROM events WHERE host = $1 ORDER BY id LIMIT $2)',
          [host, over],
        );
        this.#change(host, -(rowCount ?? 0));
      }
    }
    const over = this.#total + this.#deltaTotal - limits.maxEvents;
    if (over > 0) {
      const { rows } = await db.query<{ host: string }>(
        'DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id LIMIT $1) RETURNING host',
        [Math.min(over, hosts.length + TRIM_BATCH)],
      );
      for (const { host } of rows) this.#change(host, -1);
    }
  }

  committed(): void {
    if (this.#staleAtEnd) {
      this.#forget();
      return;
    }
    for (const [host, change] of this.#delta) {
      const count = (this.#countByHost.get(host) ?? 0) + change;
      if (count > 0) this.#countByHost.set(host, count);
      else this.#countByHost.delete(host);
    }
    this.#total += this.#deltaTotal;
    this.#clearDelta();
  }

  rolledBack(): void {
    if (this.#staleAtEnd) this.#forget();
    else this.#clearDelta();
  }

  /** The counts are read again before the next append. */
  #forget(): void {
    this.#staleAtEnd = false;
    this.#readUnder = undefined;
    this.#clearDelta();
  }

  async #recount(db: Db): Promise<void> {
    const { rows } = await db.query<{ host: string; n: number }>(
      'SELECT host, count(*) AS n FROM events GROUP BY host',
    );
    this.#clearDelta();
    this.#countByHost.clear();
    this.#total = 0;
    for (const { host, n } of rows) {
      this.#countByHost.set(host, n);
      this.#total += n;
    }
  }

  #clearDelta(): void {
    this.#delta.clear();
    this.#deltaTotal = 0;
  }

  #current(host: string): number {
    return (this.#countByHost.get(host) ?? 0) + (this.#delta.get(host) ?? 0);
  }

  #change(host: string, by: number): void {
    if (by === 0) return;
    this.#delta.set(host, (this.#delta.get(host) ?? 0) + by);
    this.#deltaTotal += by;
  }
}
