/**
 * `hbd events --follow`: the latest events from the API, then each new one from the live feed
 * (/ws). When hbd goes away the feed is reconnected, and what was missed is read from the API.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { CLOSE_POLICY } from '../ws/live-feed.js';
import { API_TIMEOUT_MS, type ApiConnection, ApiError } from './api-client.js';
import { ApiUnreachable, displayBase, unreachableMessage } from './api-unreachable.js';
import { type EventJson, MAX_EVENTS, readLatest } from './event-log.js';

export interface FollowOptions extends ApiConnection {
  /** Only this host's events. */
  host?: string | undefined;
  /** How many of the latest events to print before the live ones. */
  limit: number;
  print(event: EventJson): void;
  /** What the user is told on stderr: the connection lost and found again. */
  notice?: (message: string) => void;
  /** Ends following: the promise resolves. */
  signal?: AbortSignal;
  /** Waits between attempts to reconnect: from the first, doubling up to the second. */
  retryMs?: readonly [number, number];
  /** hbd pings every 30 s: this long without a word means the connection is dead. */
  silenceMs?: number;
}

const RETRY_MS = [500, 15_000] as const;
const SILENCE_MS = 75_000;
/** What a refusal's body is read up to: enough for hbd's JSON error, not a stranger's page. */
const MAX_REFUSAL_BYTES = 16 * 1024;

/**
 * Resolves when `signal` aborts. Rejects when hbd cannot be reached at first (ApiUnreachable),
 * refuses the feed (ApiError: a wrong token), or ends it because the login ended.
 */
export async function followEvents(options: FollowOptions): Promise<void> {
  const notice = options.notice ?? ((message: string) => process.stderr.write(`hbd: ${message}\n`));
  const where = displayBase(options.base);
  const host = options.host?.toLowerCase();
  let lastId = 0;
  const emit = (event: EventJson) => {
    if (event.id <= lastId || (host !== undefined && event.host !== host)) return;
    lastId = event.id;
    options.print(event);
  };

  let feed: Feed | undefined = await Feed.open(options);
  let first = true;
  while (feed) {
    const abort = () => feed?.close();
    options.signal?.addEventListener('abort', abort);
    try {
      const backlog = await readLatest(options, host, first ? options.limit : MAX_EVENTS).catch((error) => {
        if (first) {
          // An open connection would keep the command running after it gave up.
          feed?.terminate();
          throw error;
        }
        // The feed is open but the API does not answer: hbd is going away as we speak.
        return undefined;
      });
      if (backlog) {
        const newest = backlog.at(-1)?.id ?? 0;
        // A new state file starts its ids again: what it has is not what was printed.
        if (newest < lastId) lastId = newest;
        if (!first && backlog.length === MAX_EVENTS && backlog[0]!.id > lastId + 1) {
          notice(`more than ${MAX_EVENTS} events while disconnected: only the latest ${MAX_EVENTS} follow`);
        }
        for (const event of backlog) emit(event);
        feed.release(emit);
      } else {
        feed.close();
      }
      const ended = await feed.closed;
      if (options.signal?.aborted) return;
      if (ended.code === CLOSE_POLICY) throw new Error(`hbd ended the live feed: ${ended.reason}`);
      notice(`lost the connection to hbd at ${where} (${ended.reason || 'it dropped'}); reconnecting`);
    } finally {
      options.signal?.removeEventListener('abort', abort);
    }
    first = false;
    feed = await reconnect(options);
    if (feed) notice(`reconnected to hbd at ${where}`);
  }
}

/** Tries again, waiting longer each time, until hbd takes the feed or `signal` aborts. */
async function reconnect(options: FollowOptions): Promise<Feed | undefined> {
  const [minMs, maxMs] = options.retryMs ?? RETRY_MS;
  let waitMs = minMs;
  while (!options.signal?.aborted) {
    await sleep(waitMs, undefined, { signal: options.signal }).catch(() => {});
    if (options.signal?.aborted) break;
    try {
      return await Feed.open(options);
    } catch (error) {
      // A token that no longer works will not start working by trying again.
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) throw error;
    }
    waitMs = Math.min(waitMs * 2, maxMs);
  }
  return undefined;
}

/** One connection to /ws: its events wait until `release`, so that none is lost or printed twice. */
class Feed {
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #ws: WebSocket;
  #waiting: EventJson[] | undefined = [];
  #emit: ((event: EventJson) => void) | undefined;

  private constructor(ws: WebSocket, silenceMs: number) {
    this.#ws = ws;
    let timer = setTimeout(() => ws.terminate(), silenceMs);
    const alive = () => {
      clearTimeout(timer);
      timer = setTimeout(() => ws.terminate(), silenceMs);
    };
    ws.on('ping', alive);
    ws.on('message', (data) => {
      alive();
      const event = eventOf(String(data));
      if (!event) return;
      if (this.#waiting) this.#waiting.push(event);
      else this.#emit?.(event);
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => {
        clearTimeout(timer);
        resolve({ code, reason: reason.toString() });
      }),
    );
  }

  /** Resolves once hbd has taken the connection; rejects as the API calls do. */
  static open(options: FollowOptions): Promise<Feed> {
    const url = new URL('/ws', options.base);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url, {
      headers: options.headers,
      handshakeTimeout: API_TIMEOUT_MS,
      perMessageDeflate: false,
    });
    // Errors after the opening (a reset) end in 'close', which the feed waits for.
    ws.on('error', () => {});
    const feed = new Feed(ws, options.silenceMs ?? SILENCE_MS);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(feed));
      ws.once('unexpected-response', (_request, response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (body.length < MAX_REFUSAL_BYTES) body += chunk;
        });
        response.on('end', () => {
          reject(new ApiError(response.statusCode ?? 0, refusalOf(body)));
          ws.terminate();
        });
        response.on('error', () => ws.terminate());
      });
      ws.once('error', (error) =>
        reject(new ApiUnreachable(unreachableMessage(options.base, error, API_TIMEOUT_MS))),
      );
    });
  }

  /** From now on every event goes to `emit`, those that waited first. */
  release(emit: (event: EventJson) => void): void {
    this.#emit = emit;
    const waiting = this.#waiting ?? [];
    this.#waiting = undefined;
    for (const event of waiting) emit(event);
  }

  close(): void {
    this.#ws.close(1000);
  }

  terminate(): void {
    this.#ws.terminate();
  }
}

function refusalOf(body: string): string {
  try {
    return (JSON.parse(body) as { error?: string }).error ?? body;
  } catch {
    return body.slice(0, 200);
  }
}

/** An `event` frame; snapshots and heartbeats are not what this command shows. */
function eventOf(text: string): EventJson | undefined {
  try {
    const frame = JSON.parse(text) as { type?: unknown } & EventJson;
    if (frame.type !== 'event' || typeof frame.id !== 'number') return undefined;
    const { type: _, ...event } = frame;
    return event;
  } catch {
    return undefined;
  }
}
