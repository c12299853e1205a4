import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import type { HostView } from '../state/host-view.js';
import { HttpError } from './errors.js';
import { fairTurn } from './fair-turn.js';
import { type HostFilter, parseHostFilter } from './host-filter.js';
import { type HostOrder, indexAfter } from './host-order.js';
import { type HostSource, hostPieces } from './host-pieces.js';
import { SnapshotBudget } from './snapshot-budget.js';

export interface HostsRouteDeps {
  hosts: HostView;
  order: HostOrder;
  source: HostSource;
  budget: SnapshotBudget;
  /** Read on every request, so that a reload applies at once. */
  limits: () => { snapshots_per_minute: number; client_stall_seconds: number };
  onUnexpectedError: (error: unknown) => void;
}

/** A host name is at most 253 characters; a cursor is one. */
const MAX_CURSOR_LENGTH = 253;
/** Names a filtered read checks between two turns of the event loop. */
const SCAN_BATCH = 10_000;

/**
 * `GET /api/hosts`: a JSON array sorted by name, streamed a piece at a time (see `hostPieces`),
 * each piece written only once the client has taken the one before. `limit` and `after` page
 * through it; a page that is not the last says where the next one is in a `Link` header.
 */
export function hostsRoute(deps: HostsRouteDeps) {
  return async (c: Context): Promise<Response> => {
    const filter = parseHostFilter({
      state: c.req.query('state'),
      status: c.req.query('status'),
      name: c.req.query('name'),
    });
    const limit = parseLimit(c.req.query('limit'));
    const after = parseAfter(c.req.query('after'));
    const page = await selectPage(deps.hosts, deps.order.names(), { filter, limit, after });

    const perMinute = deps.limits().snapshots_per_minute;
    const cost = SnapshotBudget.cost(page.names.length, deps.hosts.count);
    const waitS = deps.budget.take(clientAddress(c), cost);
    if (waitS > 0) {
      return c.json(
        {
          error: `too many reads of the host list from this address (at most ${perMinute} snapshots a minute); try again in ${waitS} s`,
        },
        429,
        { 'Retry-After': String(waitS) },
      );
    }

    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const last = page.names[page.names.length - 1];
    if (page.more && last !== undefined) headers.link = `<${nextPath(c, last)}>; rel="next"`;
    return c.body(streamed(c, page.names, deps), 200, headers);
  };
}

interface PageQuery {
  filter: HostFilter | undefined;
  limit: number | undefined;
  after: string | undefined;
}

/** The names on the page, in order; `more` when hosts that match come after them. */
async function selectPage(
  hosts: HostView,
  sorted: readonly string[],
  { filter, limit, after }: PageQuery,
): Promise<{ names: readonly string[]; more: boolean }> {
  const start = after === undefined ? 0 : indexAfter(sorted, after);
  if (!filter) {
    // Forgotten hosts are skipped when their piece is built, so the order can be used as it is.
    if (limit === undefined) return { names: start === 0 ? sorted : sorted.slice(start), more: false };
    return { names: sorted.slice(start, start + limit), more: start + limit < sorted.length };
  }
  const names: string[] = [];
  for (let index = start; index < sorted.length; index++) {
    if ((index - start) % SCAN_BATCH === SCAN_BATCH - 1) await fairTurn();
    const name = sorted[index]!;
    const now = hosts.stateOf(name);
    if (!now || !filter(name, now.state, now.status)) continue;
    if (names.length === limit) return { names, more: true };
    names.push(name);
  }
  return { names, more: false };
}

/**
 * The body, a piece per read. The stream is pulled only when the socket has taken what came
 * before, so at most one piece waits for a client; one that takes nothing for
 * `client_stall_seconds` is cut off.
 */
function streamed(c: Context, names: readonly string[], deps: HostsRouteDeps): ReadableStream<Uint8Array> {
  const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
  const stallMs = deps.limits().client_stall_seconds * 1000;
  const pieces = hostPieces(names, deps.source);
  let opened = false;
  let stallTimer: NodeJS.Timeout | undefined;
  const stopWatching = () => clearTimeout(stallTimer);
  const watch = () => {
    stopWatching();
    stallTimer = setTimeout(() => outgoing?.destroy(), stallMs);
    stallTimer.unref();
  };
  outgoing?.once('finish', stopWatching);
  outgoing?.once('close', stopWatching);
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        stopWatching();
        try {
          const next = await pieces.next();
          if (next.done) {
            controller.enqueue(Buffer.from(opened ? ']' : '[]'));
            controller.close();
          } else {
            controller.enqueue(Buffer.from(`${opened ? ',' : '['}${next.value.text}`));
            opened = true;
          }
          watch();
        } catch (error) {
          deps.onUnexpectedError(error);
          // Cut short rather than ended: the client must not take half a list for all of it.
          if (outgoing) outgoing.destroy();
          else controller.error(error);
        }
      },
      cancel() {
        stopWatching();
        void pieces.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

function nextPath(c: Context, last: string): string {
  const query = new URLSearchParams();
  for (const key of ['state', 'status', 'name', 'limit']) {
    const value = c.req.query(key);
    if (value !== undefined) query.set(key, value);
  }
  query.set('after', last);
  return `/api/hosts?${query.toString()}`;
}

function parseLimit(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const limit = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(limit) || limit < 1) {
    throw new HttpError(400, `limit: expected a whole number of hosts, 1 or more, got "${value}"`);
  }
  return limit;
}

function parseAfter(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.length > MAX_CURSOR_LENGTH) {
    throw new HttpError(400, `after: expected a host name (at most ${MAX_CURSOR_LENGTH} characters)`);
  }
  return value.toLowerCase();
}

/** The client's address as the socket says; behind a reverse proxy, the proxy's. */
export function clientAddress(c: Context): string {
  return (c.env as Partial<HttpBindings> | undefined)?.incoming?.socket.remoteAddress ?? 'unknown';
}
