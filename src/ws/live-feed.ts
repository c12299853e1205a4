import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { eventJson } from '../http/event-json.js';
import { rfc3339 } from '../http/host-json.js';
import { type HostPiece, type HostSource, hostPieces } from '../http/host-pieces.js';
import type { Bus } from '../lib/bus.js';
import type { HeartbeatNotice } from '../model/events.js';
import { FeedClient, type LiveFrame } from './feed-client.js';

/** How far behind a client may fall; read on every check, so that a reload applies at once. */
export interface FeedLimits {
  client_buffer_bytes: number;
  client_stall_seconds: number;
}

export interface LiveFeedOptions {
  bus: Bus;
  /** The hosts a new client's snapshot holds, by name; each is read when its frame is built. */
  snapshotNames: () => Promise<readonly string[]>;
  hosts: HostSource;
  limits?: () => FeedLimits;
  /** How often pending frames go out; heartbeats of one host within it are merged. */
  flushMs?: number;
  pingMs?: number;
  /** How often clients with a login are checked for it having ended. */
  accessCheckMs?: number;
  /** How often clients are checked for having fallen too far behind. */
  boundsCheckMs?: number;
  /** Clients past this many are refused, so that connections alone cannot exhaust memory. */
  maxClients?: number;
  /** A failure nobody expected: logged with its stack; the feed carries on. */
  onUnexpectedError?: (error: unknown) => void;
}

const DEFAULT_LIMITS: FeedLimits = { client_buffer_bytes: 8 * 1024 * 1024, client_stall_seconds: 30 };

/**
 * Clients have nothing to say on the feed; without a bound, `ws` would buffer a message
 * (in fragments that never end) of up to 100 MiB per connection.
 */
const MAX_CLIENT_MESSAGE_BYTES = 1024;

/** Close code for a client that cannot keep up (1013: try again later). */
export const CLOSE_TOO_SLOW = 1013;
/** RFC 6455 "policy violation": the client may no longer read the feed. */
export const CLOSE_POLICY = 1008;
/** A client told to go that does not answer the close handshake (it reads nothing) is cut this much later. */
const TERMINATE_AFTER_MS = 1000;

/**
 * The WebSocket feed at /ws: the snapshot, in `snapshot` frames of some hosts each (the last
 * says `done: true`), then `heartbeat` and `event` frames, each one JSON object with a `type`.
 *
 * Neither a big fleet nor a slow client slows ingest: the snapshot is built a frame at a time,
 * between turns of the event loop, each frame once the client has taken the one before;
 * live frames are serialised once for all clients every `flushMs`, and wait per client while
 * its socket is full, merged by host. A client that falls `client_buffer_bytes` behind, or
 * takes nothing for `client_stall_seconds`, is cut off.
 */
export class LiveFeed {
  readonly #server = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: MAX_CLIENT_MESSAGE_BYTES,
  });
  readonly #maxClients: number;
  readonly #snapshotNames: () => Promise<readonly string[]>;
  readonly #hosts: HostSource;
  readonly #limits: () => FeedLimits;
  readonly #flushMs: number;
  readonly #onUnexpectedError: (error: unknown) => void;
  readonly #unsubscribe: (() => void)[];
  readonly #clients = new Map<WebSocket, FeedClient>();
  readonly #alive = new WeakSet<WebSocket>();
  readonly #timers: NodeJS.Timeout[];
  readonly #allowed = new Map<WebSocket, () => Promise<boolean>>();
  #pendingHeartbeats = new Map<string, HeartbeatNotice>();
  #pendingFrames: LiveFrame[] = [];
  #eventKey = 0;
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(options: LiveFeedOptions) {
    this.#snapshotNames = options.snapshotNames;
    this.#hosts = options.hosts;
    this.#limits = options.limits ?? (() => DEFAULT_LIMITS);
    this.#flushMs = options.flushMs ?? 100;
    this.#maxClients = options.maxClients ?? 1000;
    this.#onUnexpectedError = options.onUnexpectedError ?? (() => {});
    this.#unsubscribe = [
      options.bus.on('heartbeat', (notice) => {
        if (this.#clients.size === 0) return;
        this.#pendingHeartbeats.set(notice.host, notice);
        this.#scheduleFlush();
      }),
      options.bus.on('event', (event) => {
        if (this.#clients.size === 0) return;
        // Heartbeats already pending go first: the heartbeat that ended an outage precedes its `up`.
        this.#drainHeartbeats();
        this.#pendingFrames.push({
          key: this.#eventKey++,
          text: JSON.stringify({ type: 'event', ...eventJson(event) }),
        });
        this.#scheduleFlush();
      }),
    ];
    this.#timers = [
      setInterval(() => this.#guarded(() => this.#pingAll()), options.pingMs ?? 30_000),
      setInterval(() => this.#guarded(() => this.#closeRevoked()), options.accessCheckMs ?? 5000),
      setInterval(() => this.#guarded(() => this.#cutOffLagging()), options.boundsCheckMs ?? 500),
    ];
    for (const timer of this.#timers) timer.unref();
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
  handleUpgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    stillAllowed?: () => Promise<boolean>,
  ): void {
    this.#server.handleUpgrade(request, socket, head, (ws) => {
      try {
        this.#accept(ws, stillAllowed);
      } catch (error) {
        this.#onUnexpectedError(error);
        ws.terminate();
      }
    });
  }

  close(): void {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    for (const timer of this.#timers) clearInterval(timer);
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    for (const client of this.#server.clients) client.close(1001, 'hbd is shutting down');
    this.#server.close();
  }

  #accept(ws: WebSocket, stillAllowed: (() => Promise<boolean>) | undefined): void {
    const client = new FeedClient(ws, () => performance.now());
    this.#clients.set(ws, client);
    ws.on('close', () => {
      this.#clients.delete(ws);
      this.#allowed.delete(ws);
    });
    if (stillAllowed) this.#allowed.set(ws, stillAllowed);
    this.#alive.add(ws);
    ws.on('pong', () => this.#alive.add(ws));
    ws.on('error', () => ws.terminate());
    // Incoming messages are not part of the protocol; they are ignored.
    void this.#sendSnapshot(client);
  }

  async #sendSnapshot(client: FeedClient): Promise<void> {
    try {
      const at = rfc3339(Date.now());
      // One piece is held back, so that the last frame, which says `done`, carries hosts too.
      let held: HostPiece | undefined;
      for await (const piece of hostPieces(await this.#snapshotNames(), this.#hosts)) {
        if (held && !(await client.sendSnapshotFrame(snapshotFrame(at, held, false)))) return;
        held = piece;
      }
      if (!(await client.sendSnapshotFrame(snapshotFrame(at, held, true)))) return;
      client.release();
    } catch (error) {
      this.#onUnexpectedError(error);
      client.ws.terminate();
    }
  }

  #scheduleFlush(): void {
    if (this.#flushTimer) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      this.#guarded(() => this.#flush());
    }, this.#flushMs);
  }

  #drainHeartbeats(): void {
    for (const notice of this.#pendingHeartbeats.values()) {
      this.#pendingFrames.push({
        key: notice.host,
        text: JSON.stringify({
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
      });
    }
    this.#pendingHeartbeats = new Map();
  }

  #flush(): void {
    this.#drainHeartbeats();
    const frames = this.#pendingFrames;
    this.#pendingFrames = [];
    const limits = this.#limits();
    for (const client of this.#clients.values()) {
      if (client.cutOff || client.ws.readyState !== client.ws.OPEN) continue;
      client.add(frames);
      this.#cutOffIfLagging(client, limits);
    }
  }

  #cutOffLagging(): void {
    const limits = this.#limits();
    for (const client of this.#clients.values()) this.#cutOffIfLagging(client, limits);
  }

  #cutOffIfLagging(client: FeedClient, limits: FeedLimits): void {
    if (client.cutOff) return;
    if (client.backlogBytes > limits.client_buffer_bytes) {
      this.#cutOff(client, `too slow: the client fell more than ${limits.client_buffer_bytes} bytes behind`);
    } else if (client.stalledMs() > limits.client_stall_seconds * 1000) {
      this.#cutOff(client, `too slow: the client read nothing for ${limits.client_stall_seconds} s`);
    }
  }

  #cutOff(client: FeedClient, reason: string): void {
    client.cutOff = true;
    client.ws.close(CLOSE_TOO_SLOW, reason);
    // A client that stopped reading will not answer the close handshake either.
    setTimeout(() => client.ws.terminate(), TERMINATE_AFTER_MS).unref();
  }

  #closeRevoked(): void {
    for (const [ws, stillAllowed] of this.#allowed) {
      stillAllowed().then(
        (allowed) => {
          if (allowed || !this.#allowed.has(ws)) return;
          this.#allowed.delete(ws);
          ws.close(CLOSE_POLICY, 'your session has ended: log in again');
        },
        (error: unknown) => this.#onUnexpectedError(error),
      );
    }
  }

  #pingAll(): void {
    for (const ws of this.#server.clients) {
      if (!this.#alive.has(ws)) {
        ws.terminate();
        continue;
      }
      this.#alive.delete(ws);
      ws.ping();
    }
  }

  /** A timer's work: a failure is reported, and never ends the process. */
  #guarded(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.#onUnexpectedError(error);
    }
  }
}

/**
 * One frame of the snapshot, written out so that the hosts' JSON is not parsed or built
 * again; `type` comes first and `done` before the hosts, so a client can tell them apart cheaply.
 */
function snapshotFrame(at: string, piece: HostPiece | undefined, done: boolean): string {
  return `{"type":"snapshot","at":"${at}","done":${done},"hosts":[${piece?.text ?? ''}]}`;
}
