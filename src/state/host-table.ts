import type { HostState } from '../model/events.js';
import { HOST_STATES } from '../model/events.js';
import type { HostRecord, HostTiming } from '../model/host.js';
import type { Status } from '../protocol/types.js';
import { STATUSES } from '../protocol/types.js';
import { detached, type HostExtras, nextExtras } from './host-extras.js';

const INITIAL_CAPACITY = 1024;
const NO_VALUE = Number.NaN;

/**
 * Every known host, stored column by column.
 *
 * A fleet can have a million hosts, and one object per host with a dozen number
 * fields costs over 300 bytes of heap in V8 (each mutable double is boxed). Typed
 * columns keep a host near 200 bytes and give the deadline wheel plain integer
 * slots to link. Hosts are addressed by a slot number that stays fixed while the
 * host is known; freed slots are reused.
 */
export class HostTable {
  #capacity = 0;
  readonly #slotByName = new Map<string, number>();
  readonly #freeSlots: number[] = [];
  #highWater = 0;

  names: (string | undefined)[] = [];
  addr: string[] = [];
  extras: (HostExtras | undefined)[] = [];
  state = new Uint8Array(0);
  status = new Uint8Array(0);
  signed = new Uint8Array(0);
  firstSeen = new Float64Array(0);
  lastSeen = new Float64Array(0);
  /** Monotonic time of the last heartbeat (or of hbd's start, for hosts restored from the store). */
  lastBeat = new Float64Array(0);
  lastTs = new Float64Array(0);
  lastSeq = new Float64Array(0);
  every = new Float32Array(0);
  received = new Uint32Array(0);
  lost = new Uint32Array(0);
  /**
   * Heartbeats heard since the host appeared (or since hbd started, for a restored host); counting
   * stops once the host is established, so a byte is enough.
   */
  beatsHeard = new Uint8Array(0);
  /**
   * 1 once the host has shown it is a real, regularly beating host (see `Monitor`): only such
   * hosts count for the isolation guard, so hosts that beat once cannot make hbd hold messages.
   */
  established = new Uint8Array(0);
  /** Per-host `interval`/`grace` from the config's `hosts:` section (NaN: none). */
  intervalOverride = new Float32Array(0);
  graceOverride = new Float32Array(0);

  constructor(initialCapacity = INITIAL_CAPACITY) {
    this.#grow(initialCapacity);
  }

  get size(): number {
    return this.#slotByName.size;
  }

  /** One past the highest slot ever used: iterate `0..slotLimit` and skip free slots. */
  get slotLimit(): number {
    return this.#highWater;
  }

  find(name: string): number {
    return this.#slotByName.get(name) ?? -1;
  }

  isLive(slot: number): boolean {
    return this.names[slot] !== undefined;
  }

  *slots(): IterableIterator<number> {
    for (const slot of this.#slotByName.values()) yield slot;
  }

  add(name: string, wallNow: number, monoNow: number): number {
    let slot = this.#freeSlots.pop();
    if (slot === undefined) {
      if (this.#highWater === this.#capacity) this.#grow(this.#capacity * 2);
      slot = this.#highWater++;
    }
    // The name usually arrives as a slice of a datagram's text: keep a copy of its own.
    const ownName = detached(name);
    this.#slotByName.set(ownName, slot);
    this.names[slot] = ownName;
    this.addr[slot] = '';
    this.extras[slot] = undefined;
    this.state[slot] = stateCode('up');
    this.status[slot] = statusCode('ok');
    this.signed[slot] = 0;
    this.firstSeen[slot] = wallNow;
    this.lastSeen[slot] = wallNow;
    this.lastBeat[slot] = monoNow;
    this.lastTs[slot] = NO_VALUE;
    this.lastSeq[slot] = NO_VALUE;
    this.every[slot] = NO_VALUE;
    this.received[slot] = 0;
    this.lost[slot] = 0;
    this.beatsHeard[slot] = 0;
    this.established[slot] = 0;
    this.intervalOverride[slot] = NO_VALUE;
    this.graceOverride[slot] = NO_VALUE;
    return slot;
  }

  remove(slot: number): void {
    const name = this.names[slot];
    if (name === undefined) return;
    this.#slotByName.delete(name);
    this.names[slot] = undefined;
    this.addr[slot] = '';
    this.extras[slot] = undefined;
    this.#freeSlots.push(slot);
  }

  getState(slot: number): HostState {
    return HOST_STATES[this.state[slot]!]!;
  }

  setState(slot: number, state: HostState): void {
    this.state[slot] = stateCode(state);
  }

  getStatus(slot: number): Status {
    return STATUSES[this.status[slot]!]!;
  }

  setStatus(slot: number, status: Status): void {
    this.status[slot] = statusCode(status);
  }

  record(slot: number): HostRecord {
    const extras = this.extras[slot];
    return {
      name: this.names[slot]!,
      state: this.getState(slot),
      status: this.getStatus(slot),
      msg: extras?.msg ?? null,
      fields: extras?.fields ?? {},
      addr: this.addr[slot]!,
      ip4: extras?.ip4 ?? null,
      ip6: extras?.ip6 ?? null,
      signed: this.signed[slot] === 1,
      firstSeen: this.firstSeen[slot]!,
      lastSeen: this.lastSeen[slot]!,
      lastTs: orNull(this.lastTs[slot]!),
      every: orNull(this.every[slot]!),
      lastSeq: orNull(this.lastSeq[slot]!),
      received: this.received[slot]!,
      lost: this.lost[slot]!,
    };
  }

  timing(slot: number): HostTiming {
    return {
      name: this.names[slot]!,
      lastSeen: this.lastSeen[slot]!,
      lastTs: orNull(this.lastTs[slot]!),
      lastSeq: orNull(this.lastSeq[slot]!),
      every: orNull(this.every[slot]!),
      received: this.received[slot]!,
      lost: this.lost[slot]!,
      signed: this.signed[slot] === 1,
    };
  }

  /** Brings back a host from the store; its deadlines start afresh at `monoNow`. */
  restore(host: HostRecord, monoNow: number): number {
    const slot = this.add(host.name, host.firstSeen, monoNow);
    this.setState(slot, host.state);
    this.setStatus(slot, host.status);
    this.addr[slot] = host.addr;
    this.extras[slot] = nextExtras(undefined, host);
    this.signed[slot] = host.signed ? 1 : 0;
    this.lastSeen[slot] = host.lastSeen;
    this.lastTs[slot] = host.lastTs ?? NO_VALUE;
    this.lastSeq[slot] = host.lastSeq ?? NO_VALUE;
    this.every[slot] = host.every ?? NO_VALUE;
    this.received[slot] = host.received;
    this.lost[slot] = host.lost;
    return slot;
  }

  #grow(capacity: number): void {
    this.state = resized(this.state, capacity);
    this.status = resized(this.status, capacity);
    this.signed = resized(this.signed, capacity);
    this.firstSeen = resized(this.firstSeen, capacity);
    this.lastSeen = resized(this.lastSeen, capacity);
    this.lastBeat = resized(this.lastBeat, capacity);
    this.lastTs = resized(this.lastTs, capacity);
    this.lastSeq = resized(this.lastSeq, capacity);
    this.every = resized(this.every, capacity);
    this.received = resized(this.received, capacity);
    this.lost = resized(this.lost, capacity);
    this.beatsHeard = resized(this.beatsHeard, capacity);
    this.established = resized(this.established, capacity);
    this.intervalOverride = resized(this.intervalOverride, capacity);
    this.graceOverride = resized(this.graceOverride, capacity);
    this.#capacity = capacity;
  }
}

function stateCode(state: HostState): number {
  return HOST_STATES.indexOf(state);
}

function statusCode(status: Status): number {
  return STATUSES.indexOf(status);
}

function orNull(value: number): number | null {
  return Number.isNaN(value) ? null : value;
}

type TypedColumn = Uint8Array | Uint32Array | Float32Array | Float64Array;

function resized<T extends TypedColumn>(column: T, capacity: number): T {
  const next = new (column.constructor as new (length: number) => T)(capacity);
  next.set(column);
  return next;
}
