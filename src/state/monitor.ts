import type { Bus } from '../lib/bus.js';
import type { Clock } from '../lib/clock.js';
import { formatDuration } from '../lib/duration.js';
import { type HostEvent, type HostState, STATUS_FLAPPING } from '../model/events.js';
import type { HostRecord, HostTiming } from '../model/host.js';
import type { Heartbeat, Status } from '../protocol/types.js';
import type { BeatHistory } from './beat-history.js';
import type { DeadlineWheel } from './deadline-wheel.js';
import { nextExtras } from './host-extras.js';
import type { HostTable } from './host-table.js';
import { type StatusFlapPolicy, StatusFlaps } from './status-flaps.js';

/**
 * A heartbeat due every 60 s routinely lands a few milliseconds after 60 s. So that
 * network jitter alone never marks a host late, `late` waits this share of the
 * interval longer (at most MAX_JITTER_ALLOWANCE_S). `down` stays at interval + grace.
 */
const JITTER_ALLOWANCE = 0.1;
const MAX_JITTER_ALLOWANCE_S = 5;

/**
 * A host is established once hbd has heard this many heartbeats from it, the first and the last
 * at least one interval apart (its own, and never less than the config's `interval`, since a
 * sender chooses its own `every`). Only established hosts count for the isolation guard: a host
 * that beat once and stopped, which anyone able to send a datagram can make, proves nothing
 * about hbd's own network.
 */
export const ESTABLISHING_BEATS = 3;

/** The limits' defaults, for monitors built without a config (tests, tools). */
export const DEFAULT_STATUS_FLAP_POLICY: StatusFlapPolicy = { threshold: 6, windowMs: 600_000 };

/** How often flapping hosts are checked for having settled: a second late is soon enough. */
const SETTLE_CHECK_MS = 1000;

/** Interval and grace in seconds: the defaults, and the per-host overrides from the config. */
export interface TimingPolicy {
  interval: number;
  grace: number;
  overrideFor(host: string): { interval?: number; grace?: number };
}

/** A job's run that has started and not finished yet (docs/push.md). */
export interface Run {
  /** Wall time it started, ms since the epoch. */
  readonly startedAt: number;
  /** The caller's name for it, to pair a start with its finish; undefined when none was given. */
  readonly id: string | undefined;
  readonly graceSeconds: number;
  /** Monotonic time at which the host is down if the run has not finished. */
  readonly downAt: number;
}

/** Where the monitor hands what must be stored; see `Committer`. */
export interface ChangeSink {
  /**
   * `urgent`: store it before the next event-loop turn rather than within a second.
   * `content`: more than its timing (last seen, seq, ts) changed.
   */
  hostChanged(slot: number, urgent: boolean, content: boolean): void;
  hostForgotten(name: string): void;
  recordEvent(event: Omit<HostEvent, 'id'>): void;
}

/**
 * The host state machine: heartbeats move hosts to `up` (or `left`), deadlines move
 * them to `late` and `down`. It owns no timer; `sweep()` is called on a short tick.
 */
export class Monitor {
  readonly table: HostTable;
  readonly #wheel: DeadlineWheel;
  readonly #clock: Clock;
  readonly #sink: ChangeSink;
  readonly #bus: Bus;
  readonly #beatHistory: Pick<BeatHistory, 'record'> | undefined;
  #timing: TimingPolicy;
  /** By slot. Only jobs that report over HTTP start runs, so this is usually empty. */
  readonly #runs = new Map<number, Run>();
  /**
   * What a host reported before its `bye`, by slot: its next heartbeat (after a reboot, say)
   * is compared with that, so a host that comes back failing, or comes back well after
   * failing, is told. In memory: after a restart of hbd, a host's first beat after its `bye`
   * is compared with nothing, so only a problem counts.
   */
  readonly #statusBeforeBye = new Map<number, Status>();
  /** Monotonic time of `restore`: the last beat it gave the hosts it loaded. */
  #restoredAt = Number.NaN;
  /** Hosts that changed status lately, so that one changing too often is stored as one episode. */
  readonly #statusFlaps: StatusFlaps;
  #nextSettleCheck = Number.NEGATIVE_INFINITY;
  readonly #slackMs: number;

  constructor(deps: {
    table: HostTable;
    wheel: DeadlineWheel;
    clock: Clock;
    sink: ChangeSink;
    bus: Bus;
    timing: TimingPolicy;
    /** Told of every accepted heartbeat, for the dashboard's timing chart. */
    beatHistory?: Pick<BeatHistory, 'record'>;
    statusFlaps?: StatusFlapPolicy;
    /**
     * How much longer `late` and `down` wait than interval and grace say. On a cluster node, a
     * heartbeat another node heard arrives here up to this late (docs/cluster.md), and a host
     * that kept beating must never be declared late for it.
     */
    propagationSlackMs?: number;
  }) {
    this.table = deps.table;
    this.#wheel = deps.wheel;
    this.#clock = deps.clock;
    this.#sink = deps.sink;
    this.#bus = deps.bus;
    this.#timing = deps.timing;
    this.#beatHistory = deps.beatHistory;
    this.#statusFlaps = new StatusFlaps(deps.statusFlaps ?? DEFAULT_STATUS_FLAP_POLICY);
    this.#slackMs = deps.propagationSlackMs ?? 0;
  }

  /** Whether the host has beaten regularly enough to count for the isolation guard (`ESTABLISHING_BEATS`). */
  isEstablished(slot: number): boolean {
    return this.table.established[slot] === 1;
  }

  /** Whether the host's status changes are being stored as one flapping episode. */
  isStatusFlapping(slot: number): boolean {
    return this.#statusFlaps.isFlapping(slot);
  }

  /** Applies new status flapping limits (config reload); episodes under way go on. */
  setStatusFlapPolicy(policy: StatusFlapPolicy): void {
    this.#statusFlaps.setPolicy(policy);
  }

  /** Seconds: the config's override, else what the host announced, else the default. */
  intervalOf(slot: number): number {
    const override = this.table.intervalOverride[slot]!;
    if (!Number.isNaN(override)) return override;
    const every = this.table.every[slot]!;
    return Number.isNaN(every) ? this.#timing.interval : every;
  }

  graceOf(slot: number): number {
    const override = this.table.graceOverride[slot]!;
    return Number.isNaN(override) ? this.#timing.grace : override;
  }

  /** The `ts` of the host's last accepted signed heartbeat, which a new one must exceed. */
  lastSignedTs(host: string): number | undefined {
    const slot = this.table.find(host);
    const ts = slot < 0 ? Number.NaN : this.table.lastTs[slot]!;
    return Number.isNaN(ts) ? undefined : ts;
  }

  /**
   * Applies an accepted heartbeat. `signed`: its signature was verified. `via`: it came as an
   * HTTP ping (docs/push.md) rather than a datagram, which is told on to its listeners.
   * `heardAt`: the wall time another node of the cluster heard it, when it was not heard here;
   * the host's timing is as of then.
   */
  beat(hb: Heartbeat, addr: string, signed: boolean, via?: 'http', heardAt?: number): void {
    const { table } = this;
    let wallNow = this.#clock.wall();
    let monoNow = this.#clock.mono();
    if (heardAt !== undefined && heardAt < wallNow) {
      monoNow -= wallNow - heardAt;
      wallNow = heardAt;
    }
    let slot = table.find(hb.host);
    const isNew = slot < 0;
    if (isNew) {
      slot = table.add(hb.host, wallNow, monoNow);
      this.#applyOverrides(slot);
    }
    const previousState = table.getState(slot);
    const previousStatus = table.getStatus(slot);
    const silence = wallNow - table.lastSeen[slot]!;

    const previousExtras = table.extras[slot];
    const extras = nextExtras(previousExtras, hb);
    let contentChanged = isNew || extras !== previousExtras || table.addr[slot] !== addr;
    table.lastSeen[slot] = wallNow;
    table.lastBeat[slot] = monoNow;
    table.addr[slot] = addr;
    table.extras[slot] = extras;
    table.signed[slot] = signed ? 1 : 0;
    if (signed && hb.ts !== undefined) table.lastTs[slot] = hb.ts;
    if (hb.every !== undefined) table.every[slot] = hb.every;
    if (table.established[slot] === 0) this.#countTowardsEstablished(slot, wallNow);
    const lostBefore = table.lost[slot]!;
    if (hb.seq !== undefined) this.#countSeq(slot, hb.seq);
    this.#beatHistory?.record(slot, wallNow, table.lost[slot]! - lostBefore, isNew);
    if (previousStatus !== hb.status) contentChanged = true;
    table.setStatus(slot, hb.status);

    const state: HostState = hb.status === 'bye' ? 'left' : 'up';
    let changed = false;
    if (isNew) {
      this.#record(slot, wallNow, 'state', null, state, `first heartbeat, from ${addr}`);
      changed = true;
    } else if (previousState !== state) {
      const reason =
        state === 'left'
          ? withMsg('said bye', hb.msg)
          : `heartbeat from ${addr} after ${formatDuration(silence)} of silence`;
      this.#record(slot, wallNow, 'state', previousState, state, reason);
      changed = true;
    }
    // The map is touched only around a bye, not on every heartbeat.
    let comparedWith: Status | null = isNew ? null : previousStatus;
    if (!isNew && previousStatus === 'bye') {
      comparedWith = this.#statusBeforeBye.get(slot) ?? 'bye';
      if (hb.status !== 'bye') this.#statusBeforeBye.delete(slot);
    } else if (!isNew && hb.status === 'bye') {
      this.#statusBeforeBye.set(slot, previousStatus);
    }
    if (isProblemStatusChange(comparedWith, hb.status)) {
      if (this.#statusChanged(slot, wallNow, monoNow, comparedWith, hb.status, hb.msg)) changed = true;
    }
    table.setState(slot, state);

    if (state === 'up') {
      this.#wheel.scheduleNoLaterThan(slot, this.#lateAt(slot));
    } else {
      this.#wheel.cancel(slot);
    }
    this.#sink.hostChanged(slot, changed, changed || contentChanged);

    if (this.#bus.has('heartbeat')) {
      this.#bus.emit('heartbeat', {
        host: hb.host,
        at: wallNow,
        status: hb.status,
        msg: extras?.msg ?? null,
        fields: extras?.fields ?? {},
        addr,
        ip4: extras?.ip4 ?? null,
        ip6: extras?.ip6 ?? null,
        signed,
        seq: hb.seq ?? null,
        via,
      });
    }
  }

  /**
   * A job on the host said it started: unless the run finishes (`endRun`) within the host's
   * grace, the host goes down, whatever its interval says. A later start replaces the run.
   * A host that is not up or late is left as it is: it is already known not to be well.
   */
  startRun(host: string, id?: string): void {
    const slot = this.table.find(host);
    if (slot < 0) return;
    const state = this.table.getState(slot);
    if (state !== 'up' && state !== 'late') return;
    const graceSeconds = this.graceOf(slot);
    const downAt = this.#clock.mono() + graceSeconds * 1000;
    this.#runs.set(slot, { startedAt: this.#clock.wall(), id, graceSeconds, downAt });
    this.#wheel.scheduleNoLaterThan(slot, downAt);
  }

  /** The host's unfinished run, if any. */
  currentRun(host: string): Run | undefined {
    return this.#runs.get(this.table.find(host));
  }

  /** The run finished (its job reported success or failure): its deadline no longer applies. */
  endRun(host: string): void {
    // The wheel may still hold the run's deadline; the next look finds nothing due and moves on.
    this.#runs.delete(this.table.find(host));
  }

  /**
   * Replaces the host's message without counting as a heartbeat: its state, status, timing and
   * deadlines stay as they are. For a job's log line.
   */
  note(host: string, msg: string | undefined): void {
    const { table } = this;
    const slot = table.find(host);
    if (slot < 0) return;
    const previous = table.extras[slot];
    const extras = nextExtras(previous, { ...previous, msg });
    if (extras === previous) return;
    table.extras[slot] = extras;
    this.#sink.hostChanged(slot, false, true);
  }

  /** Moves every host whose deadline has passed to `late` or `down`; ends flapping episodes that are over. */
  sweep(): void {
    const monoNow = this.#clock.mono();
    this.#wheel.takeDue(monoNow, (slot) => this.#checkDeadline(slot));
    if (this.#statusFlaps.size > 0 && monoNow >= this.#nextSettleCheck) {
      this.#nextSettleCheck = monoNow + SETTLE_CHECK_MS;
      this.#statusFlaps.settle(monoNow, (slot, changes) => this.#statusSettled(slot, changes));
    }
  }

  /** Removes a host and everything hbd knows about it. */
  forget(name: string, reason: string): boolean {
    const slot = this.table.find(name);
    if (slot < 0) return false;
    const state = this.table.getState(slot);
    this.#wheel.cancel(slot);
    this.#runs.delete(slot);
    this.#statusBeforeBye.delete(slot);
    this.#statusFlaps.forget(slot);
    this.table.remove(slot);
    this.#sink.hostForgotten(name);
    this.#sink.recordEvent({
      at: this.#clock.wall(),
      host: name,
      kind: 'forget',
      from: state,
      to: null,
      reason,
    });
    return true;
  }

  /**
   * Brings back the hosts stored before a restart. Their deadlines wait for `listening`,
   * once their timing is complete (`restoreTimings`) and hbd can hear them again.
   */
  restore(hosts: Iterable<HostRecord>): void {
    const monoNow = this.#clock.mono();
    this.#restoredAt = monoNow;
    for (const host of hosts) {
      const slot = this.table.restore(host, monoNow);
      this.#applyOverrides(slot);
      this.#establishedByAge(slot);
    }
  }

  /**
   * Applies timing the store had not absorbed before hbd stopped (from the beat log):
   * last seen, the signed `ts` that replay protection depends on, `seq` and counters.
   */
  restoreTimings(timings: Iterable<HostTiming>): void {
    const { table } = this;
    for (const timing of timings) {
      const slot = table.find(timing.name);
      if (slot < 0 || timing.lastSeen < table.lastSeen[slot]!) continue;
      table.lastSeen[slot] = timing.lastSeen;
      table.lastTs[slot] = timing.lastTs ?? Number.NaN;
      table.lastSeq[slot] = timing.lastSeq ?? Number.NaN;
      table.every[slot] = timing.every ?? Number.NaN;
      table.received[slot] = timing.received;
      table.lost[slot] = timing.lost;
      table.signed[slot] = timing.signed ? 1 : 0;
      this.#establishedByAge(slot);
      this.#sink.hostChanged(slot, false, false);
    }
  }

  /**
   * Called once hbd listens. Each restored host gets a fresh interval + grace from now, by
   * the `every` it announced last: hbd was not listening, so its silence proves nothing
   * yet, and a slow start (a large store, a long beat log) must not eat into that. One that
   * stays silent is declared down when it runs out. A host heard meanwhile has its own.
   */
  listening(): void {
    const monoNow = this.#clock.mono();
    for (const slot of this.table.slots()) {
      if (this.table.lastBeat[slot] !== this.#restoredAt) continue;
      this.table.lastBeat[slot] = monoNow;
      this.#scheduleNextDeadline(slot);
    }
  }

  /** Applies new interval/grace settings to every host (config reload). */
  setTiming(timing: TimingPolicy): void {
    this.#timing = timing;
    for (const slot of this.table.slots()) {
      this.#applyOverrides(slot);
      this.#scheduleNextDeadline(slot);
    }
  }

  #applyOverrides(slot: number): void {
    const override = this.#timing.overrideFor(this.table.names[slot]!);
    this.table.intervalOverride[slot] = override.interval ?? Number.NaN;
    this.table.graceOverride[slot] = override.grace ?? Number.NaN;
  }

  /** Monotonic time at which the host, silent since its last beat, becomes late. */
  #lateAt(slot: number): number {
    const interval = this.intervalOf(slot);
    const allowance = Math.min(interval * JITTER_ALLOWANCE, MAX_JITTER_ALLOWANCE_S, this.graceOf(slot));
    return this.table.lastBeat[slot]! + (interval + allowance) * 1000 + this.#slackMs;
  }

  #downAt(slot: number): number {
    return this.table.lastBeat[slot]! + (this.intervalOf(slot) + this.graceOf(slot)) * 1000 + this.#slackMs;
  }

  #scheduleNextDeadline(slot: number): void {
    switch (this.table.getState(slot)) {
      case 'up':
        this.#scheduleAt(slot, this.#lateAt(slot));
        break;
      case 'late':
        this.#scheduleAt(slot, this.#downAt(slot));
        break;
      default:
        this.#wheel.cancel(slot);
    }
  }

  #checkDeadline(slot: number): void {
    const { table } = this;
    const state = table.getState(slot);
    if (state !== 'up' && state !== 'late') return;
    const monoNow = this.#clock.mono();
    if (this.#runs.size !== 0 && this.#runOverdue(slot, state, monoNow)) return;
    const interval = this.intervalOf(slot);
    const grace = this.graceOf(slot);
    const lateAt = this.#lateAt(slot);
    const downAt = this.#downAt(slot);
    if (monoNow < lateAt) {
      this.#scheduleAt(slot, lateAt);
      return;
    }
    const wallNow = this.#clock.wall();
    const silence = formatDuration(wallNow - table.lastSeen[slot]!);
    if (monoNow >= downAt) {
      table.setState(slot, 'down');
      this.#record(
        slot,
        wallNow,
        'state',
        state,
        'down',
        `no heartbeat for ${silence} (interval ${interval} s + grace ${grace} s)`,
      );
      this.#sink.hostChanged(slot, true, true);
    } else {
      if (state === 'up') {
        table.setState(slot, 'late');
        this.#record(
          slot,
          wallNow,
          'state',
          'up',
          'late',
          `no heartbeat for ${silence} (interval ${interval} s)`,
        );
        this.#sink.hostChanged(slot, true, true);
      }
      this.#scheduleAt(slot, downAt);
    }
  }

  /** Schedules the next look at `slot`, or sooner when its unfinished run is due first. */
  #scheduleAt(slot: number, at: number): void {
    const run = this.#runs.size === 0 ? undefined : this.#runs.get(slot);
    this.#wheel.schedule(slot, run === undefined ? at : Math.min(at, run.downAt));
  }

  /** Declares the host down when its run is past its grace; true when it did. */
  #runOverdue(slot: number, state: HostState, monoNow: number): boolean {
    const run = this.#runs.get(slot);
    if (run === undefined || monoNow < run.downAt) return false;
    this.#runs.delete(slot);
    this.table.setState(slot, 'down');
    this.#record(
      slot,
      this.#clock.wall(),
      'state',
      state,
      'down',
      `run started at ${new Date(run.startedAt).toISOString()} and did not finish ` +
        `within its grace of ${run.graceSeconds} s`,
    );
    this.#sink.hostChanged(slot, true, true);
    return true;
  }

  /** The span an establishing host's heartbeats must cover, ms. */
  #establishingSpanMs(slot: number): number {
    return Math.max(this.intervalOf(slot), this.#timing.interval) * 1000;
  }

  #countTowardsEstablished(slot: number, wallNow: number): void {
    const { table } = this;
    const heard = Math.min(table.beatsHeard[slot]! + 1, 255);
    table.beatsHeard[slot] = heard;
    if (heard >= ESTABLISHING_BEATS && wallNow - table.firstSeen[slot]! >= this.#establishingSpanMs(slot)) {
      table.established[slot] = 1;
    }
  }

  /**
   * A host restored from the store: how many times it beat is not stored, but a first and a last
   * heartbeat at least one interval apart mean it beat more than once, over time.
   */
  #establishedByAge(slot: number): void {
    const { table } = this;
    if (table.lastSeen[slot]! - table.firstSeen[slot]! >= this.#establishingSpanMs(slot)) {
      table.established[slot] = 1;
    }
  }

  /**
   * Stores a status change as its own event, or, for a host changing too often, as one flapping
   * episode: the table always has the exact status, the history one event per episode.
   * True when an event was recorded.
   */
  #statusChanged(
    slot: number,
    wallNow: number,
    monoNow: number,
    from: Status | null,
    to: Status,
    msg: string | undefined,
  ): boolean {
    switch (this.#statusFlaps.change(slot, monoNow)) {
      case 'store':
        this.#record(slot, wallNow, 'status', from, to, withMsg('reported', msg));
        return true;
      case 'flapping': {
        const changes = this.#statusFlaps.changesInEpisode(slot);
        const window = formatDuration(this.#statusFlaps.windowMs);
        this.#record(
          slot,
          wallNow,
          'status',
          from,
          STATUS_FLAPPING,
          `${changes} status changes within ${window}`,
        );
        return true;
      }
      case 'quiet':
        return false;
    }
  }

  /** A flapping host's status stayed the same for a whole window: one event with where it settled. */
  #statusSettled(slot: number, changes: number): void {
    const { table } = this;
    if (!table.isLive(slot)) return;
    const current = table.getStatus(slot);
    // A bye is not a status of its own (the state says it): settle on what came before it.
    const status = current === 'bye' ? (this.#statusBeforeBye.get(slot) ?? 'ok') : current;
    const window = formatDuration(this.#statusFlaps.windowMs);
    this.#record(
      slot,
      this.#clock.wall(),
      'status',
      STATUS_FLAPPING,
      status,
      `settled: no status change for ${window}, after ${changes} changes`,
    );
  }

  #countSeq(slot: number, seq: number): void {
    const { table } = this;
    const last = table.lastSeq[slot]!;
    // A seq that does not move forward means the sender restarted: start counting afresh.
    if (!Number.isNaN(last) && seq > last) table.lost[slot]! += Math.min(seq - last - 1, 0xffff);
    table.received[slot]! += 1;
    table.lastSeq[slot] = seq;
  }

  #record(
    slot: number,
    at: number,
    kind: HostEvent['kind'],
    from: string | null,
    to: string | null,
    reason: string,
  ): void {
    this.#sink.recordEvent({ at, host: this.table.names[slot]!, kind, from, to, reason });
  }
}

/**
 * `bye` is announced by the state (`left`); a status event is about ok/warn/fail. `previous`
 * is `bye` only when what came before it is unknown: then only a problem is news.
 */
function isProblemStatusChange(previous: Status | null, next: Status): boolean {
  if (next === 'bye') return false;
  if (previous === null || previous === 'bye') return next !== 'ok';
  return previous !== next;
}

function withMsg(text: string, msg: string | undefined): string {
  return msg ? `${text}: ${msg}` : text;
}
