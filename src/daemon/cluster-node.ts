import { EventsTail } from '../cluster/events-tail.js';
import type { PropagationLag } from '../cluster/lag.js';
import { LeaderLease } from '../cluster/lease.js';
import { NODE_BEAT_SECONDS, nodeHostName, nodeOfHost } from '../cluster/node-host.js';
import type { RoleSink } from '../cluster/role-sink.js';
import type { BeatShare } from '../cluster/share.js';
import type { ClusterStatus } from '../cluster/status.js';
import { reconcile } from '../cluster/takeover.js';
import type { Bus } from '../lib/bus.js';
import type { Clock } from '../lib/clock.js';
import { errorMessage } from '../lib/error-message.js';
import type { Logger } from '../lib/log.js';
import type { Silences } from '../notify/silences.js';
import type { Monitor } from '../state/monitor.js';
import type { ClusterBackend, NodeRow } from '../store/cluster-backend.js';
import type { HostWriter, Store } from '../store/store.js';
import { WriteRetry } from '../store/write-retry.js';
import type { LeaderTerm } from './leader-term.js';

export interface ClusterNodeDeps {
  backend: ClusterBackend;
  store: Store;
  node: string;
  leaseMs: number;
  monitor: Monitor;
  bus: Bus;
  clock: Clock;
  log: Logger;
  sink: RoleSink;
  share: BeatShare;
  lag: PropagationLag;
  silences: Silences;
  /** A writer for a new term: the store's write-behind, fenced by this node's lease. */
  openWriter: () => Promise<HostWriter>;
  newTerm: (writer: HostWriter) => LeaderTerm;
  version: string;
  /** The API's URL, once it listens. */
  apiUrl: () => string;
}

/**
 * One node of a cluster: it shares what it hears, applies what the others heard, reports its
 * row, and takes part in the leader election. Taking the lease starts a leader term (after
 * storing what the last leader could not); losing it stops the term before anything else can
 * be sent. Transitions run one at a time, in the order they happened.
 */
export class ClusterNode {
  readonly lease: LeaderLease;
  readonly #deps: ClusterNodeDeps;
  readonly #tail: EventsTail;
  readonly #startedAt: number;
  #term: LeaderTerm | undefined;
  /** The lease token the current term (or the takeover under way) writes under. */
  #termToken: number | undefined;
  #transitions: Promise<void> = Promise.resolve();
  #nodes: NodeRow[] = [];
  #reportTimer: NodeJS.Timeout | undefined;
  #stopListening: (() => Promise<void>) | undefined;
  readonly #databaseRetry = new WriteRetry();
  #stopping = false;
  #reports = 0;
  #lastApiUrl = '';

  constructor(deps: ClusterNodeDeps) {
    this.#deps = deps;
    this.#startedAt = deps.clock.wall();
    this.lease = new LeaderLease({
      backend: deps.backend,
      node: deps.node,
      leaseMs: deps.leaseMs,
      now: () => deps.clock.mono(),
      onAcquired: (token) => this.#queue(() => this.#takeOver(token)),
      onLost: (why) => this.#queue(() => this.#stepDown(why)),
      onError: (error) => this.#databaseFailed('claiming the leader lease', error),
    });
    this.#tail = new EventsTail({
      events: deps.store.events,
      bus: deps.bus,
      onError: (error) => this.#databaseFailed("reading the leader's events", error),
    });
  }

  /**
   * The fencing token for the store: the current term's, while the lease still has it. A writer
   * of an earlier term, still flushing when this node took the lease again, is fenced out with
   * the rest of that term rather than writing under the new one's token.
   */
  fenceToken(): number | undefined {
    const token = this.#termToken;
    return token !== undefined && this.lease.token() === token ? token : undefined;
  }

  /** The leader term under way on this node, if it leads. */
  get term(): LeaderTerm | undefined {
    return this.#term;
  }

  status(): ClusterStatus {
    return {
      node: this.#deps.node,
      role: this.#term ? 'leader' : 'follower',
      leader: this.lease.holder,
      nodes: this.#nodes,
      leaseMs: this.#deps.leaseMs,
      lag: this.#deps.lag,
    };
  }

  /** What keeps this node from the cluster, for /healthz: `cluster: cannot … for 12 s: why`. */
  problems(nowMs: number = performance.now()): string[] {
    const problems = this.#deps.share.problems();
    const failure = this.#databaseRetry.failure;
    if (failure) problems.push({ what: 'reach the database', failure });
    return problems.map(
      ({ what, failure: { since, lastError } }) =>
        `cluster: cannot ${what} for ${Math.round((nowMs - since) / 1000)} s: ${errorMessage(lastError)}`,
    );
  }

  /** Catches up with the cluster, then reports and claims the lease; taking over runs on its own. */
  async start(): Promise<void> {
    const { share, backend, silences, log } = this.#deps;
    await this.#refuseATwin();
    await share.start();
    await this.#tail.start();
    this.#tail.follow();
    this.#stopListening = await backend.listen(
      (topic) => {
        if (topic === 'silences') {
          silences
            .load()
            .catch((error) => log.error({ err: error }, 'cannot read the silences another node changed'));
        }
      },
      (error) => this.#databaseFailed('listening for the other nodes', error),
    );
    await this.#report();
    this.#scheduleReport();
    await this.lease.start();
  }

  /**
   * Stops claiming and, as leader, stores everything before giving the lease up, so the next
   * leader starts from all of it at once rather than after the lease runs out.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#reportTimer);
    // A planned stop is a `bye`: the node's host leaves rather than going down, and nobody is paged.
    this.#beatAsHost('bye');
    await this.lease.stop(async () => {
      await this.#deps.share.flush().catch(() => {});
      await this.#queue(() => this.#stepDown('this node is stopping'));
    });
    await this.#transitions;
    await this.#tail.stop();
    await this.#deps.share.stop();
    await this.#stopListening?.();
  }

  /**
   * A node's host was forgotten (here or on another node): the operator retired that node, so
   * its row goes too. A node still running puts its row back at its next report.
   */
  hostForgotten(host: string): void {
    const retired = nodeOfHost(host);
    if (retired === undefined) return;
    this.#nodes = this.#nodes.filter((row) => row.name !== retired);
    this.#deps.backend
      .forgetNode(retired)
      .catch((error) => this.#databaseFailed(`forgetting hbd node ${retired}`, error));
  }

  reload(): void {
    // Each term reads the config it needs as it starts; a running term takes the live keys here.
  }

  #queue(transition: () => Promise<void>): Promise<void> {
    this.#transitions = this.#transitions.then(transition).catch((error) => {
      this.#deps.log.error({ err: error }, 'a cluster role change failed');
    });
    return this.#transitions;
  }

  async #takeOver(token: number): Promise<void> {
    const { monitor, share, store, sink, log, node, clock } = this.#deps;
    if (this.#stopping || this.lease.token() !== token) return;
    const begun = performance.now();
    this.#termToken = token;
    let writer: HostWriter | undefined;
    let term: LeaderTerm | undefined;
    try {
      // Everything the other nodes shared, then the deadlines as of now: this node's state
      // machine is as current as it can be before it speaks for the cluster.
      await share.catchUp();
      monitor.sweep();
      const stored = await store.hosts.load();
      writer = await this.#deps.openWriter();
      term = this.#deps.newTerm(writer);
      await this.#tail.lead();
      await term.startNotifications();
      if (this.lease.token() !== token) throw new Error('the lease ran out while taking over');

      // From here to `lead` nothing awaits: no change can slip between the comparison and the writer.
      monitor.sweep();
      const { table } = monitor;
      const current = [...table.slots()].map((slot) => table.record(slot));
      const plan = reconcile(current, stored, (host) => sink.shadowOf(host), node, clock.wall());
      const restore = plan.unknown.filter((host) => !share.forgottenElsewhere(host.name));
      sink.lead(writer);
      for (const host of plan.unknown)
        if (share.forgottenElsewhere(host.name)) writer.hostForgotten(host.name);
      share.clearForgottenElsewhere();
      if (restore.length > 0) {
        monitor.restore(restore);
        monitor.listening();
      }
      for (const slot of table.slots()) writer.hostChanged(slot, false, true);
      for (const event of plan.events) writer.recordEvent(event);
      this.#term = term;
      if (!(await writer.commitPending()))
        log.warn('the new leader cannot store the fleet yet; it keeps trying');
      await term.startTheRest({ resendDns: true });
      log.info(
        { node, token, events: plan.events.length, ms: Math.round(performance.now() - begun) },
        `hbd node ${node} leads the cluster now (lease token ${token})` +
          (plan.events.length > 0 ? `; stored ${plan.events.length} changes no leader had stored` : ''),
      );
      void this.#report();
    } catch (error) {
      log.error({ err: error, node }, `hbd node ${node} cannot take over as leader: ${errorMessage(error)}`);
      if (this.#term === term) this.#term = undefined;
      this.#termToken = undefined;
      sink.follow();
      await term?.stop().catch(() => {});
      await writer?.close().catch(() => {});
      this.#tail.follow();
    }
  }

  async #stepDown(why: string): Promise<void> {
    const { sink, log, node } = this.#deps;
    const term = this.#term;
    if (!term) return;
    this.#term = undefined;
    const stopping = why === 'this node is stopping';
    // A lost lease fences this term's writes at once; a clean stop stores what is pending first.
    if (!stopping) this.#termToken = undefined;
    // Nothing more is decided or sent; then what is pending is stored while the lease allows.
    await term.stop();
    const writer = sink.follow();
    await writer?.close();
    this.#termToken = undefined;
    this.#tail.follow();
    (stopping ? log.info.bind(log) : log.warn.bind(log))(
      { node, why },
      `hbd node ${node} no longer leads: ${why}` +
        (stopping ? '' : '; it sends no notifications and publishes no DNS until it leads again'),
    );
    if (!stopping) void this.#report();
  }

  #scheduleReport(): void {
    if (this.#stopping) return;
    this.#reportTimer = setTimeout(() => {
      void this.#report().finally(() => this.#scheduleReport());
    }, NODE_BEAT_SECONDS * 1000);
    this.#reportTimer.unref();
  }

  /** Beats as the node's own host, and reports the node's row; reads the others'. */
  async #report(): Promise<void> {
    const { backend, node, lag } = this.#deps;
    const role = this.#term ? 'leader' : 'follower';
    if (!this.#stopping) this.#beatAsHost('ok');
    try {
      await backend.reportNode({
        name: node,
        startedAt: this.#startedAt,
        role,
        api: this.#apiUrl(),
        lagMs: lag.quantile(0.99),
        version: this.#deps.version,
      });
      this.#nodes = await backend.nodes();
      // A notice about a silence can be lost with a connection; reading them now and then bounds that.
      if (++this.#reports % SILENCES_REREAD_EVERY === 0) await this.#deps.silences.load();
      const outage = this.#databaseRetry.succeeded();
      if (outage) {
        this.#deps.log.info(
          { node, failedAttempts: outage.attempts },
          `hbd node ${node} reaches the database again`,
        );
      }
    } catch (error) {
      this.#databaseFailed('reporting this node', error);
    }
  }

  /** The API's URL as of when it last could be read: a stopping node's server is closed already. */
  #apiUrl(): string {
    try {
      this.#lastApiUrl = this.#deps.apiUrl();
    } catch {
      // Keep the last one.
    }
    return this.#lastApiUrl;
  }

  #beatAsHost(status: 'ok' | 'bye'): void {
    this.#deps.monitor.beat(
      {
        host: nodeHostName(this.#deps.node),
        status,
        every: NODE_BEAT_SECONDS,
        fields: { role: this.#term ? 'leader' : 'follower' },
        compressed: false,
      },
      hostOf(this.#apiUrl()),
      true,
    );
  }

  /**
   * Two processes with one node name would both renew one lease and both lead. A row of this
   * name that keeps reporting, from a process started at another time, is such a twin; one
   * that stopped reporting is this node's own previous run (killed, say).
   */
  async #refuseATwin(): Promise<void> {
    const { backend, node } = this.#deps;
    const twinOf = async () =>
      (await backend.nodes()).find((row) => row.name === node && row.startedAt !== this.#startedAt);
    const first = await twinOf();
    if (!first || first.silentForMs > TWIN_SILENCE_MS) return;
    await new Promise((resolve) => setTimeout(resolve, TWIN_SILENCE_MS));
    const again = await twinOf();
    if (again && again.silentForMs < TWIN_SILENCE_MS && again.startedAt === first.startedAt) {
      throw new Error(
        `another hbd node named "${node}" is running (it serves ${again.api} and reported ` +
          `${Math.round(again.silentForMs)} ms ago): give each node its own cluster.node`,
      );
    }
  }

  /** One line at the first failure, then at most one a minute (the database may be down a while). */
  #databaseFailed(what: string, error: unknown): void {
    if (!this.#databaseRetry.failed(error)) return;
    this.#deps.log.error(
      { err: error, node: this.#deps.node },
      `cluster: cannot reach the database (${what}): ${errorMessage(error)}; ` +
        'this node keeps hearing and serving from memory and retries',
    );
  }
}

/** A node reports every second: one silent for longer than this is not running. */
const TWIN_SILENCE_MS = 3 * NODE_BEAT_SECONDS * 1000;
/** Reports between re-reads of the silences: 30 s. */
const SILENCES_REREAD_EVERY = 30;

function hostOf(url: string): string {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return '127.0.0.1';
  }
}
