import { STATUSES } from '../../src/protocol/types.js';
import type { EventJson, FeedFrame, HeartbeatFrame, HostJson, HostState, Status } from './api.js';
import { Observable } from './observable.js';

/** A host as the page keeps it: the API's fields plus what makes filtering and redrawing cheap. */
export interface Host extends HostJson {
  lastSeenMs: number;
  /** Bumped on every change, so a view of one host knows when to redraw. */
  rev: number;
  /** Lower-cased text the filter searches; rebuilt lazily after a change. */
  haystack: string | null;
}

export type CountKey = 'all' | HostState | 'warn' | 'fail';
export type Counts = Record<CountKey, number>;

export type Connection =
  | { state: 'connecting'; attempt: number }
  | { state: 'open' }
  | { state: 'closed'; retryAt: number; attempt: number };

/**
 * Changes to the fleet counted by kind, so that a list filtered and sorted a certain way
 * is worked out again only for the changes that can move it: sorted by name and not
 * filtered, ten thousand heartbeats a second move nothing.
 */
export interface FleetChanges {
  /** Hosts added or removed. */
  membership: number;
  /** A host's state or status changed. */
  states: number;
  /** A host's message, address or DNS name changed. */
  texts: number;
  /** Heartbeats: last seen moved. */
  beats: number;
}

export interface FleetState {
  hosts: Map<string, Host>;
  /** Changes on every applied batch of frames. */
  version: number;
  /**
   * A new object at most every VIEW_REFRESH_MS while frames arrive (at once for a
   * snapshot): filtering and sorting ten thousand hosts follow it, not every frame.
   */
  changes: FleetChanges;
  counts: Counts;
  /** Newest first, at most MAX_EVENTS; a new array whenever one arrives. */
  events: EventJson[];
  /** How many snapshots have been applied: one per (re)connection. */
  snapshots: number;
  connection: Connection;
  /** Hosts whose first heartbeat came after the snapshot: their interval, DNS… are fetched. */
  incomplete: Set<string>;
}

const MAX_EVENTS = 500;
const VIEW_REFRESH_MS = 500;

const EMPTY_COUNTS: Counts = { all: 0, up: 0, late: 0, down: 0, left: 0, warn: 0, fail: 0 };

export const fleet = new Observable<FleetState>({
  hosts: new Map(),
  version: 0,
  changes: { membership: 0, states: 0, texts: 0, beats: 0 },
  counts: EMPTY_COUNTS,
  events: [],
  snapshots: 0,
  connection: { state: 'connecting', attempt: 0 },
  incomplete: new Set(),
});

let queue: FeedFrame[] = [];
let flushScheduled = false;
/** Counted as frames are applied; published as `changes` when the view may refresh. */
const pending: FleetChanges = { membership: 0, states: 0, texts: 0, beats: 0 };
let viewDirty = false;
let lastViewRefresh = 0;
let viewTimer: ReturnType<typeof setTimeout> | undefined;

/**
 * The longest queued frames wait when the browser draws no animation frame: a tab that is
 * covered, off screen or starved of CPU may get none, and must still follow the fleet.
 */
const FLUSH_FALLBACK_MS = 100;

/**
 * Queues a frame from /ws. Frames are applied together once per animation frame, so a
 * burst of a thousand heartbeats costs one redraw, not a thousand.
 */
export function receive(frame: FeedFrame): void {
  queue.push(frame);
  if (flushScheduled) return;
  flushScheduled = true;
  // A hidden tab gets no animation frames; keep applying, rarely, so the queue stays short.
  if (document.hidden) setTimeout(flush, 1000);
  else onNextFrame(flush, FLUSH_FALLBACK_MS);
}

/** Calls `callback` once, at the next animation frame or after `fallbackMs`, whichever comes first. */
function onNextFrame(callback: () => void, fallbackMs: number): void {
  const once = () => {
    cancelAnimationFrame(frame);
    clearTimeout(timer);
    callback();
  };
  const frame = requestAnimationFrame(once);
  const timer = setTimeout(once, fallbackMs);
}

export function setConnection(connection: Connection): void {
  fleet.value.connection = connection;
  fleet.value.version++;
  fleet.notify();
}

/** Adds events fetched from the API (on load and after a reconnection) to the live ones. */
export function addFetchedEvents(fetched: readonly EventJson[]): void {
  const state = fleet.value;
  const known = new Set(state.events.map((event) => event.id));
  const merged = [...state.events, ...fetched.filter((event) => !known.has(event.id))];
  merged.sort((a, b) => b.id - a.id);
  state.events = merged.slice(0, MAX_EVENTS);
  state.version++;
  fleet.notify();
}

/** Fields only the API has (interval, DNS, first seen…), for a host the feed introduced. */
export function addDetails(details: HostJson): void {
  const state = fleet.value;
  state.incomplete.delete(details.name);
  const host = state.hosts.get(details.name);
  if (!host) return;
  // The feed may have brought newer timing while the request was out: keep the newer.
  const newer = Date.parse(details.last_seen) >= host.lastSeenMs;
  Object.assign(host, newer ? details : { ...details, ...timingOf(host) });
  host.lastSeenMs = Date.parse(host.last_seen);
  host.haystack = null;
  host.rev++;
  pending.states++;
  pending.texts++;
  pending.beats++;
  state.version++;
  viewDirty = true;
  scheduleViewRefresh();
  fleet.notify();
}

function timingOf(host: Host): Partial<HostJson> {
  const { last_seen, seq, received, lost, loss, status, msg, fields, addr, signed, state } = host;
  return { last_seen, seq, received, lost, loss, status, msg, fields, addr, signed, state };
}

function flush(): void {
  flushScheduled = false;
  const frames = queue;
  queue = [];
  const state = fleet.value;
  let snapshot = false;
  const eventsAdded: EventJson[] = [];
  for (const frame of frames) {
    switch (frame.type) {
      case 'snapshot':
        state.hosts = new Map(frame.hosts.map((host) => [host.name, hostOf(host)]));
        state.incomplete = new Set();
        state.snapshots++;
        pending.membership++;
        snapshot = true;
        break;
      case 'heartbeat':
        applyHeartbeat(state, frame);
        break;
      case 'event': {
        const { type: _, ...event } = frame;
        applyEvent(state, event);
        eventsAdded.push(event);
        break;
      }
    }
  }
  if (eventsAdded.length > 0) state.events = [...eventsAdded.reverse(), ...state.events].slice(0, MAX_EVENTS);
  const counts = countsOf(state.hosts);
  if (!sameCounts(counts, state.counts)) state.counts = counts;
  state.version++;
  viewDirty = true;
  if (snapshot) {
    performance.mark('hbd:snapshot-applied', { detail: { hosts: state.hosts.size } });
    refreshView();
  } else scheduleViewRefresh();
  fleet.notify();
}

function scheduleViewRefresh(): void {
  if (viewTimer !== undefined) return;
  const wait = lastViewRefresh + VIEW_REFRESH_MS - performance.now();
  if (wait <= 0) {
    refreshView();
    return;
  }
  viewTimer = setTimeout(() => {
    viewTimer = undefined;
    refreshView();
    fleet.value.version++;
    fleet.notify();
  }, wait);
}

function refreshView(): void {
  if (!viewDirty) return;
  viewDirty = false;
  lastViewRefresh = performance.now();
  fleet.value.changes = { ...pending };
}

/** Adopts the parsed object rather than copying it: a snapshot of ten thousand hosts is applied at once. */
function hostOf(json: HostJson): Host {
  const host = json as Host;
  host.lastSeenMs = Date.parse(json.last_seen);
  host.rev = 0;
  host.haystack = null;
  return host;
}

function applyHeartbeat(state: FleetState, frame: HeartbeatFrame): void {
  let host = state.hosts.get(frame.host);
  // A heartbeat that came while the snapshot was being sent may be in it already: not counted twice.
  if (host && frame.at === host.last_seen && frame.seq === host.seq) return;
  if (!host) {
    host = hostOf({
      name: frame.host,
      state: 'up',
      status: frame.status,
      msg: frame.msg,
      fields: frame.fields,
      addr: frame.addr,
      publish: { ip4: null, ip6: null },
      signed: frame.signed,
      first_seen: frame.at,
      last_seen: frame.at,
      interval: 0,
      grace: 0,
      every: null,
      seq: null,
      received: 0,
      lost: 0,
      loss: null,
      dns: null,
      run: null,
    });
    state.hosts.set(frame.host, host);
    state.incomplete.add(frame.host);
    pending.membership++;
  }
  // A heartbeat may be the finish of the host's open run: only hbd knows whether it ended it.
  if (host.run !== null) state.incomplete.add(frame.host);
  const nextState = frame.status === 'bye' ? 'left' : 'up';
  if (host.state !== nextState || host.status !== frame.status) pending.states++;
  if (host.msg !== frame.msg || host.addr !== frame.addr) pending.texts++;
  pending.beats++;
  // The same rule as hbd's: a seq that does not move forward means the sender restarted.
  if (frame.seq !== null) {
    if (host.seq !== null && frame.seq > host.seq) host.lost += Math.min(frame.seq - host.seq - 1, 0xffff);
    host.received++;
    host.seq = frame.seq;
    const withSeq = host.received + host.lost;
    host.loss = withSeq === 0 ? null : host.lost / withSeq;
  }
  host.last_seen = frame.at;
  host.lastSeenMs = Date.parse(frame.at);
  host.status = frame.status;
  host.msg = frame.msg;
  host.fields = frame.fields;
  host.addr = frame.addr;
  host.signed = frame.signed;
  // The state event follows; a heartbeat moves any state to up (or left, for bye) anyway.
  host.state = nextState;
  host.haystack = null;
  host.rev++;
}

function applyEvent(state: FleetState, event: EventJson): void {
  const host = state.hosts.get(event.host);
  if (event.kind === 'forget') {
    if (state.hosts.delete(event.host)) pending.membership++;
    return;
  }
  if (!host) return;
  if (event.kind === 'state' && event.to && event.to !== host.state) {
    host.state = event.to as HostState;
    pending.states++;
  } else if (event.kind === 'status' && isStatus(event.to) && event.to !== host.status) {
    // A flapping episode's event says `flapping`, which is no status: the heartbeats carry the exact one.
    host.status = event.to;
    pending.states++;
  } else if (event.kind === 'dns') {
    // A DNS change carries only addresses; the rest is fetched.
    state.incomplete.add(event.host);
  }
  host.haystack = null;
  host.rev++;
}

function countsOf(hosts: Map<string, Host>): Counts {
  const counts = { ...EMPTY_COUNTS, all: hosts.size };
  for (const host of hosts.values()) {
    counts[host.state]++;
    if (host.status === 'warn' || host.status === 'fail') counts[host.status]++;
  }
  return counts;
}

function sameCounts(a: Counts, b: Counts): boolean {
  for (const key of Object.keys(a) as CountKey[]) if (a[key] !== b[key]) return false;
  return true;
}

function isStatus(value: string | null): value is Status {
  return (STATUSES as readonly (string | null)[]).includes(value);
}
