import type { Store } from '../../src/store/store.js';

export interface WatchedStore {
  /** Hand this to the code under test. */
  store: Store;
  /** Commits that reached the real store. */
  commits: number;
  /** While set, every commit fails as on a full disk, and nothing of it is stored. */
  failing: boolean;
}

/** A real store whose commits a test can count, and make fail. */
export function watchStore(real: Store): WatchedStore {
  const watched: WatchedStore = {
    commits: 0,
    failing: false,
    store: {
      ...real,
      commit: (batch, hook) => {
        if (watched.failing) throw new Error('disk full');
        watched.commits++;
        return real.commit(batch, hook);
      },
    },
  };
  return watched;
}
