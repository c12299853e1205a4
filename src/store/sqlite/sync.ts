import type { OutboxStore } from '../outbox-store.js';
import type { PingStore } from '../ping-store.js';
import type { SilenceStore } from '../silence-store.js';
import type { DnsStore, EventStore, HostStore, SessionStore, StoreParts } from '../store.js';

/** A sub-store as better-sqlite3 runs it: the same methods, synchronous. */
export type Sync<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : T[K];
};

/** The SQLite sub-stores before they are made asynchronous (see store.ts). */
export interface SyncParts {
  hosts: Sync<HostStore>;
  events: Sync<EventStore>;
  dns: Sync<DnsStore>;
  outbox: Sync<OutboxStore>;
  silences: Sync<SilenceStore>;
  sessions: Sync<SessionStore>;
  pings: Sync<PingStore>;
}

// The two lists must name the same sub-stores.
export const PART_NAMES = [
  'hosts',
  'events',
  'dns',
  'outbox',
  'silences',
  'sessions',
  'pings',
] as const satisfies readonly (keyof StoreParts)[];
