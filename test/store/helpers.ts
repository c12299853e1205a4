import { openSqliteStore } from '../../src/store/sqlite/store.js';
import type { EventLimits, Store, StoreContext } from '../../src/store/store.js';

/** Limits that never trim: a test that wants trimming passes its own. */
export const NO_EVENT_LIMITS: EventLimits = {
  maxEvents: Number.MAX_SAFE_INTEGER,
  perHost: Number.MAX_SAFE_INTEGER,
};

/** A store context for tests: warnings collected, limits as given (read at every append). */
export function storeContext(overrides: Partial<StoreContext> = {}): StoreContext & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    pickfile: ':memory:',
    eventLimits: () => NO_EVENT_LIMITS,
    warn: (message) => warnings.push(message),
    ...overrides,
    warnings,
  };
}

/** The SQLite store on `path` (by default a database in memory). */
export function sqliteStore(path = ':memory:', context: Partial<StoreContext> = {}): Store {
  return openSqliteStore({ path }, storeContext(context));
}

export const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** Retries `check` until it passes: for conditions reached on other turns, never a fixed sleep. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
