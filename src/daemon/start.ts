import type { Server } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Config } from '../config/schema.js';
import { DnsPublisher } from '../dns/publisher.js';
import { Access } from '../http/access.js';
import { createApi } from '../http/app.js';
import { hostSource } from '../http/host-json.js';
import { HostOrder } from '../http/host-order.js';
import { createMetrics } from '../http/metrics.js';
import { withPingFastPath } from '../http/ping-fast-path.js';
import { registerPingMetrics } from '../http/ping-metrics.js';
import { SnapshotBudget } from '../http/snapshot-budget.js';
import { DropLog } from '../ingest/drop-log.js';
import { HostLimits } from '../ingest/host-limits.js';
import { IngestPipeline } from '../ingest/pipeline.js';
import { IngestStats } from '../ingest/stats.js';
import { listenUdp, type UdpListener } from '../ingest/udp.js';
import { Bus } from '../lib/bus.js';
import { type Clock, systemClock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { createChannels } from '../notify/channels/index.js';
import { NotifyEngine } from '../notify/engine.js';
import { Silences } from '../notify/silences.js';
import { notifyTriggers } from '../notify/triggers.js';
import { PushPings } from '../push/ping.js';
import { RecentPings } from '../push/recent-pings.js';
import { BeatHistory } from '../state/beat-history.js';
import { DeadlineWheel } from '../state/deadline-wheel.js';
import { HostTable } from '../state/host-table.js';
import { HostView } from '../state/host-view.js';
import { Monitor } from '../state/monitor.js';
import { statusFlapPolicyOf } from '../state/status-flaps.js';
import { openStore } from '../store/drivers.js';
import {
  reportFileFailure,
  reportStoreFailure,
  reportStoreRecovered,
  writeProblems,
} from '../store/fault-reports.js';
import { openJournal } from '../store/journal.js';
import { LiveFeed } from '../ws/live-feed.js';
import { feedUpgradeHandler } from '../ws/upgrade.js';
import { dnsLookupOf, dnsPublisherOptionsOf } from './dns-settings.js';
import { unsignedExposureWarning } from './exposure-warning.js';
import { every, pruneHistory, recentStateChanges } from './housekeeping.js';
import { closeHttp, endpointOf, type HttpEndpoint, listenHttp } from './http-server.js';
import { gatekeeperOf, hostLimitsOf, timingOf } from './ingest-settings.js';
import { Lifecycle } from './lifecycle.js';
import { notifySettingsOf } from './notify-settings.js';
import { pushOptionsOf } from './push-settings.js';
import { StoryLog } from './story-log.js';
import { warnAboutReceiveBuffer } from './udp-buffer.js';

/** How often deadlines are checked: a host goes late or down at most this long after its deadline. */
const SWEEP_MS = 100;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

export interface RunningDaemon {
  readonly udp: { host: string; port: number };
  readonly http: HttpEndpoint;
  readonly bus: Bus;
  readonly monitor: Monitor;
  /** The hosts as everything outside the state machine reads them. */
  readonly hosts: HostView;
  readonly stats: IngestStats;
  /** Mutes on hosts, for the notification path and the API. */
  readonly silences: Silences;
  readonly notify: NotifyEngine;
  /** The HTTP push endpoints' state: tokens and counters. */
  readonly push: PushPings;
  /** The top-level config keys a reload applies; the others need a restart. */
  readonly liveKeys: ReadonlySet<keyof Config>;
  /** Applies what can change live; the caller logs the rest as needing a restart. */
  reload(next: Config): void;
  /** Stops hearing, flushes state, closes everything, in the reverse order of starting. */
  stop(): Promise<void>;
}

export interface DaemonDeps {
  log: Logger;
  clock?: Clock;
  /** The built dashboard; by default dist/web (see `defaultDashboardDir`). */
  dashboardDir?: string;
}

/**
 * The composition root: builds every part from the config and registers it with the lifecycle,
 * which starts them in this order and stops them in reverse. Nothing here decides anything about
 * hosts or messages; each part's settings come from a `*-settings.ts` mapping beside this file.
 */
export async function startDaemon(initialConfig: Config, deps: DaemonDeps): Promise<RunningDaemon> {
  const { log } = deps;
  const clock = deps.clock ?? systemClock;
  let config = initialConfig;
  const lifecycle = new Lifecycle((component, error) =>
    log.error({ err: error, component: component.name }, `cannot stop the ${component.name} cleanly`),
  );
  try {
    return await wire();
  } catch (error) {
    await lifecycle.stop();
    throw error;
  }

  async function wire(): Promise<RunningDaemon> {
    const startedAt = clock.wall();
    const bus = new Bus((topic, error) => log.error({ err: error, topic }, `a ${topic} subscriber failed`));
    // The first to hear the bus and the last to stop: every change stored, to the final flush, is told.
    const storyLog = new StoryLog({ bus, log, clock });
    lifecycle.adopt({
      name: 'story log',
      // The log's level is live: the line per heartbeat comes and goes with `log_level: debug`.
      reload: (next) => storyLog.heartbeatLines(next.log_level === 'debug'),
      stop: () => storyLog.close(),
    });
    const table = new HostTable();
    const beatHistory = new BeatHistory();

    // The store first: every other part reads what it kept, and it is closed last.
    const store = await openStore(config.store, {
      pickfile: config.pickfile,
      // Read at every commit: events are bounded as they are written, and a reload applies at once.
      eventLimits: () => ({ maxEvents: config.history.max_events, perHost: config.limits.events_per_host }),
      warn: (message) => log.warn({ store: config.pickfile }, message),
    });
    lifecycle.adopt({ name: 'store', stop: () => store.close() });

    const notifySettings = notifySettingsOf(config);
    const writer = await store.openWriter({
      table,
      bus,
      triggersFor: notifyTriggers({
        // Called only once hosts change, by then `hosts` is built.
        host: (name) => hosts.find(name),
        groupBy: notifySettings.groupBy,
        announceNewProblems: notifySettings.announceNewProblems,
      }),
      onError: (error, backlog) => reportStoreFailure(log, store.location, error, backlog),
      onRecovered: (outage) => reportStoreRecovered(log, store.location, outage, performance.now()),
      onFileError: (what, path, error) => reportFileFailure(log, what, path, error),
    });
    // Stopped after everything that writes through it, before the store: the final flush.
    lifecycle.adopt({ name: 'store writer', stop: () => writer.close() });

    const monitor = new Monitor({
      table,
      wheel: new DeadlineWheel(SWEEP_MS, clock.mono()),
      clock,
      sink: writer,
      bus,
      timing: timingOf(config),
      beatHistory,
      statusFlaps: statusFlapPolicyOf(config.limits),
    });
    const hosts = new HostView(table, monitor, beatHistory);
    monitor.restore(await store.hosts.load());
    monitor.restoreTimings(writer.unstoredTimings);
    lifecycle.add({
      name: 'state machine',
      liveKeys: ['interval', 'grace', 'hosts', 'limits', 'push'],
      reload(next) {
        monitor.setTiming(timingOf(next));
        monitor.setStatusFlapPolicy(statusFlapPolicyOf(next.limits));
      },
    });
    lifecycle.add(every('deadline sweep', SWEEP_MS, () => monitor.sweep()));

    const silences = new Silences({
      store: store.silences,
      now: () => clock.wall(),
      onPruneError: (error) => log.error({ err: error }, 'cannot delete expired silences; will retry'),
    });
    lifecycle.add({ name: 'silences', start: () => silences.load() });

    const notify = new NotifyEngine({
      settings: notifySettings,
      // The wall clock against which a provider's "retry after this date" is read.
      channels: createChannels(config, { now: () => clock.wall() }),
      outbox: store.outbox,
      silences,
      host: (name) => hosts.find(name),
      knownHosts: () => hosts.established(),
      isEstablished: (name) => hosts.isEstablished(name),
      now: () => clock.wall(),
      log,
    });
    bus.on('event', (event) => notify.eventCommitted(event));
    bus.on('triggers', (triggers) => notify.triggersCommitted(triggers));
    lifecycle.add({
      name: 'notifications',
      liveKeys: ['interval', 'grace'],
      start: async () => {
        await notify.start(await recentStateChanges(store, clock, notifySettings.flapping?.windowMs ?? 0));
        await writer.flushAll();
      },
      // Sends cut off here stay pending in the outbox and go out after the restart.
      stop: () => notify.stop(),
      // The isolation window and settle time are derived from grace and interval.
      reload: (next) => notify.reload(notifySettingsOf(next)),
    });
    lifecycle.add({
      name: 'history',
      liveKeys: ['history'],
      start: () => pruneHistory(store, config, clock, log),
    });
    lifecycle.add(every('history pruning', PRUNE_EVERY_MS, () => pruneHistory(store, config, clock, log)));

    const journalConfig = config.journal;
    const journal =
      journalConfig &&
      openJournal({
        path: journalConfig.path,
        maxBytes: journalConfig.max_bytes,
        keep: journalConfig.keep,
        onError: (error) => reportFileFailure(log, 'heartbeat journal', journalConfig.path, error),
      });
    if (journal) {
      lifecycle.adopt({ name: 'heartbeat journal', stop: () => journal.close() });
      bus.on('heartbeat', (notice) => journal.append(notice));
    }

    const push = new PushPings({
      hosts,
      monitor,
      options: pushOptionsOf(config),
      recent: new RecentPings({
        store: store.pings,
        onError: (error) => log.error({ err: error }, 'cannot keep the last pings in the store; will retry'),
      }),
      now: () => clock.wall(),
    });
    lifecycle.add({
      name: 'push pings',
      liveKeys: ['push', 'push_ping_key'],
      reload: (next) => push.reload(pushOptionsOf(next)),
      // Stopped after the HTTP server, before the store: the last pings are written.
      stop: () => push.close(),
    });

    const dns =
      config.dyndomains.length > 0
        ? new DnsPublisher({
            ...dnsPublisherOptionsOf(config),
            store: store.dns,
            bus,
            clock,
            log,
            recordEvent: (event) => writer.recordEvent(event),
            lookup: dnsLookupOf(hosts, (host) => push.isPushHost(host)),
          })
        : undefined;
    if (dns) {
      // An update in flight is waited for, so a restart does not send it again; what is still
      // unsent is sent after the restart.
      lifecycle.add({ name: 'DNS publisher', start: () => dns.start(), stop: () => dns.close() });
    }

    // The read side: /api/hosts and /ws list hosts from the same order and share one snapshot budget.
    const hostOrder = new HostOrder(hosts, bus);
    const hostJsonSource = hostSource(hosts, dns && ((host) => dns.status(host)), (host, error) =>
      log.error({ err: error, host }, 'cannot turn a host into JSON; it is left out of the answer'),
    );
    const snapshotBudget = new SnapshotBudget({
      perMinute: () => config.limits.snapshots_per_minute,
      now: () => clock.mono(),
    });
    const access = new Access({ config: () => config, now: () => clock.wall(), sessions: store.sessions });
    lifecycle.add({
      name: 'access',
      liveKeys: ['api_token', 'read_token', 'auth_users', 'read_access'],
      reload: () => access.configChanged(),
    });
    // The per-host series read `metrics` at each scrape: nothing to apply, only to list as live.
    lifecycle.add({ name: 'per-host metrics', liveKeys: ['metrics'] });
    const stats = new IngestStats();
    const metrics = createMetrics({
      stats,
      hosts,
      hostOrder,
      hostSeries: () => ({ labels: config.metrics.host_labels, maxHosts: config.metrics.max_hosts }),
      dns,
      notify,
    });
    registerPingMetrics(metrics, push);
    const api = createApi({
      monitor,
      hostView: hosts,
      store,
      commitPending: () => writer.commitPending(),
      dns,
      silences,
      notify,
      push,
      dashboardDir: deps.dashboardDir,
      metrics,
      access,
      startedAt,
      onUnexpectedError: (error) => log.error({ err: error }, 'API request failed'),
      degraded: () =>
        writeProblems(
          [...writer.problems(), { what: 'heartbeat journal', failure: journal?.failure }],
          performance.now(),
        ),
      hostOrder,
      hosts: hostJsonSource,
      snapshotBudget,
      limits: () => config.limits,
    });
    const feed = new LiveFeed({
      bus,
      hosts: hostJsonSource,
      snapshotNames: async () => {
        // As before an API read: a host made in this turn is in the order only once its event is out.
        await writer.commitPending();
        return hostOrder.names();
      },
      limits: () => config.limits,
      onUnexpectedError: (error) => log.error({ err: error }, 'the live feed failed'),
    });

    const tls = Boolean(config.tls_cert);
    let server: Server | undefined;
    lifecycle.add({
      name: 'HTTP server',
      async start() {
        server = await listenHttp(
          config,
          withPingFastPath(push, getRequestListener(api.fetch)),
          feedUpgradeHandler({
            feed,
            access,
            budget: snapshotBudget,
            fleetSize: () => hosts.count,
            snapshotsPerMinute: () => config.limits.snapshots_per_minute,
            onUnexpectedError: (error) => log.error({ err: error }, 'a live feed connection failed'),
          }),
        );
      },
      // Second to stop, right after UDP: HTTP pings are heartbeats too.
      stop: () => server && closeHttp(server),
    });
    lifecycle.add({ name: 'live feed', stop: () => feed.close() });

    const hostLimits = new HostLimits(hostLimitsOf(config));
    const pipeline = new IngestPipeline({
      stats,
      gatekeeper: gatekeeperOf(config),
      limits: hostLimits,
      monitor,
      clock,
      dropLog: new DropLog(log),
    });
    lifecycle.add({
      name: 'ingest',
      liveKeys: ['auth', 'keys', 'max_skew', 'unsigned_networks', 'limits'],
      reload(next) {
        pipeline.setGatekeeper(gatekeeperOf(next));
        hostLimits.configure(hostLimitsOf(next));
      },
    });
    lifecycle.add({
      name: 'log',
      liveKeys: ['log_level'],
      reload: (next) => {
        log.level = next.log_level;
      },
    });

    // Last to start, first to stop: nothing is heard before every part is ready, or after they stop.
    let udp: UdpListener | undefined;
    lifecycle.add({
      name: 'heartbeat socket',
      async start() {
        udp = await listenUdp({
          host: config.hb_host,
          port: config.hb_port,
          receiveBufferSize: config.udp_rcvbuf,
          onDatagram: (datagram, source) => pipeline.handle(datagram, source),
          onError: (error) => log.error({ err: error }, 'heartbeat socket error'),
        });
        monitor.listening();
      },
      stop: () => udp?.close(),
    });

    await lifecycle.start();
    if (!udp || !server) throw new Error('hbd started without its sockets');
    const endpoint = endpointOf(server, tls);
    warnAboutReceiveBuffer(log, config.udp_rcvbuf, udp.receiveBufferSize);
    log.info(
      {
        udp: `${udp.address.host}:${udp.address.port}`,
        http: endpoint.url,
        hosts: hosts.count,
        store: store.location,
      },
      `hbd is listening for heartbeats on udp ${udp.address.host} port ${udp.address.port}, ` +
        `API on ${endpoint.url}, ${hosts.count} hosts known`,
    );
    const exposure = unsignedExposureWarning(config, udp.address.host);
    if (exposure !== undefined) log.warn({ udp: `${udp.address.host}:${udp.address.port}` }, exposure);

    return {
      udp: udp.address,
      http: endpoint,
      bus,
      monitor,
      hosts,
      stats,
      silences,
      notify,
      push,
      liveKeys: lifecycle.liveKeys,
      reload(next: Config) {
        config = next;
        lifecycle.reload(next);
      },
      stop: () => lifecycle.stop(),
    };
  }
}
