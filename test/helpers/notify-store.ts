import { openSqliteStore } from '../../src/store/sqlite/store.js';
import type { Store } from '../../src/store/store.js';

/** The real SQLite store, in memory unless given a file, for the notification tests. */
export function openTestStore(path = ':memory:'): Store {
  return openSqliteStore(
    { path },
    {
      pickfile: path,
      eventLimits: () => ({ maxEvents: 1_000_000, perHost: 100_000 }),
      warn: () => {},
    },
  );
}
