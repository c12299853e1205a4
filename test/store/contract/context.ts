import type { EventLimits, Store, StoreContext } from '../../../src/store/store.js';

/**
 * What a driver's test gives the contract suite: a place for one test's data, which can be
 * opened, closed and opened again.
 */
export interface StoreHarness {
  /** Opens the store on this test's data; after `close`, on the same data again. */
  open(context: StoreContext): Promise<Store>;
  /** Drops this test's data; the store is closed by then. */
  destroy(): Promise<void>;
}

/** What each part of the suite works with, fresh for every test. */
export interface ContractContext {
  /** The store under test, open. */
  readonly store: Store;
  /** Closes the store and opens it again on the same data: what a restart finds. */
  reopen(): Promise<void>;
  /** The event limits the store reads at every append; by default none that trim. */
  limits: EventLimits;
  /** What the store warned about. */
  readonly warnings: string[];
}
