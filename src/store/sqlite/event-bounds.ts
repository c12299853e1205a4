import type Database from 'better-sqlite3';
import type { EventLimits } from '../store.js';

/**
 * Most events beyond a commit's own deleted by it to bring the total under `maxEvents`: a limit
 * lowered by a reload is reached over the next commits (and at the hourly prune), not in one
 * commit that would hold the event loop for a second.
 */
export const TRIM_BATCH = 1000;

/**
 * Keeps the events table within its limits as events are written, in the same transaction:
 * a host past its own cap loses its oldest events, and past the total cap the oldest events
 * of all go. Without it the bounds held only at the hourly prune, and a few minutes of one
 * flapping host pushed every other host's history out.
 *
 * The count of events per host lives in memory, from one query at start, so a commit costs
 * one DELETE per host over its cap and one for the total: no COUNT per commit.
 */
export class EventBounds {
  readonly #countByHost = new Map<string, number>();
  #total = 0;
  /** Changes made in the open transaction: applied when it commits, forgotten if it rolls back. */
  #delta = new Map<string, number>();
  #deltaTotal = 0;
  /** A prune deleted rows in bulk in the open transaction: count again once it ends. */
  #recountAtEnd = false;
  readonly #selectCounts: Database.Statement<[], { host: string; n: number }>;
  readonly #deleteOldestOfHost: Database.Statement<[string, number]>;
  readonly #deleteOldest: Database.Statement<[number], { host: string }>;

  constructor(db: Database.Database) {
    this.#selectCounts = db.prepare('SELECT host, COUNT(*) AS n FROM events GROUP BY host');
    // Both walk an index (host, id) or the rowid from the oldest: a handful of pages per commit.
    this.#deleteOldestOfHost = db.prepare(
      'DELETE FROM events WHERE id IN (SELECT id FROM events WHERE host = ? ORDER BY id LIMIT ?)',
    );
    this.#deleteOldest = db.prepare(
      'DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id LIMIT ?) RETURNING host',
    );
    this.recount();
  }

  /** Events stored in all, as of the last commit. */
  get total(): number {
    return this.#total;
  }

  /** Events of `host` stored, as of the last commit. */
  countOf(host: string): number {
    return this.#countByHost.get(host) ?? 0;
  }

  /**
   * After a prune deleted rows in bulk, inside its transaction: the counts follow the table as
   * this transaction sees it, and are read again from the table when it commits or rolls back.
   */
  pruned(): void {
    this.recount();
    this.#recountAtEnd = true;
  }

  /** Counts again from the table: at start, and after a prune deleted rows in bulk. */
  recount(): void {
    this.#delta.clear();
    this.#deltaTotal = 0;
    this.#countByHost.clear();
    this.#total = 0;
    for (const { host, n } of this.#selectCounts.iterate()) {
      this.#countByHost.set(host, n);
      this.#total += n;
    }
  }

  /**
   * Inside a transaction, after events were inserted: trims the hosts that got events, then
   * the oldest of all. Call `committed` or `rolledBack` when the transaction ends (a transaction
   * may add events more than once).
   */
  added(hosts: readonly string[], limits: EventLimits | undefined): void {
    for (const host of hosts) this.#change(host, 1);
    if (!limits) return;
    for (const host of new Set(hosts)) {
      const over = this.#current(host) - limits.perHost;
      if (over > 0) this.#change(host, -this.#deleteOldestOfHost.run(host, over).changes);
    }
    const over = this.#total + this.#deltaTotal - limits.maxEvents;
    if (over > 0) {
      for (const { host } of this.#deleteOldest.all(Math.min(over, hosts.length + TRIM_BATCH))) {
        this.#change(host, -1);
      }
    }
  }

  committed(): void {
    if (this.#recountAtEnd) {
      this.#recountAtEnd = false;
      this.recount();
      return;
    }
    for (const [host, change] of this.#delta) {
      const count = (this.#countByHost.get(host) ?? 0) + change;
      // A host whose events all went is no longer tracked: the map stays as small as the table.
      if (count > 0) this.#countByHost.set(host, count);
      else this.#countByHost.delete(host);
    }
    this.#total += this.#deltaTotal;
    this.rolledBack();
  }

  rolledBack(): void {
    if (this.#recountAtEnd) {
      this.#recountAtEnd = false;
      this.recount();
      return;
    }
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
