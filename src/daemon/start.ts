import type { Server } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { PropagationLag } from '../cluster/lag.js';
import { isNodeHost, NODE_HOST_PREFIX } from '../cluster/node-host.js';
import { RoleSink } from '../cluster/role-sink.js';
import { BeatShare, PROPAGATION_SLACK_MS } from '../cluster/share.js';
import { StoredDnsView } from '../cluster/stored-dns.js';
import type { Config } from '../config/schema.js';
import { Access } from '../http/access.js';
import { createApi } from '../http/app.js';
import { registerClusterMetrics } from '../http/cluster-metrics.js';
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
import { hbdVersion } from '../lib/version.js';
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
import type { Fence } from '../store/fencing.js';
import { openJournal } from '../store/journal.js';
import type { HostWriter, WriterOptions } from '../store/store.js';
import { LiveFeed } from '../ws/live-feed.js';
import { feedUpgradeHandler } from '../ws/upgrade.js';
import { ClusterNode } from './cluster-node.js';
import { reportClusterShareFailure, reportClusterShareRecovered } from './cluster-reports.js';
import { unsignedExposureWarning } from './exposure-warning.js';
import { every } from './housekeeping.js';
import { closeHttp, endpointOf, type HttpEndpoint, listenHttp } from './http-server.js';
import { gatekeeperOf, hostLimitsOf, timingOf } from './ingest-settings.js';
import { type LeaderNotify, leaderDns, leaderNotify } from './leader-facades.js';
import { LeaderTerm } from './leader-term.js';
import { Lifecycle } from './lifecycle.js';
import { notifySettingsOf } from './notify-settings.js';
import { pushOptionsOf } from './push-settings.js';
import { StoryLog } from './story-log.js';
import { warnAboutReceiveBuffer } from './udp-buffer.js';

/** How often deadlines are checked: a host goes late or down at most this long after its deadline. */
const SWEEP_MS = 100;
const _PRUNE_EVERY_MS = 60 * 60 * 1000;

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
  /** The current leader term's notifications (a single node's, from start to stop). */
  readonly notify: LeaderNotify;
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
    const heardSince = clock.mono();
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

    // Set once the cluster node exists: a store several nodes share fences the leader's writes with it.
    let clusterNode: ClusterNode | undefined;
    const fence: Fence = { node: config.cluster.node, token: () => clusterNode?.fenceToken() };
    // The store first: every other part reads what it kept, and it is closed last.
    const store = await openStore(config.store, {
      pickfile: config.pickfile,
      // Read at every commit: events are bounded as they are written, and a reload applies at once.
      eventLimits: () => ({ maxEvents: config.history.max_events, perHost: config.limits.events_per_host }),
      warn: (message) => log.warn({ store: config.pickfile }, message),
      fence,
    });
    lifecycle.adopt({ name: 'store', stop: () => store.close() });
    // A store that several hbd processes reach makes this process one node of a cluster.
    const clusterBackend = store.cluster;

    const notifySettings = notifySettingsOf(config);
    const writerOptions: WriterOptions = {
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
    };
    // A cluster node stores through the writer of its current leader term, if any; a single node always leads.
    let share: BeatShare | undefined;
    const roleSink =
      clusterBackend &&
      new RoleSink({
        forgotten: (host) => {
          share?.forgotten(host);
          clusterNode?.hostForgotten(host);
        },
      });
    const writer: HostWriter = roleSink ?? (await store.openWriter(writerOptions));
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
      propagationSlackMs: clusterBackend ? PROPAGATION_SLACK_MS : 0,
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
      options: pushOptionsOf(config, clusterBackend !== undefined),
      recent: new RecentPings({
        store: store.pings,
        onError: (error) => log.error({ err: error }, 'cannot keep the last pings in the store; will retry'),
      }),
      now: () => clock.wall(),
    });
    lifecycle.add({
      name: 'push pings',
      liveKeys: ['push', 'push_ping_key'],
      reload: (next) => push.reload(pushOptionsOf(next, clusterBackend !== undefined)),
      // Stopped after the HTTP server, before the store: the last pings are written.
      stop: () => push.close(),
    });

    const newTerm = (termWriter: HostWriter) =>
      new LeaderTerm({
        config: () => config,
        store,
        writer: termWriter,
        bus,
        clock,
        log,
        hosts,
        silences,
        push,
        heardSince,
        leads: clusterBackend && (() => clusterNode?.fenceToken() !== undefined),
      });
    let singleTerm: LeaderTerm | undefined;
    const lag = new PropagationLag();
    if (clusterBackend && roleSink) {
      share = new BeatShare({
        backend: clusterBackend,
        node: config.cluster.node,
        monitor,
        bus,
        clock,
        lag,
        onError: (what, error) => reportClusterShareFailure(log, what, error),
        onRecovered: (what, outage) => reportClusterShareRecovered(log, what, outage),
      });
      silences.onChanged(() => {
        clusterBackend
          .announce('silences')
          .catch((error) =>
            log.error(
              { err: error },
              'cannot tell the other nodes about a silence; they read it again within 30 s',
            ),
          );
      });
      const node = new ClusterNode({
        backend: clusterBackend,
        store,
        node: config.cluster.node,
        leaseMs: config.cluster.lease * 1000,
        monitor,
        bus,
        clock,
        log,
        sink: roleSink,
        share,
        lag,
        silences,
        openWriter: () => store.openWriter(writerOptions),
        newTerm,
        version: hbdVersion(),
        apiUrl: () => (server ? endpointOf(server, tls).url : `http://${config.hbd_host}:${config.hbd_port}`),
      });
      clusterNode = node;
      lifecycle.add({
        name: 'cluster',
        liveKeys: ['interval', 'grace', 'history'],
        start: () => node.start(),
        // Stores what it has and gives the lease up: another node leads at once.
        stop: () => node.stop(),
        reload: (next) => node.term?.reload(next),
      });
    } else {
      const term = newTerm(writer);
      singleTerm = term;
      lifecycle.add({
        name: 'leader duties',
        liveKeys: ['interval', 'grace', 'history'],
        start: async () => {
          await term.startNotifications();
          await writer.flushAll();
          await term.startTheRest({ resendDns: false });
        },
        // Sends cut off here stay pending in the outbox and go out after the restart; a DNS
        // update in flight is waited for.
        stop: () => term.stop(),
        reload: (next) => term.reload(next),
      });
    }
    const notify = leaderNotify(() => singleTerm ?? clusterNode?.term);
    const storedDns =
      clusterNode && config.dyndomains.length > 0
        ? lifecycle.add(
            new StoredDnsView({
              store: store.dns,
              bus,
              onError: (error) =>
                log.error(
                  { err: error },
                  "cannot read the leader's DNS records; reading again at the next change",
                ),
            }),
          )
        : undefined;
    const dns =
      config.dyndomains.length > 0
        ? leaderDns(
            () => singleTerm ?? clusterNode?.term,
            () => clusterNode?.status().leader,
            storedDns,
          )
        : undefined;

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
    const node = clusterNode;
    if (node) registerClusterMetrics(metrics, () => node.status(), lag);
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
      degraded: () => [
        ...writeProblems(
          [...writer.problems(), { what: 'heartbeat journal', failure: journal?.failure }],
          performance.now(),
        ),
        ...(clusterNode?.problems() ?? []),
      ],
      hostOrder,
      hosts: hostJsonSource,
      cluster: () => clusterNode?.status(),
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
      // Only the node itself beats as its node host: no outsider can keep a dead node looking alive.
      reservedHost: clusterBackend
        ? (host) =>
            isNodeHost(host)
              ? `${host}: names starting ${NODE_HOST_PREFIX} are the cluster's own nodes`
              : undefined
        : undefined,
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
