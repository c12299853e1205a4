import type { HostChanges, Store, StoreParts } from '../../src/store/store.js';

export interface WatchedStore {
  /** Hand this to the code under test. */
  store: Store;
  /** Transactions that reached the real store. */
  commits: number;
  /** While set, every transaction fails as on a full disk, and nothing of it is stored. */
  failing: boolean;
  /** The size of every host write made in a transaction, in order. */
  writes: { upserts: number; timings: number }[];
}

/** A real store whose transactions a test can count, and make fail. */
export function watchStore(real: Store): WatchedStore {
  const spied = (tx: StoreParts): StoreParts => ({
    ...tx,
    hosts: {
      load: () => tx.hosts.load(),
      write: (changes: HostChanges) => {
        watched.writes.push({ upserts: changes.upserts.length, timings: changes.timings.length });
        return tx.hosts.write(changes);
      },
    },
  });
  const watched: WatchedStore = {
    commits: 0,
    failing: false,
    writes: [],
    store: {
      driver: real.driver,
      location: real.location,
      hosts: real.hosts,
      events: real.events,
      dns: real.dns,
      outbox: real.outbox,
      silences: real.silences,
      sessions: real.sessions,
      pings: real.pings,
      transaction: async (work) => {
        if (watched.failing) throw new Error('disk full');
        watched.commits++;
        return real.transaction((tx) => work(spied(tx)));
      },
      openWriter: (options) => real.openWriter(options),
      close: () => real.close(),
    },
  };
  return watched;
}
