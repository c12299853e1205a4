import type { StoreDriver } from './driver.js';
import { postgresDriver } from './postgres/driver.js';
import { sqliteDriver } from './sqlite/driver.js';
import type { Store, StoreContext } from './store.js';

export { defineStoreDriver, type StoreDriver } from './driver.js';

/** Every store hbd can use; the first is the default. A new driver is one file and one line here. */
export const STORE_DRIVERS: readonly StoreDriver<unknown>[] = [sqliteDriver, postgresDriver];

export const DEFAULT_STORE_DRIVER = sqliteDriver.name;

/** The `store:` of a config: which driver, and its options (the keys beside `driver`). */
export interface StoreSpec {
  driver: string;
  options: Readonly<Record<string, unknown>>;
}

export function storeDriver(name: string): StoreDriver<unknown> | undefined {
  return STORE_DRIVERS.find((driver) => driver.name === name);
}

/** Opens the store `spec` names. The config has checked it; a caller that built it by hand learns here what is wrong. */
export async function openStore(spec: StoreSpec, context: StoreContext): Promise<Store> {
  const driver = storeDriver(spec.driver);
  if (!driver) {
    throw new Error(
      `store: unknown driver "${spec.driver}"; expected one of ${STORE_DRIVERS.map((d) => d.name).join(', ')}`,
    );
  }
  const parsed = driver.schema.safeParse(spec.options);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `store.${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`store: invalid options for the ${driver.name} driver: ${problems.join('; ')}`);
  }
  return driver.open(parsed.data, context);
}
