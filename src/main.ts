import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { hostPolicy } from './config/host-policy.js';
import type { Config } from './config/schema.js';
import { readTlsFiles } from './config/tls-files.js';
import { createUpdater } from './dns/create-updater.js';
import { DnsPublisher } from './dns/publisher.js';
import { Access } from './http/access.js';
import { createApi } from './http/app.js';
import { hostSource } from './http/host-json.js';
import { HostOrder } from './http/host-order.js';
import { createMetrics } from './http/metrics.js';
import { withPingFastPath } from './http/ping-fast-path.js';
import { SnapshotBudget } from './http/snapshot-budget.js';
import { httpsServerOptions, withHsts } from './http/tls-options.js';
import { DropLog } from './ingest/drop-log.js';
import { unsignedExposureWarning } from './ingest/exposure-warning.js';
import { Gatekeeper } from './ingest/gatekeeper.js';
import { HostLimits, type HostLimitsOptions } from './ingest/host-limits.js';
import { IngestPipeline } from './ingest/pipeline.js';
import { IngestStats } from './ingest/stats.js';
import { listenUdp, type UdpListener } from './ingest/udp.js';
import { Bus } from './lib/bus.js';
import { type Clock, systemClock } from './lib/clock.js';
import type { Logger } from './lib/log.js';
import type { HostEvent } from './model/events.js';
import { createChannels } from './notify/channels.js';
import { NotifyEngine } from './notify/engine.js';
import { notifySettingsOf } from './notify/settings.js';
import { Silences } from './notify/silences.js';
import { triggerKindOf } from './notify/triggers.js';
import { PushPings } from './push/ping.js';
import { withPushTiming } from './push/tokens.js';
import { BeatHistory } from './state/beat-history.js';
import { Committer } from './state/committer.js';
import { DeadlineWheel } from './state/deadline-wheel.js';
import { HostTable } from './state/host-table.js';
import { Monitor, type TimingPolicy } from './state/monitor.js';
import { statusFlapPolicyOf } from './state/status-flaps.js';
import { BeatLog, readBeatLog } from './store/beat-log.js';
import {
  reportFileFailure,
  reportStoreFailure,
  reportStoreRecovered,
  writeProblems,
} from './store/fault-reports.js';
import { type Journal, openJournal } from './store/journal.js';
import createSqliteStore from './store/sqlite.js';
import type { Store } from './store/store.js';
import { LiveFeed } from './ws/live-feed.js';
import { feedUpgradeHandler, type UpgradeHandler } from './ws/upgrade.js';

/** How often deadlines are checked: a host goes late or down at most this long after its deadline. */
const SWEEP_MS = 100;
const PRUNE_EVERY_MS = 60 * 60 * 1000;
/** How often routine timing moves from the beat log into the store (the log holds it meanwhile). */
const STORE_CYCLE_MS = 10_000;

export interface RunningDaemon {
  readonly udp: { host: string; port: number };
  readonly http: { host: string; port: number; url: string };
  readonly bus: Bus;
  readonly monitor: Monitor;
  readonly stats: IngestStats;
  /** Mutes on hosts, for the notification path and the API. */
  readonly silences: Silences;
  readonly notify: NotifyEngine;
  /** The HTTP push endpoints' state: tokens and counters. */
  readonly push: PushPings;
  /** Applies what can change live; the caller logs the rest as needing a restart. */
  reload(next: Config): void;
  /** Stops ingest, flushes state, closes everything; resolves when done. */
  stop(): Promise<void>;
}

export interface DaemonDeps {
  log: Logger;
  clock?: Clock;
  /** The built dashboard; by default dist/web (see `defaultDashboardDir`). */
  dashboardDir?: string;
}

/** The composition root: builds every part from the config, starts them, and stops them in reverse. */
export async function startDaemon(initialConfig: Config, deps: DaemonDeps): Promise<RunningDaemon> {
  const { log } = deps;
  const clock = deps.clock ?? systemClock;
  let config = initialConfig;
  const startedAt = clock.wall();

  const store: Store = createSqliteStore({
    path: config.pickfile,
    // Read at every commit: events are bounded as they are written, and a reload applies at once.
    eventLimits: () => ({ maxEvents: config.history.max_events, perHost: config.limits.events_per_host }),
    onWarning: (message) => log.warn({ store: config.pickfile }, message),
  });
  const silences = new Silences({
    store: store.silences,
    now: () => clock.wall(),
    onPruneError: (error) => log.error({ err: error }, 'cannot delete expired silences; will retry'),
  });
  const bus = new Bus((topic, error) => log.error({ err: error, topic }, `a ${topic} subscriber failed`));
  const table = new HostTable();
  const wheel = new DeadlineWheel(SWEEP_MS, clock.mono());
  // Timing heard before a crash and not yet in the store: read before the log is reopened.
  const beatLogPath = `${config.pickfile}.beats`;
  const unstoredTimings = readBeatLog(beatLogPath);
  const committer = new Committer({
    store,
    table,
    bus,
    beatLog: new BeatLog(beatLogPath, (error) => reportFileFailure(log, 'beat log', beatLogPath, error)),
    flushIntervalMs: STORE_CYCLE_MS,
    onError: (error, backlog) => reportStoreFailure(log, config.pickfile, error, backlog),
    onRecovered: (outage) => reportStoreRecovered(log, config.pickfile, outage, performance.now()),
  });
  const beatHistory = new BeatHistory();
  const monitor = new Monitor({
    table,
    wheel,
    clock,
    sink: committer,
    bus,
    timing: timingOf(config),
    beatHistory,
    statusFlaps: statusFlapPolicyOf(config.limits),
  });
  monitor.restore(store.loadHosts());
  monitor.restoreTimings(unstoredTimings.values());
  const push = new PushPings({ monitor, config });

  const notifySettings = notifySettingsOf(config);
  const notify = new NotifyEngine({
    settings: notifySettings,
    channels: createChannels(config),
    outbox: store.outbox,
    silences,
    host: (name) => {
      const slot = table.find(name);
      return slot < 0 ? undefined : table.record(slot);
    },
    knownHosts: () => {
      // Only established hosts: hosts that beat once and stopped cannot make hbd look isolated.
      const expected = { all: 0, signed: 0 };
      for (const slot of table.slots()) {
        if (!monitor.isEstablished(slot) || table.getState(slot) === 'left') continue;
        expected.all++;
        if (table.signed[slot] === 1) expected.signed++;
      }
      return expected;
    },
    isEstablished: (name) => {
      const slot = table.find(name);
      return slot >= 0 && monitor.isEstablished(slot);
    },
    now: () => clock.wall(),
    log,
  });
  committer.addCommitHook((events) => notify.inCommit(events));
  bus.on('event', (event) => notify.eventCommitted(event));
  notify.start(recentStateChanges(store, clock, notifySettings.flapping?.windowMs ?? 0));
  committer.flushAll();
  pruneHistory(store, config, clock, log);

  let journal: Journal | undefined;
  if (config.journal) {
    const journalPath = config.journal.path;
    const opened = openJournal({
      path: config.journal.path,
      maxBytes: config.journal.max_bytes,
      keep: config.journal.keep,
      onError: (error) => reportFileFailure(log, 'heartbeat journal', journalPath, error),
    });
    bus.on('heartbeat', (notice) => opened.append(notice));
    journal = opened;
  }

  const stats = new IngestStats();
  const hostLimits = new HostLimits(hostLimitsOf(config));
  const pipeline = new IngestPipeline({
    stats,
    gatekeeper: gatekeeperOf(config),
    limits: hostLimits,
    monitor,
    clock,
    dropLog: new DropLog(log),
  });

  const timers = [
    setInterval(() => monitor.sweep(), SWEEP_MS),
    setInterval(() => pruneHistory(store, config, clock, log), PRUNE_EVERY_MS),
  ];
  for (const timer of timers) timer.unref();

  const dns =
    config.dyndomains.length > 0
      ? new DnsPublisher({
          config,
          updater: createUpdater(config),
          store,
          bus,
          clock,
          log,
          recordEvent: (event) => committer.recordEvent(event),
          lookup: (host) => {
            const slot = table.find(host);
            if (slot < 0) return undefined;
            const record = table.record(slot);
            // A push host reports over HTTP: the publisher's one rule for such hosts applies.
            const via = push.isPushHost(host) ? 'http' : undefined;
            return { host, addr: record.addr, ip4: record.ip4, ip6: record.ip6, signed: record.signed, via };
          },
        })
      : undefined;
  const dnsStatus = dns && ((host: string) => dns.status(host));

  // The read side: /api/hosts and /ws list hosts from the same order and share one snapshot budget.
  const hostOrder = new HostOrder(table, bus);
  const hosts = hostSource(monitor, dnsStatus, (host, error) =>
    log.error({ err: error, host }, 'cannot turn a host into JSON; it is left out of the answer'),
  );
  const snapshotBudget = new SnapshotBudget({
    perMinute: () => config.limits.snapshots_per_minute,
    now: () => clock.mono(),
  });
  const feed = new LiveFeed({
    bus,
    hosts,
    snapshotNames: () => {
      // As before an API read: a host made in this turn is in the order only once its event is out.
      committer.commitPending();
      return hostOrder.names();
    },
    limits: () => config.limits,
    onUnexpectedError: (error) => log.error({ err: error }, 'the live feed failed'),
  });
  const access = new Access({ config: () => config, now: () => clock.wall() });
  const api = createApi({
    monitor,
    store,
    commitPending: () => committer.commitPending(),
    dns,
    silences,
    notify,
    beatHistory,
    push,
    dashboardDir: deps.dashboardDir,
    metrics: createMetrics({ stats, table, dns, notify }),
    access,
    startedAt,
    onUnexpectedError: (error) => log.error({ err: error }, 'API request failed'),
    degraded: () =>
      writeProblems(
        [
          { what: `state store ${config.pickfile}`, failure: committer.storeFailure },
          { what: 'beat log', failure: committer.beatLogFailure },
          { what: 'heartbeat journal', failure: journal?.failure },
        ],
        performance.now(),
      ),
    hostOrder,
    hosts,
    snapshotBudget,
    limits: () => config.limits,
  });

  let udp: UdpListener | undefined;
  let server: http.Server | undefined;
  try {
    udp = await listenUdp({
      host: config.hb_host,
      port: config.hb_port,
      receiveBufferSize: config.udp_rcvbuf,
      onDatagram: (datagram, source) => pipeline.handle(datagram, source),
      onError: (error) => log.error({ err: error }, 'heartbeat socket error'),
    });
    server = await listenHttp(
      config,
      withPingFastPath(push, getRequestListener(api.fetch)),
      feedUpgradeHandler({
        feed,
        access,
        budget: snapshotBudget,
        fleetSize: () => table.size,
        snapshotsPerMinute: () => config.limits.snapshots_per_minute,
        onUnexpectedError: (error) => log.error({ err: error }, 'a live feed connection failed'),
      }),
    );
    monitor.listening();
  } catch (error) {
    await udp?.close();
    notify.stop();
    await dns?.close();
    feed.close();
    for (const timer of timers) clearInterval(timer);
    committer.close();
    journal?.close();
    store.close();
    throw error;
  }

  // Linux reports twice what was set (the kernel's bookkeeping share); halve it to compare.
  const granted = udp.receiveBufferSize / 2;
  if (config.udp_rcvbuf > 0 && granted < config.udp_rcvbuf) {
    log.warn(
      { requested: config.udp_rcvbuf, granted },
      `the kernel granted a ${granted}-byte UDP receive buffer instead of ${config.udp_rcvbuf}: ` +
        'raise net.core.rmem_max to absorb bursts',
    );
  }
  const httpAddress = server.address() as AddressInfo;
  const scheme = config.tls_cert ? 'https' : 'http';
  const httpHost = httpAddress.family === 'IPv6' ? `[${httpAddress.address}]` : httpAddress.address;
  const running: RunningDaemon = {
    udp: udp.address,
    http: {
      host: httpAddress.address,
      port: httpAddress.port,
      url: `${scheme}://${httpHost}:${httpAddress.port}`,
    },
    bus,
    monitor,
    stats,
    silences,
    notify,
    push,
    reload(next: Config) {
      config = next;
      push.reload(next);
      monitor.setTiming(timingOf(next));
      monitor.setStatusFlapPolicy(statusFlapPolicyOf(next.limits));
      // The isolation window and settle time are derived from grace and interval.
      notify.reload(notifySettingsOf(next));
      pipeline.setGatekeeper(gatekeeperOf(next));
      hostLimits.configure(hostLimitsOf(next));
      log.level = next.log_level;
      access.configChanged();
    },
    async stop() {
      // Stop hearing first, so nothing arrives after the final flush.
      await udp.close();
      for (const timer of timers) clearInterval(timer);
      // An update in flight is waited for, so a restart does not send it again; what is
      // still unsent is sent after the restart.
      await dns?.close();
      // Sends cut off here stay pending in the outbox and go out after the restart.
      notify.stop();
      feed.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections would hold close() open until they time out.
      server.closeAllConnections();
      await closed;
      committer.close();
      journal?.close();
      store.close();
    },
  };
  log.info(
    {
      udp: `${udp.address.host}:${udp.address.port}`,
      http: running.http.url,
      hosts: table.size,
      store: config.pickfile,
    },
    `hbd is listening for heartbeats on udp ${udp.address.host} port ${udp.address.port}, ` +
      `API on ${running.http.url}, ${table.size} hosts known`,
  );
  const exposure = unsignedExposureWarning(config, udp.address.host);
  if (exposure !== undefined) log.warn({ udp: `${udp.address.host}:${udp.address.port}` }, exposure);
  return running;
}

function timingOf(config: Config): TimingPolicy {
  return {
    interval: config.interval,
    grace: config.grace,
    overrideFor: withPushTiming(config.push, hostPolicy(config)),
  };
}

function gatekeeperOf(config: Config): Gatekeeper {
  return new Gatekeeper({
    auth: config.auth,
    keys: config.keys,
    maxSkew: config.max_skew,
    unsignedNetworks: config.unsigned_networks,
  });
}

function hostLimitsOf(config: Config): HostLimitsOptions {
  const { max_hosts, new_hosts_per_minute, host_bytes } = config.limits;
  return { maxHosts: max_hosts, newHostsPerMinute: new_hosts_per_minute, hostBytes: host_bytes };
}

/** The last window of state changes, oldest first, so flapping is still recognised after a restart. */
function recentStateChanges(store: Store, clock: Clock, windowMs: number): HostEvent[] {
  if (windowMs <= 0) return [];
  return (
    store
      .events({ since: clock.wall() - windowMs, limit: 100_000 })
      // The changes the detector counts while running: going down and coming back.
      .filter((event) => triggerKindOf(event) === 'down' || triggerKindOf(event) === 'up')
      .reverse()
  );
}

function pruneHistory(store: Store, config: Config, clock: Clock, log: Logger): void {
  try {
    const olderThan = clock.wall() - config.history.days * 86_400_000;
    const removed =
      store.prune({ olderThan, maxEvents: config.history.max_events }) + store.outbox.prune(olderThan);
    if (removed > 0) log.debug({ removed }, 'pruned old events');
  } catch (error) {
    log.error({ err: error }, 'cannot prune old events');
  }
}

async function listenHttp(
  config: Config,
  listener: http.RequestListener,
  onUpgrade: UpgradeHandler,
): Promise<http.Server> {
  // A ConfigError naming the file, not ENOENT with a stack, if a TLS file went missing since the check.
  const tls = readTlsFiles(config);
  const server = tls
    ? https.createServer(httpsServerOptions(tls), withHsts(listener))
    : http.createServer(listener);
  server.on('upgrade', onUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.hbd_port, config.hbd_host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
