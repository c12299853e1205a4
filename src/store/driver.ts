import type { z } from 'zod';
import type { Store, StoreContext } from './store.js';

/**
 * A store driver: its name in the config (`store: NAME` or `store: { driver: NAME, … }`), the
 * schema of its own options (the keys beside `driver`), and how to open it. `open` may import
 * the implementation lazily, so that a driver nobody configured loads none of its libraries.
 */
export interface StoreDriver<Options = unknown> {
  readonly name: string;
  /** Validates the options; an error's path is the key below `store:`. Use a strict object. */
  readonly schema: z.ZodType<Options>;
  /** Options that are file paths: the config resolves them like its other paths (`~`, relative to the file). */
  readonly files?: readonly string[];
  open(options: Options, context: StoreContext): Promise<Store>;
}

/** Declares a driver; add it to the list in drivers.ts. */
export function defineStoreDriver<Options>(driver: StoreDriver<Options>): StoreDriver<Options> {
  return driver;
}
