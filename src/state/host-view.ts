import type { HostState } from '../model/events.js';
import { HOST_STATES } from '../model/events.js';
import type { EstablishedHosts, HostRecord } from '../model/host.js';
import type { Status } from '../protocol/types.js';
import type { BeatHistory, RecentBeat } from './beat-history.js';
import type { HostTable } from './host-table.js';
import type { Monitor, Run } from './monitor.js';

/** A host as the API shows it: what is stored, and the timing hbd applies to it. */
export interface HostDetail extends HostRecord {
  /** Seconds, after per-host overrides and the `every` the host announced. */
  interval: number;
  grace: number;
  /** The job's run that started and has not finished (docs/push.md); undefined when none is open. */
  run: Run | undefined;
}

/**
 * What the rest of hbd may read about hosts, by name. The host table's slots and columns stay
 * behind it, so the API, the live feed, push pings, DNS and notifications depend on this small
 * surface and not on how the state machine keeps its hosts.
 */
export class HostView {
  readonly #table: HostTable;
  readonly #monitor: Monitor;
  readonly #beatHistory: BeatHistory | undefined;

  constructor(table: HostTable, monitor: Monitor, beatHistory?: BeatHistory) {
    this.#table = table;
    this.#monitor = monitor;
    this.#beatHistory = beatHistory;
  }

  get count(): number {
    return this.#table.size;
  }

  has(name: string): boolean {
    return this.#table.find(name) >= 0;
  }

  /** A detached copy of the host as it is now; undefined for a host hbd does not know. */
  find(name: string): HostRecord | undefined {
    const slot = this.#table.find(name);
    return slot < 0 ? undefined : this.#table.record(slot);
  }

  detail(name: string): HostDetail | undefined {
    const slot = this.#table.find(name);
    if (slot < 0) return undefined;
    return {
      ...this.#table.record(slot),
      interval: this.#monitor.intervalOf(slot),
      grace: this.#monitor.graceOf(slot),
      run: this.#monitor.currentRun(name),
    };
  }

  /** The host's recent heartbeat timing, for the dashboard's chart; undefined for an unknown host. */
  recentBeats(name: string): RecentBeat[] | undefined {
    const slot = this.#table.find(name);
    if (slot < 0) return undefined;
    return this.#beatHistory?.recent(slot) ?? [];
  }

  /** State and status alone, without copying the host: for filters that look at every host. */
  stateOf(name: string): { state: HostState; status: Status } | undefined {
    const slot = this.#table.find(name);
    if (slot < 0) return undefined;
    return { state: this.#table.getState(slot), status: this.#table.getStatus(slot) };
  }

  /** Every known name, in no particular order. */
  *names(): IterableIterator<string> {
    for (const slot of this.#table.slots()) yield this.#table.names[slot]!;
  }

  countByState(): Record<HostState, number> {
    const counts = Object.fromEntries(HOST_STATES.map((state) => [state, 0])) as Record<HostState, number>;
    for (const slot of this.#table.slots()) counts[this.#table.getState(slot)]++;
    return counts;
  }

  isEstablished(name: string): boolean {
    const slot = this.#table.find(name);
    return slot >= 0 && this.#monitor.isEstablished(slot);
  }

  /** Only established hosts: hosts that beat once and stopped cannot make hbd look isolated. */
  established(): EstablishedHosts {
    const counts = { all: 0, signed: 0 };
    for (const slot of this.#table.slots()) {
      if (!this.#monitor.isEstablished(slot) || this.#table.getState(slot) === 'left') continue;
      counts.all++;
      if (this.#table.signed[slot] === 1) counts.signed++;
    }
    return counts;
  }
}
