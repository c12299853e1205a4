import { type EventJson, type FeedFrame, getJson, type HostJson } from './api.js';
import { addDetails, addFetchedEvents, fleet, receive, setConnection } from './fleet.js';

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 5000;
/** Past this many new hosts at once, one request for all of them beats one each. */
const MAX_SINGLE_FETCHES = 20;
const DETAILS_DELAY_MS = 1000;

let socket: WebSocket | undefined;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let attempt = 0;
let running = false;

/**
 * Keeps the live feed connected: on every (re)connection hbd sends a snapshot of the
 * whole fleet, so nothing missed while disconnected stays wrong. Retries back off from
 * half a second to five, with jitter, so a restarted hbd is not met by every tab at once.
 */
export function startFeed(): void {
  if (running) return;
  running = true;
  connect();
}

export function stopFeed(): void {
  running = false;
  clearTimeout(retryTimer);
  socket?.close();
  socket = undefined;
}

export function retryNow(): void {
  if (!running || socket) return;
  clearTimeout(retryTimer);
  connect();
}

function connect(): void {
  setConnection({ state: 'connecting', attempt });
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${scheme}://${location.host}/ws`);
  socket = ws;
  // The snapshot comes in frames of some hosts each; the fleet is replaced once the last has come.
  let snapshotParts: HostJson[][] = [];
  ws.onmessage = (message) => {
    const frame = JSON.parse(String(message.data)) as FeedFrame;
    if (frame.type !== 'snapshot') {
      receive(frame);
      return;
    }
    snapshotParts.push(frame.hosts);
    if (!frame.done) return;
    const hosts = snapshotParts.flat();
    snapshotParts = [];
    performance.mark('hbd:snapshot-received');
    performance.mark('hbd:snapshot-parsed');
    attempt = 0;
    if (fleet.value.connection.state !== 'open') setConnection({ state: 'open' });
    // Events that happened while disconnected are in the store, not in the snapshot.
    getJson<EventJson[]>('/api/events?limit=200').then(addFetchedEvents, () => {});
    receive({ ...frame, hosts });
  };
  ws.onclose = () => {
    if (socket !== ws) return;
    socket = undefined;
    if (!running) return;
    const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt) * (0.8 + Math.random() * 0.4);
    attempt++;
    setConnection({ state: 'closed', retryAt: Date.now() + delay, attempt });
    retryTimer = setTimeout(connect, delay);
  };
}

let detailsTimer: ReturnType<typeof setTimeout> | undefined;

/** Hosts that appeared after the snapshot know only what a heartbeat says; ask for the rest. */
fleet.subscribe(() => {
  if (fleet.value.incomplete.size === 0 || detailsTimer !== undefined) return;
  detailsTimer = setTimeout(() => {
    detailsTimer = undefined;
    void fetchDetails([...fleet.value.incomplete]);
  }, DETAILS_DELAY_MS);
});

async function fetchDetails(names: string[]): Promise<void> {
  try {
    if (names.length <= MAX_SINGLE_FETCHES) {
      await Promise.all(
        names.map((name) => getJson<HostJson>(`/api/hosts/${encodeURIComponent(name)}`).then(addDetails)),
      );
    } else {
      const wanted = new Set(names);
      for (const host of await getJson<HostJson[]>('/api/hosts')) if (wanted.has(host.name)) addDetails(host);
    }
  } catch {
    // Forgotten meanwhile, or hbd went away: the next snapshot brings it all.
    for (const name of names) fleet.value.incomplete.delete(name);
  }
}
