import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { IngestStats } from '../ingest/stats.js';
import type { ChannelStats } from '../notify/channel-worker.js';
import { DROP_REASONS } from '../protocol/types.js';
import type { HostView } from '../state/host-view.js';

/**
 * The Prometheus registry. The ingest path keeps plain counters (cheaper than a
 * labelled `inc` per datagram); they are read here only when /metrics is scraped.
 */
export function createMetrics(deps: {
  stats: IngestStats;
  hosts: HostView;
  dns?: { stats: { updates: number; failures: number } };
  notify?: { channelStats(): { channel: string; stats: ChannelStats }[] };
}): Registry {
  const registry = new Registry();
  const { stats, hosts } = deps;

  new Counter({
    name: 'hbd_datagrams_received_total',
    help: 'UDP datagrams received on the heartbeat port, good or bad.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(stats.received);
    },
  });
  new Counter({
    name: 'hbd_heartbeats_accepted_total',
    help: 'Heartbeats that passed every check and updated a host.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(stats.accepted);
    },
  });
  new Counter({
    name: 'hbd_datagrams_dropped_total',
    help: 'Datagrams dropped, by reason (see the hb/1 protocol).',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const reason of DROP_REASONS) this.inc({ reason }, stats.dropped[reason]);
    },
  });
  new Gauge({
    name: 'hbd_hosts',
    help: 'Known hosts, by state.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      for (const [state, count] of Object.entries(hosts.countByState())) this.set({ state }, count);
    },
  });
  const { dns } = deps;
  if (dns) {
    new Counter({
      name: 'hbd_dns_updates_total',
      help: 'Dynamic DNS update attempts, by outcome.',
      labelNames: ['outcome'],
      registers: [registry],
      collect() {
        this.reset();
        this.inc({ outcome: 'ok' }, dns.stats.updates);
        this.inc({ outcome: 'error' }, dns.stats.failures);
      },
    });
  }
  const { notify } = deps;
  if (notify) {
    const perChannel = (
      name: string,
      help: string,
      value: (stats: ChannelStats) => number,
      gauge = false,
    ) => {
      const Metric = gauge ? Gauge : Counter;
      new Metric({
        name,
        help,
        labelNames: ['channel'],
        registers: [registry],
        collect() {
          this.reset();
          for (const { channel, stats } of notify.channelStats()) this.inc({ channel }, value(stats));
        },
      });
    };
    perChannel('hbd_notifications_sent_total', 'Messages a channel accepted.', (stats) => stats.sent);
    perChannel(
      'hbd_notification_retries_total',
      'Failed attempts that will be retried.',
      (stats) => stats.retries,
    );
    perChannel(
      'hbd_notifications_failed_total',
      'Messages given up: refused, or still failing at their deadline.',
      (stats) => stats.failed,
    );
    perChannel(
      'hbd_notifications_pending',
      'Messages waiting in the outbox.',
      (stats) => stats.pending,
      true,
    );
  }
  collectDefaultMetrics({ register: registry });
  return registry;
}
