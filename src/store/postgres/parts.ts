import type { EventLimits, StoreParts } from '../store.js';
import type { Db } from './db.js';
import { createPgDns } from './dns.js';
import type { PgEventBounds } from './event-bounds.js';
import { createPgEvents } from './events.js';
import { createPgHosts } from './hosts.js';
import { createPgOutbox } from './outbox.js';
import { createPgPings } from './pings.js';
import { createPgSessions } from './sessions.js';
import { createPgSilences } from './silences.js';
import type { SkipRow } from './skip-row.js';

/**
 * What each sub-store method does to the database: `read`s run side by side on the pool;
 * `write`s each in a transaction of their own; `fenced` writes as well, and on a cluster node
 * only while it leads (StoreContext.fence). Sessions, silences and pings are any node's to write.
 */
export type MethodKind = 'read' | 'write' | 'fenced';

export const METHOD_KINDS: {
  readonly [P in keyof StoreParts]: Readonly<Record<keyof StoreParts[P], MethodKind>>;
} = {
  hosts: { load: 'read', write: 'fenced' },
  events: { append: 'fenced', list: 'read', previousStateChange: 'read', prune: 'fenced' },
  dns: { load: 'read', save: 'fenced' },
  outbox: {
    addTriggers: 'fenced',
    pendingTriggers: 'read',
    decide: 'fenced',
    pendingMessages: 'read',
    announcedHosts: 'read',
    claim: 'fenced',
    markSent: 'fenced',
    markRetry: 'fenced',
    markFailed: 'fenced',
    merge: 'fenced',
    list: 'read',
    countByState: 'read',
    prune: 'fenced',
  },
  silences: { add: 'write', active: 'read', remove: 'write', pruneExpired: 'write' },
  sessions: { add: 'write', get: 'read', touch: 'write', list: 'read', remove: 'write' },
  pings: { add: 'write', recent: 'read' },
};

/** What the sub-stores share across calls: the event counts and how bad rows are reported. */
export interface PartsContext {
  bounds: PgEventBounds;
  limits: () => EventLimits;
  /** What the event counts hold under: the fencing token, or 0 for a store alone. */
  boundsKey: () => number;
  skipRow: SkipRow;
}

/** The sub-stores with every statement going to `db`. Cheap: made per transaction. */
export function createParts(db: Db, context: PartsContext): StoreParts {
  return {
    hosts: createPgHosts(db, context.skipRow),
    events: createPgEvents(db, context.bounds, context.limits, context.boundsKey),
    dns: createPgDns(db),
    outbox: createPgOutbox(db),
    silences: createPgSilences(db),
    sessions: createPgSessions(db, context.skipRow),
    pings: createPgPings(db, context.skipRow),
  };
}
