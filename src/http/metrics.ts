import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { IngestStats } from '../ingest/stats.js';
import type { ChannelStats } from '../notify/channel-worker.js';
import { DROP_REASONS } from '../protocol/types.js';
import type { HostView } from '../state/host-view.js';
import { type HostSeriesSettings, hostSeriesText } from './host-metrics.js';

/**
 * prom-client's default gauges that repeat, as a total, the sum of a labelled gauge beside them
 * (`sum without (type) (nodejs_active_handles)`); a gauge named `_total` reads as a counter, which
 * `promtool check metrics` reports. Left out, so that a scrape of hbd checks clean.
 */
const REDUNDANT_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** A registry whose scrape ends with the per-host series, written whole at each scrape. */
class HbdRegistry extends Registry {
  readonly #hostSeries: () => string;

  constructor(hostSeries: () => string) {
    super();
    this.#hostSeries = hostSeries;
  }

  override async metrics(): Promise<string> {
    return `${await super.metrics()}\n${this.#hostSeries()}`;
  }
}

/**
 * The Prometheus registry. The ingest path keeps plain counters (cheaper than a
 * labelled `inc` per datagram); they are read here only when /metrics is scraped.
 */
export function createMetrics(deps: {
  stats: IngestStats;
  hosts: HostView;
  /** Host names in sorted order (the API's): the per-host series cap keeps the first. */
  hostOrder: { names(): readonly string[] };
  /** Read at each scrape, so a reload applies at the next one. */
  hostSeries: () => HostSeriesSettings;
  dns?: { stats: { updates: number; failures: number } };
  notify?: {
    channelStats(): { channel: string; stats: ChannelStats }[];
    readonly isolated: boolean;
  };
}): Registry {
  const { stats, hosts } = deps;
  const registry = new HbdRegistry(() => hostSeriesText(hosts, deps.hostOrder.names(), deps.hostSeries()));

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
    new Gauge({
      name: 'hbd_isolated',
      help: 'Whether so many hosts went silent at once that hbd may be cut off itself (1), holding their down messages.',
      registers: [registry],
      collect() {
        this.set(notify.isolated ? 1 : 0);
      },
    });
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
    perChannel(
      'hbd_notification_channel_failing',
      'Whether the channel is failing now (1): its last attempt failed and none has worked since.',
      (stats) => (stats.failingSince === null ? 0 : 1),
      true,
    );
  }
  collectDefaultMetrics({ register: registry });
  for (const name of REDUNDANT_DEFAULT_METRICS) registry.removeSingleMetric(name);
  return registry;
}
