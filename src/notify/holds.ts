import type { EstablishedHosts, HostRecord } from '../model/host.js';
import type { Trigger } from '../model/outbox.js';
import { FleetIsolation, type IsolationPolicy, type Tripped } from './isolation.js';
import type { Cancel, Timers } from './timers.js';

export interface ProblemHoldsOptions {
  /** Wall time the restart grace ends. */
  graceEndsAt: number;
  isolation: IsolationPolicy | null;
  /** After hosts are heard again, how long to wait before the isolation counts as over. */
  settleMs: number;
  now: () => number;
  timers: Timers;
  host(name: string): HostRecord | undefined;
  knownHosts(): EstablishedHosts;
  isEstablished(name: string): boolean;
  /** The isolation guard tripped (once per isolation). */
  onIsolated(tripped: Tripped, windowMs: number): void;
  /** Hosts have been heard for the settle time: call `endIsolation` (in turn with the decisions). */
  onSettleDue(): void;
  /** The restart grace is over: call `release` (in turn with the decisions). */
  onReleaseDue(): void;
}

/** How long the count of known hosts is reused: counting walks the whole table. */
const KNOWN_HOSTS_TTL_MS = 1000;

/**
 * Problems that are not announced yet because the moment is wrong: right after a restart
 * (was the host down, or was hbd?), and while so many hosts went silent at once that hbd
 * itself may be cut off. They are kept per host, and decided again when the moment passes,
 * which announces only those that still hold.
 */
export class ProblemHolds {
  readonly #options: ProblemHoldsOptions;
  readonly #held = new Map<string, Trigger[]>();
  readonly #isolation: FleetIsolation | undefined;
  #settleMs: number;
  #graceTimer: Cancel | undefined;
  #settleTimer: Cancel | undefined;
  #knownHosts = { count: { all: 0, signed: 0 } as EstablishedHosts, at: Number.NEGATIVE_INFINITY };
  #stopped = false;

  constructor(options: ProblemHoldsOptions) {
    this.#options = options;
    this.#isolation = options.isolation ? new FleetIsolation(options.isolation) : undefined;
    this.#settleMs = options.settleMs;
  }

  start(): void {
    const graceLeft = this.#options.graceEndsAt - this.#options.now();
    if (graceLeft > 0) this.#graceTimer = this.#options.timers.after(graceLeft, () => this.#graceOver());
  }

  stop(): void {
    this.#stopped = true;
    this.#graceTimer?.();
    this.#settleTimer?.();
  }

  /** The live keys behind the isolation: its window (`grace`) and its settle time (`interval`). */
  reload(windowMs: number | undefined, settleMs: number): void {
    if (windowMs !== undefined) this.#isolation?.setWindowMs(windowMs);
    this.#settleMs = settleMs;
  }

  inRestartGrace(now: number): boolean {
    return now < this.#options.graceEndsAt;
  }

  /** Whether a host's downs are held for the isolation now. */
  isolationHolds(signed: boolean): boolean {
    return this.#isolation?.holds(signed) ?? false;
  }

  hold(triggers: readonly Trigger[]): void {
    for (const trigger of triggers) {
      const list = this.#held.get(trigger.host) ?? [];
      list.push(trigger);
      this.#held.set(trigger.host, list);
    }
  }

  forget(host: string): void {
    this.#held.delete(host);
  }

  /** An established host went silent: perhaps one of many, which would mean hbd is isolated. */
  wentSilent(trigger: Trigger): void {
    if (!this.#isolation || !this.#options.isEstablished(trigger.host)) return;
    const signed = this.#options.host(trigger.host)?.signed ?? false;
    const tripped = this.#isolation.wentSilent(trigger.at, signed, this.#knownHostCount());
    if (tripped) this.#options.onIsolated(tripped, this.#isolation.windowMs);
  }

  /**
   * A host came back: proof that hbd can hear again (while isolated every host is late or down,
   * so whoever is heard first makes such a transition). The isolation ends a settle time later.
   */
  heard(host: string): void {
    if (!this.#isolation?.isolated) return;
    this.#isolation.heard(this.#options.host(host)?.signed ?? false);
    if (this.#settleTimer) return;
    this.#settleTimer = this.#options.timers.after(this.#settleMs, () => {
      this.#settleTimer = undefined;
      if (!this.#stopped) this.#options.onSettleDue();
    });
  }

  /**
   * Ends what the hosts heard since prove over; undefined while hbd is still isolated (say, for
   * signed hosts, when only unsigned ones were heard). Otherwise how many held hosts are still
   * down; the caller says so, then calls `release`.
   */
  endIsolation(): { stillDown: number } | undefined {
    if (this.#stopped || !this.#isolation?.isolated) return undefined;
    if (!this.#isolation.settle()) return undefined;
    const stillDown = [...this.#held.keys()].filter((host) => this.#options.host(host)?.state === 'down');
    return { stillDown: stillDown.length };
  }

  /**
   * The held problems that may be decided now, taken out; they go back into their groups,
   * where deciding them checks they still hold. Those of hosts the isolation guard still holds
   * stay (a signed host's never wait for unsigned ones). Nothing before the grace is over.
   */
  release(): Trigger[] {
    // Also called when an isolation ends: the grace's own timer is then replaced, not doubled.
    this.#graceTimer?.();
    this.#graceTimer = undefined;
    if (this.#stopped) return [];
    // A timer runs on the monotonic clock and may fire a moment before `now()` reaches the end of
    // the grace: wait out the rest, or the problems held meanwhile would never be announced.
    const graceLeft = this.#options.graceEndsAt - this.#options.now();
    if (graceLeft > 0) {
      this.#graceTimer = this.#options.timers.after(graceLeft, () => this.#graceOver());
      return [];
    }
    const released: Trigger[] = [];
    for (const [host, triggers] of [...this.#held]) {
      if (this.isolationHolds(this.#options.host(host)?.signed ?? false)) continue;
      this.#held.delete(host);
      released.push(...triggers);
    }
    return released;
  }

  #graceOver(): void {
    this.#graceTimer = undefined;
    if (!this.#stopped) this.#options.onReleaseDue();
  }

  #knownHostCount(): EstablishedHosts {
    const now = this.#options.now();
    if (now - this.#knownHosts.at > KNOWN_HOSTS_TTL_MS)
      this.#knownHosts = { count: this.#options.knownHosts(), at: now };
    return this.#knownHosts.count;
  }
}
