import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Bus } from '../bus.js';
import { eventJson } from '../http/event-json.js';
import { type HostJson, rfc3339 } from '../http/host-json.js';
import type { HeartbeatNotice } from '../state/events.js';

export interface LiveFeedOptions {
  bus: Bus;
  snapshot: () => HostJson[];
  /** How often pending frames go out; heartbeats of one host within it are merged. */
  flushMs?: number;
  /** A client this far behind is dropped rather than buffered without end. */
  maxBufferedBytes?: number;
  pingMs?: number;
  /** How often clients with a login are checked for it having ended. */
  accessCheckMs?: number;
  /** Clients past this many are refused, so that connections alone cannot exhaust memory. */
  maxClients?: number;
}

/**
 * Clients have nothing to say on the feed; without a bound, `ws` would buffer a message
 * (in fragments that never end) of up to 100 MiB per connection.
 */
const MAX_CLIENT_MESSAGE_BYTES = 1024;

/** Close code for a client that cannot keep up (1013: try again later). */
export const CLOSE_TOO_SLOW = 1013;
/** RFC 6455 "policy violation": the client may no longer read the feed. */
export const CLOSE_POLICY = 1008;

/**
 * The WebSocket feed at /ws: a `snapshot` frame with every host on connect, then
 * `heartbeat` and `event` frames, each one JSON object with a `type`.
 *
 * Fan-out never slows ingest: heartbeats are merged per host and sent every
 * `flushMs`, each frame is serialised once for all clients, and a client whose
 * send buffer grows past `maxBufferedBytes` is closed with a reason.
 */
export class LiveFeed {
  readonly #server = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: MAX_CLIENT_MESSAGE_BYTES,
  });
  readonly #maxClients: number;
  readonly #snapshot: () => HostJson[];
  readonly #flushMs: number;
  readonly #maxBufferedBytes: number;
  readonly #unsubscribe: (() => void)[];
  readonly #alive = new WeakSet<WebSocket>();
  readonly #pingTimer: NodeJS.Timeout;
  readonly #accessTimer: NodeJS.Timeout;
  readonly #allowed = new Map<WebSocket, () => boolean>();
  #pendingHeartbeats = new Map<string, HeartbeatNotice>();
  #pendingFrames: string[] = [];
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(options: LiveFeedOptions) {
    this.#snapshot = options.snapshot;
    this.#flushMs = options.flushMs ?? 100;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 8 * 1024 * 1024;
    this.#maxClients = options.maxClients ?? 1000;
    this.#unsubscribe = [
      options.bus.on('heartbeat', (notice) => {
        if (this.#server.clients.size === 0) return;
        this.#pendingHeartbeats.set(notice.host, notice);
        this.#scheduleFlush();
      }),
      options.bus.on('event', (event) => {
        if (this.#server.clients.size === 0) return;
        // Heartbeats already pending go first: the heartbeat that ended an outage precedes its `up`.
        this.#drainHeartbeats();
        this.#pendingFrames.push(JSON.stringify({ type: 'event', ...eventJson(event) }));
        this.#scheduleFlush();
      }),
    ];
    this.#pingTimer = setInterval(() => this.#pingAll(), options.pingMs ?? 30_000);
    this.#pingTimer.unref();
    this.#accessTimer = setInterval(() => this.#closeRevoked(), options.accessCheckMs ?? 5000);
    this.#accessTimer.unref();
  }

  get clientCount(): number {
    return this.#server.clients.size;
  }

  /** Whether one more client would be past `maxClients`: the caller then refuses it. */
  get full(): boolean {
    return this.#server.clients.size >= this.#maxClients;
  }

  /**
   * `stillAllowed` is asked again every few seconds: a client whose login ended (logout, expiry,
   * a user removed from the config) is closed rather than left watching.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, stillAllowed?: () => boolean): void {
    this.#server.handleUpgrade(request, socket, head, (client) => {
      if (stillAllowed) {
        this.#allowed.set(client, stillAllowed);
        client.on('close', () => this.#allowed.delete(client));
      }
      this.#alive.add(client);
      client.on('pong', () => this.#alive.add(client));
      client.on('error', () => client.terminate());
      // Incoming messages are not part of the protocol; they are ignored.
      client.send(JSON.stringify({ type: 'snapshot', at: rfc3339(Date.now()), hosts: this.#snapshot() }));
    });
  }

  close(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    clearInterval(this.#pingTimer);
    clearInterval(this.#accessTimer);
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    for (const client of this.#server.clients) client.close(1001, 'hbd is shutting down');
    this.#server.close();
  }

  #scheduleFlush(): void {
    if (this.#flushTimer) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      this.#flush();
    }, this.#flushMs);
  }

  #drainHeartbeats(): void {
    for (const notice of this.#pendingHeartbeats.values()) {
      this.#pendingFrames.push(
        JSON.stringify({
          type: 'heartbeat',
          host: notice.host,
          at: rfc3339(notice.at),
          status: notice.status,
          msg: notice.msg,
          fields: notice.fields,
          addr: notice.addr,
          signed: notice.signed,
          seq: notice.seq,
        }),
      );
    }
    this.#pendingHeartbeats = new Map();
  }

  #flush(): void {
    this.#drainHeartbeats();
    const frames = this.#pendingFrames;
    this.#pendingFrames = [];
    for (const client of this.#server.clients) {
      if (client.readyState !== client.OPEN) continue;
      if (client.bufferedAmount > this.#maxBufferedBytes) {
        client.close(CLOSE_TOO_SLOW, 'too slow: the client fell behind the live feed');
        // A client that stopped reading will not answer the close handshake either.
        setTimeout(() => client.terminate(), 1000).unref();
        continue;
      }
      for (const frame of frames) client.send(frame);
    }
  }

  #closeRevoked(): void {
    for (const [client, stillAllowed] of this.#allowed) {
      if (!stillAllowed()) {
        this.#allowed.delete(client);
        client.close(CLOSE_POLICY, 'your session has ended: log in again');
      }
    }
  }

  #pingAll(): void {
    for (const client of this.#server.clients) {
      if (!this.#alive.has(client)) {
        client.terminate();
        continue;
      }
      this.#alive.delete(client);
      client.ping();
    }
  }
}
