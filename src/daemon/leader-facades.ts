import type { DnsPublisher } from '../dns/publisher.js';
import { HttpError } from '../http/errors.js';
import type { Notification } from '../model/notification.js';
import type { OutboxMessage } from '../model/outbox.js';
import type { NotifyEngine } from '../notify/engine.js';
import type { LeaderTerm } from './leader-term.js';

/**
 * The notification engine as the API and /metrics see it: the current leader term's. A cluster
 * node that does not lead has no engine: no channel stats, not isolated, and nothing to announce.
 */
export interface LeaderNotify {
  channelStats: NotifyEngine['channelStats'];
  readonly isolated: boolean;
  /** Queues a notification on every channel now; only the leader sends. */
  announce(notification: Notification): Promise<OutboxMessage[]>;
}

export function leaderNotify(term: () => LeaderTerm | undefined): LeaderNotify {
  return {
    channelStats: () => term()?.notify.channelStats() ?? [],
    get isolated() {
      return term()?.notify.isolated ?? false;
    },
    async announce(notification) {
      const engine = term()?.notify;
      if (!engine)
        throw new HttpError(409, 'this hbd node does not lead the cluster: the leader sends notifications');
      return engine.announce(notification);
    },
  };
}

export type LeaderDns = Pick<DnsPublisher, 'status' | 'sync' | 'stats'>;

/**
 * The DNS publisher as the API sees it: the current leader term's, with counters kept across
 * terms. A cluster node that does not lead shows what the leader stored (`stored`).
 */
export function leaderDns(
  term: () => LeaderTerm | undefined,
  leader: () => string | null | undefined,
  stored?: Pick<DnsPublisher, 'status'>,
): LeaderDns {
  const stats = { updates: 0, failures: 0 };
  let counted: { publisher: DnsPublisher; updates: number; failures: number } | undefined;
  const current = () => {
    const publisher = term()?.dns;
    // Totals grow across terms, as a Prometheus counter must.
    if (counted && counted.publisher !== publisher) {
      stats.updates += counted.publisher.stats.updates - counted.updates;
      stats.failures += counted.publisher.stats.failures - counted.failures;
      counted = undefined;
    }
    if (publisher && !counted) counted = { publisher, updates: 0, failures: 0 };
    return publisher;
  };
  return {
    status: (host) => {
      const publisher = current();
      return publisher ? publisher.status(host) : stored?.status(host);
    },
    sync(host) {
      const publisher = current();
      if (!publisher) {
        const who = leader();
        throw new HttpError(
          409,
          `this hbd node does not lead the cluster: DNS is published by the leader${who ? ` (hbd node ${who})` : ''}`,
        );
      }
      return publisher.sync(host);
    },
    get stats() {
      const publisher = current();
      const live = publisher && counted ? publisher.stats : { updates: 0, failures: 0 };
      return {
        updates: stats.updates + live.updates - (counted?.updates ?? 0),
        failures: stats.failures + live.failures - (counted?.failures ?? 0),
      };
    },
  };
}
