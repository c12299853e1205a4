import type { z } from 'zod';
import type { Store, StoreContext } from './store.js';
import type { StoreTransfer } from './transfer.js';

/**
 * A store driver: its name in the config (`store: NAME` or `store: { driver: NAME, … }`), the
 * schema of its own options (the keys beside `driver`), and how to open it. `open` may import
 * the implementation lazily, so that a driver nobody configured loads none of its libraries.
 */
export interface StoreDriver<Options = unknown> {
  readonly name: string;
  /** Validates the options; an error's path is the key below `store:`. Use a strict object. */
  readonly schema: z.ZodType<Options>;
  /**
   * Options that are file paths: the config resolves them like its other paths (`~`, relative to
   * the file). A dotted name (`tls.ca`) is a key inside a map option.
   */
  readonly files?: readonly string[];
  /** Options that are credentials (or hold one, like a URL with a password): config errors describe them, never show them. */
  readonly secretKeys?: readonly string[];
  /** URL schemes that mean this driver: `store: <scheme>://…` is `store: { driver: NAME, url: … }`. */
  readonly urlSchemes?: readonly string[];
  open(options: Options, context: StoreContext): Promise<Store>;
  /** Opens the store for `hbd store copy`: everything it holds, row by row, in and out. */
  transfer?(options: Options, context: StoreContext): Promise<StoreTransfer>;
}

/** Declares a driver; add it to the list in drivers.ts. */
export function defineStoreDriver<Options>(driver: StoreDriver<Options>): StoreDriver<Options> {
  return driver;
}
