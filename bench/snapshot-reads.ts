/**
 * Reading every host the way the dashboard (`/ws`) and a script (`GET /api/hosts`) do, timed
 * from the client's side, with the largest single piece the server sent: the largest WebSocket
 * frame payload, and the largest HTTP chunk (a Content-Length body counts as one piece). Each
 * piece was written by hbd in one go, so the largest is a lower bound on the largest string it
 * built (what the client sees, not a measurement inside hbd).
 */

import type net from 'node:net';
import {
  bodyText,
  connectTcp,
  type ResponseHead,
  readBody,
  readResponseHead,
  requestText,
} from './raw-http.js';
import {
  CLOSE_FRAME,
  type Frame,
  FrameReader,
  isControlFrame,
  OPCODE_CLOSE,
  upgradeRequest,
} from './raw-ws.js';

export interface ReadOutcome {
  /** Connect → the last byte of the snapshot (or of the last page). */
  ms: number;
  hosts: number;
  bytes: number;
  /** Frames (or fragments) of the snapshot; HTTP chunks, or 1 per Content-Length body. */
  pieces: number;
  largestPiece: number;
  /** HTTP only: pages read, and whether the body came chunked. */
  pages?: number;
  chunked?: boolean;
}

/** hbd turned the client away (rate limit, too many clients): the status it answered. */
export class RefusedError extends Error {
  readonly status: number;
  constructor(what: string, status: number) {
    super(`${what}: hbd answered ${status}`);
    this.status = status;
  }
}

/**
 * What one feed message says about the snapshot, whichever way hbd sends it: today one
 * `{type: "snapshot", hosts: [...]}` message; chunked, several messages of a `snapshot…` type,
 * the last one saying so (`done: true`, `more: false`, or a type such as `snapshot_end`).
 * undefined: not part of a snapshot (a live `heartbeat` or `event`).
 */
export function snapshotPart(message: unknown): { hosts: number; last: boolean } | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const { type, hosts, done, more } = message as Record<string, unknown>;
  if (typeof type !== 'string' || !type.startsWith('snapshot')) return undefined;
  const last =
    done === true ||
    more === false ||
    /end|done/.test(type) ||
    (type === 'snapshot' && done === undefined && more === undefined);
  return { hosts: Array.isArray(hosts) ? hosts.length : 0, last };
}

/**
 * Ends a read that takes longer than `timeoutMs`, or when `signal` aborts, by destroying its
 * socket (the read then fails with the reason). Returns the function that disarms it.
 */
function guard(socket: net.Socket, what: string, timeoutMs: number, signal?: AbortSignal): () => void {
  const timer = setTimeout(
    () => socket.destroy(new Error(`${what} not read within ${timeoutMs} ms`)),
    timeoutMs,
  );
  const onAbort = () => socket.destroy(new Error(`${what}: stopped`));
  signal?.addEventListener('abort', onAbort, { once: true });
  return () => {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  };
}

/** Above this, a message is only peeked at (its first and last bytes) unless its hosts are counted. */
const PEEK_ABOVE_BYTES = 64 * 1024;
const PEEK_BYTES = 512;

/** A feed message, parsed, or for a large one when `countHosts` is false, peeked at. */
function messageOf(frames: readonly Frame[], countHosts: boolean): unknown {
  const parts = frames.flatMap((frame) => frame.payload);
  const length = frames.reduce((sum, frame) => sum + frame.length, 0);
  if (countHosts || length <= PEEK_ABOVE_BYTES) return JSON.parse(Buffer.concat(parts).toString());
  const edges = `${edgeText(parts, false)}\n${edgeText(parts, true)}`;
  const flag = (name: string) => {
    const match = new RegExp(`"${name}"\\s*:\\s*(true|false)`).exec(edges);
    return match ? match[1] === 'true' : undefined;
  };
  return { type: /"type"\s*:\s*"([^"]*)"/.exec(edges)?.[1], done: flag('done'), more: flag('more') };
}

/**
 * The first (or last) PEEK_BYTES of a message: enough for its `type` and end-of-snapshot flag,
 * and it saves a looping client parsing megabytes per snapshot (CPU that, on a small machine,
 * the daemon would have to compete for).
 */
function edgeText(parts: readonly Buffer[], fromEnd: boolean): string {
  const picked: Buffer[] = [];
  let bytes = 0;
  for (let i = 0; i < parts.length && bytes < PEEK_BYTES; i++) {
    const part = parts[fromEnd ? parts.length - 1 - i : i]!;
    const take = Math.min(part.length, PEEK_BYTES - bytes);
    picked.push(fromEnd ? part.subarray(part.length - take) : part.subarray(0, take));
    bytes += take;
  }
  if (fromEnd) picked.reverse();
  return Buffer.concat(picked).toString();
}

/**
 * Opens `/ws`, reads the whole snapshot, sends a close frame and hangs up. `countHosts`: parse
 * every snapshot message to count its hosts (otherwise large ones are only peeked at).
 */
export async function readFeedSnapshot(
  url: string,
  timeoutMs: number,
  options: { signal?: AbortSignal; countHosts: boolean },
): Promise<ReadOutcome> {
  const { signal, countHosts } = options;
  const start = performance.now();
  const socket = await connectTcp(url);
  const disarm = guard(socket, '/ws snapshot', timeoutMs, signal);
  let head: ResponseHead;
  try {
    head = await readResponseHead(socket, upgradeRequest(url));
  } catch (error) {
    disarm();
    throw error;
  }
  if (head.status !== 101) {
    disarm();
    socket.destroy();
    throw new RefusedError('/ws', head.status);
  }
  return new Promise((resolve, reject) => {
    const reader = new FrameReader();
    const outcome: ReadOutcome = { ms: 0, hosts: 0, bytes: 0, pieces: 0, largestPiece: 0 };
    let message: Frame[] = [];
    let lastSnapshotAt = start;
    let sawSnapshot = false;
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      disarm();
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', settle);
      socket.on('error', () => {});
      // Whatever else arrives is not read; the close handshake is not waited for.
      socket.resume();
      if (error) {
        socket.destroy();
        reject(error);
        return;
      }
      socket.end(CLOSE_FRAME);
      setTimeout(() => socket.destroy(), 1000).unref();
      resolve({ ...outcome, ms: lastSnapshotAt - start });
    };
    const onMessage = (frames: Frame[], arrivedAt: number) => {
      const part = snapshotPart(messageOf(frames, countHosts));
      // A live frame after snapshot frames: the snapshot has ended, whatever its last frame said.
      if (!part) {
        if (sawSnapshot) settle();
        return;
      }
      sawSnapshot = true;
      lastSnapshotAt = arrivedAt;
      outcome.hosts += part.hosts;
      for (const frame of frames) {
        outcome.pieces++;
        outcome.bytes += frame.length;
        outcome.largestPiece = Math.max(outcome.largestPiece, frame.length);
      }
      if (part.last) settle();
    };
    const onFrame = (frame: Frame) => {
      if (frame.opcode === OPCODE_CLOSE) {
        const reason = Buffer.concat(frame.payload).subarray(2).toString();
        settle(new Error(`hbd closed /ws before the snapshot ended: ${reason || 'no reason'}`));
        return;
      }
      if (isControlFrame(frame)) return;
      message.push(frame);
      if (!frame.fin) return;
      const frames = message;
      message = [];
      onMessage(frames, performance.now());
    };
    const onData = (chunk: Buffer) => {
      try {
        reader.push(chunk, onFrame);
      } catch (error) {
        settle(error instanceof Error ? error : new Error(String(error)));
      }
    };
    const onClose = () => settle(new Error('hbd hung up before the snapshot ended'));
    socket.on('data', onData);
    socket.once('close', onClose);
    // Before close: a timeout or a stop destroys the socket with its reason.
    socket.once('error', settle);
    if (head.rest.length > 0) onData(head.rest);
    socket.resume();
  });
}

/**
 * `GET /api/hosts` to the end, one connection per page: all of it at once today; if the answer
 * is a page (`{hosts: [...], next…}`), the following pages up to the last.
 */
export async function readAllHosts(
  url: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ReadOutcome> {
  const start = performance.now();
  const outcome: ReadOutcome = {
    ms: 0,
    hosts: 0,
    bytes: 0,
    pieces: 0,
    largestPiece: 0,
    pages: 0,
    chunked: false,
  };
  let path: string | undefined = '/api/hosts';
  while (path !== undefined) {
    const socket = await connectTcp(url);
    const disarm = guard(socket, path, timeoutMs, signal);
    try {
      const head = await readResponseHead(socket, requestText(url, path, { Connection: 'close' }));
      if (head.status !== 200) throw new RefusedError('/api/hosts', head.status);
      const body = await readBody(head);
      outcome.ms = performance.now() - start;
      outcome.pages!++;
      outcome.bytes += body.bytes;
      outcome.pieces += body.pieces;
      outcome.largestPiece = Math.max(outcome.largestPiece, body.largestPiece);
      outcome.chunked ||= body.chunked;
      const page = pageOf(JSON.parse(bodyText(body.parts)));
      outcome.hosts += page.hosts;
      path = page.next;
    } finally {
      disarm();
      socket.destroy();
    }
  }
  return outcome;
}

/** The hosts in one answer of /api/hosts and the path of the next page, if there is one. */
function pageOf(value: unknown): { hosts: number; next: string | undefined } {
  if (Array.isArray(value)) return { hosts: value.length, next: undefined };
  const page = (value ?? {}) as Record<string, unknown>;
  const hosts = Array.isArray(page.hosts) ? page.hosts.length : 0;
  const cursor = page.next_cursor ?? page.cursor ?? page.next;
  if (typeof cursor !== 'string' || cursor === '' || hosts === 0) return { hosts, next: undefined };
  return { hosts, next: cursor.startsWith('/') ? cursor : `/api/hosts?cursor=${encodeURIComponent(cursor)}` };
}
