import type { Bus } from '../lib/bus.js';
import type { Clock } from '../lib/clock.js';
import type { Heartbeat } from '../protocol/types.js';
import type { Monitor } from '../state/monitor.js';
import type { ClusterBackend, SharedBeat, SharedChange } from '../store/cluster-backend.js';
import { type WriteFailure, WriteRetry } from '../store/write-retry.js';
import type { PropagationLag } from './lag.js';

/**
 * How often a node shares the heartbeats it heard, and reads those the others shared. A
 * heartbeat heard by one node reaches the others within about two of these (docs/cluster.md
 * "How fast"), which is why the state machine waits `PROPAGATION_SLACK_MS` longer in a cluster.
 */
export const SHARE_PERIOD_MS = 200;
/** The most a heartbeat heard by another node may take to arrive here before a host is called late. */
export const PROPAGATION_SLACK_MS = 1000;
/**
 * Rows read per statement; a node catching up after a restart reads as many statements as it
 * needs. Each page is applied in one go on the event loop: small enough not to keep the UDP
 * socket waiting (about a millisecond per page).
 */
const PULL_LIMIT = 1000;
/** Rows written per statement. */
const PUSH_LIMIT = 5000;
/** Names of hosts forgotten elsewhere kept for a takeover; an operator forgetting more at once is rare. */
const MAX_FORGOTTEN_KEPT = 10_000;
/** A failing database is retried at most this far apart, so a cluster resumes soon after it returns. */
const MAX_RETRY_MS = 5000;

export interface ShareOptions {
  backend: Pick<ClusterBackend, 'shareBeats' | 'shareForgotten' | 'changesAfter'>;
  node: string;
  monitor: Monitor;
  bus: Bus;
  clock: Clock;
  lag: PropagationLag;
  /** Sharing or reading failed: at the first failure, then at most once a minute. */
  onError: (what: 'share' | 'read', error: unknown, failure: WriteFailure) => void;
  onRecovered: (what: 'share' | 'read', failure: WriteFailure) => void;
}

/**
 * Keeps every node's host table the same: the heartbeats this node heard go to the database,
 * batched and coalesced per host (the newest wins: one row per host, however often it beat),
 * and those the other nodes heard come back and are applied here as if heard here, at the time
 * they were heard. Forgotten hosts travel the same way.
 */
export class BeatShare {
  readonly #options: ShareOptions;
  /** Hosts heard here since the last share, with how they came. */
  #heard = new Map<string, 'http' | undefined>();
  #forgotten = new Set<string>();
  /** Hosts other nodes forgot lately, so that a node taking over deletes what a dead leader kept. */
  readonly #forgottenElsewhere = new Set<string>();
  #cursor = 0;
  #applying = false;
  #caughtUp = false;
  #timer: NodeJS.Timeout | undefined;
  #cycle: Promise<void> | undefined;
  #stopped = false;
  readonly #shareRetry = new WriteRetry({ maxDelayMs: MAX_RETRY_MS });
  readonly #readRetry = new WriteRetry({ maxDelayMs: MAX_RETRY_MS });
  #unsubscribe: (() => void) | undefined;

  constructor(options: ShareOptions) {
    this.#options = options;
  }

  /** True while a change from another node is being applied: what it causes is not shared back. */
  get applying(): boolean {
    return this.#applying;
  }

  /** What cannot be shared or read, and since when, for /healthz. */
  problems(): { what: string; failure: WriteFailure }[] {
    const problems: { what: string; failure: WriteFailure }[] = [];
    if (this.#shareRetry.failure)
      problems.push({ what: 'share the heartbeats it hears', failure: this.#shareRetry.failure });
    if (this.#readRetry.failure) {
      problems.push({ what: 'read the heartbeats the other nodes share', failure: this.#readRetry.failure });
    }
    return problems;
  }

  /** Reads everything shared so far (the newest heartbeat of every host), then shares and reads on a short cycle. */
  async start(): Promise<void> {
    this.#unsubscribe = this.#options.bus.on('heartbeat', (notice) => {
      if (!this.#applying) this.#heard.set(notice.host, notice.via);
    });
    await this.catchUp();
    this.#caughtUp = true;
    this.#schedule();
  }

  /** Whether another node forgot the host since this one started (or last took over). */
  forgottenElsewhere(host: string): boolean {
    return this.#forgottenElsewhere.has(host);
  }

  /** Called once a takeover has dealt with the hosts forgotten elsewhere. */
  clearForgottenElsewhere(): void {
    this.#forgottenElsewhere.clear();
  }

  /** A host was forgotten here: every node forgets it. */
  forgotten(host: string): void {
    if (this.#applying) return;
    this.#heard.delete(host);
    this.#forgotten.add(host);
  }

  /** Reads until nothing is left to read (before taking over as leader, say). Throws if the database cannot be read. */
  async catchUp(): Promise<void> {
    while ((await this.#pull()) === PULL_LIMIT) {}
  }

  /** Shares what is waiting, now. Throws if the database refuses it (it stays waiting). */
  async flush(): Promise<void> {
    const forgotten = [...this.#forgotten];
    if (forgotten.length > 0) {
      await this.#options.backend.shareForgotten(this.#options.node, forgotten);
      for (const host of forgotten) this.#forgotten.delete(host);
    }
    while (this.#heard.size > 0) {
      const batch = this.#takeBatch();
      try {
        await this.#options.backend.shareBeats(this.#options.node, batch.beats);
      } catch (error) {
        // Put back what was not shared, unless the host beat again meanwhile (the newer one wins).
        for (const [host, via] of batch.taken) if (!this.#heard.has(host)) this.#heard.set(host, via);
        throw error;
      }
    }
  }

  /** Stops the cycle after one last share, tried even while the database fails. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#unsubscribe?.();
    await this.#cycle;
    await this.flush().catch(() => {});
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#cycle = this.#runCycle().finally(() => {
        this.#cycle = undefined;
        this.#schedule();
      });
    }, SHARE_PERIOD_MS);
    this.#timer.unref();
  }

  async #runCycle(): Promise<void> {
    if (this.#shareRetry.due()) {
      try {
        await this.flush();
        const outage = this.#shareRetry.succeeded();
        if (outage) this.#options.onRecovered('share', outage);
      } catch (error) {
        if (this.#shareRetry.failed(error)) this.#options.onError('share', error, this.#shareRetry.failure!);
      }
    }
    if (this.#readRetry.due()) {
      try {
        await this.catchUp();
        const outage = this.#readRetry.succeeded();
        if (outage) this.#options.onRecovered('read', outage);
      } catch (error) {
        if (this.#readRetry.failed(error)) this.#options.onError('read', error, this.#readRetry.failure!);
      }
    }
  }

  #takeBatch(): { beats: SharedBeat[]; taken: [string, 'http' | undefined][] } {
    const { table } = this.#options.monitor;
    const beats: SharedBeat[] = [];
    const taken: [string, 'http' | undefined][] = [];
    for (const [host, via] of this.#heard) {
      this.#heard.delete(host);
      taken.push([host, via]);
      const slot = table.find(host);
      if (slot >= 0) beats.push(sharedBeatOf(table.record(slot), via));
      if (taken.length === PUSH_LIMIT) break;
    }
    return { beats, taken };
  }

  /** Applies one page of changes; returns how many rows it read. */
  async #pull(): Promise<number> {
    // Once caught up, this node's own rows are what it heard itself: not worth reading back.
    // Until then they may be newer than what the store's host rows say (a run killed early).
    const changes = await this.#options.backend.changesAfter(
      this.#cursor,
      PULL_LIMIT,
      this.#caughtUp ? this.#options.node : undefined,
    );
    this.#applying = true;
    try {
      for (const change of changes) {
        this.#cursor = change.rev;
        this.#apply(change);
      }
    } finally {
      this.#applying = false;
    }
    return changes.length;
  }

  #apply(change: SharedChange): void {
    const { monitor, node, clock, lag } = this.#options;
    const { table } = monitor;
    if (change.kind === 'forgotten') {
      const slot = table.find(change.host);
      if (slot >= 0 && table.lastSeen[slot]! <= change.at)
        monitor.forget(change.host, `forgotten on hbd node ${change.node}`);
      if (this.#forgottenElsewhere.size >= MAX_FORGOTTEN_KEPT) this.#forgottenElsewhere.clear();
      this.#forgottenElsewhere.add(change.host);
      return;
    }
    const { beat } = change;
    if (this.#caughtUp && change.node !== node) lag.observe(clock.wall() - beat.seenAt);
    const slot = table.find(beat.host);
    if (slot >= 0) {
      // Heard here as late or later; or the same heartbeat, sent to every node and heard by each.
      if (beat.seenAt <= table.lastSeen[slot]!) return;
      if (isSameHeartbeat(beat.hb, table.lastSeq[slot]!, table.lastTs[slot]!)) return;
    }
    monitor.beat(beat.hb, beat.addr, beat.signed, beat.via, beat.seenAt);
  }
}

function sharedBeatOf(host: ReturnType<Monitor['table']['record']>, via: 'http' | undefined): SharedBeat {
  const hb: Heartbeat = {
    host: host.name,
    status: host.status,
    fields: { ...host.fields },
    compressed: false,
  };
  if (host.lastTs !== null) hb.ts = host.lastTs;
  if (host.lastSeq !== null) hb.seq = host.lastSeq;
  if (host.every !== null) hb.every = host.every;
  if (host.msg !== null) hb.msg = host.msg;
  if (host.ip4 !== null) hb.ip4 = host.ip4;
  if (host.ip6 !== null) hb.ip6 = host.ip6;
  return { host: host.name, seenAt: host.lastSeen, hb, addr: host.addr, signed: host.signed, via };
}

/** A heartbeat carrying a `seq` (and `ts`, if signed) this host already had is one sent to several nodes. */
function isSameHeartbeat(hb: Heartbeat, lastSeq: number, lastTs: number): boolean {
  if (hb.seq === undefined || hb.seq !== lastSeq) return false;
  return hb.ts === undefined || hb.ts === lastTs;
}
