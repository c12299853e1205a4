import { Hono } from 'hono';
import type { Registry } from 'prom-client';
import type { ClusterStatus } from '../cluster/status.js';
import type { DnsPublisher } from '../dns/publisher.js';
import { errorMessage } from '../lib/error-message.js';
import type { NotifyEngine } from '../notify/engine.js';
import type { Silences } from '../notify/silences.js';
import type { PushPings } from '../push/ping.js';
import { isPushPath } from '../push/protocols/index.js';
import type { HostView } from '../state/host-view.js';
import type { Monitor } from '../state/monitor.js';
import type { Store } from '../store/store.js';
import type { Access } from './access.js';
import { authRoutes } from './auth-routes.js';
import { beatsJson } from './beats-json.js';
import { clusterRoutes } from './cluster-routes.js';
import { dashboardRoutes } from './dashboard.js';
import { HttpError } from './errors.js';
import { eventJson } from './event-json.js';
import { hostJson } from './host-json.js';
import type { HostOrder } from './host-order.js';
import type { HostSource } from './host-pieces.js';
import { hostsRoute } from './hosts-route.js';
import { outboxRoutes } from './outbox-routes.js';
import { pushRoutes } from './push-routes.js';
import { silenceRoutes } from './silence-routes.js';
import type { SnapshotBudget } from './snapshot-budget.js';
import { uptimeJson, WEEK_MS } from './uptime-json.js';

export interface ApiDeps {
  /** For forgetting a host: the one write the API makes to the state machine. */
  monitor: Pick<Monitor, 'forget'>;
  /** The hosts as the API reads them. */
  hostView: HostView;
  store: Store;
  metrics: Registry;
  /** Who may read and write; reads the config on every request, so a reload takes effect at once. */
  access: Access;
  startedAt: number;
  onUnexpectedError: (error: unknown) => void;
  /** What is wrong while hbd still runs (a full disk, say), for /healthz; empty when nothing is. */
  degraded?: () => string[];
  /** The hosts in name order, and how each is read: `GET /api/hosts` streams them. */
  hostOrder: HostOrder;
  hosts: HostSource;
  /** Shared with /ws: how many snapshots each client address may take. */
  snapshotBudget: SnapshotBudget;
  /** Read on every request, so that a reload applies at once. */
  limits: () => { snapshots_per_minute: number; client_stall_seconds: number };
  /** The notification engine, for the outbox and channel health. */
  notify?: Pick<NotifyEngine, 'channelStats'>;
  /**
   * Stores the transitions made in this event-loop turn. Called before every API read,
   * so an answer never shows a host's new state without the event that explains it.
   */
  commitPending?: () => Promise<boolean>;
  /** Present when dynamic DNS is configured. */
  dns?: Pick<DnsPublisher, 'status' | 'sync' | 'stats'>;
  /** Present when silences are kept; the routes are absent otherwise. */
  silences?: Silences;
  /** Where the built dashboard is; see `dashboardRoutes`. */
  dashboardDir?: string;
  /** The push endpoints (docs/push.md); absent, their paths are not served. */
  push?: PushPings;
  /** The cluster as this node sees it; undefined on a single node. */
  cluster?: () => ClusterStatus | undefined;
}

const HOST_EVENTS_SHOWN = 50;
const MAX_EVENTS_PER_PAGE = 1000;
/** A week of a host flapping every few seconds; more is not worth reading for one number. */
const MAX_UPTIME_EVENTS = 200_000;

/** The HTTP API. Every error is JSON `{ "error": "…" }` with the status that fits. */
export function createApi(deps: ApiDeps): Hono {
  const { monitor, store, hostView } = deps;
  const dnsStatus = deps.dns && ((host: string) => deps.dns!.status(host));
  const app = new Hono();
  // First, so that no route under /api can be reached around it.
  app.use('/api/*', deps.access.requireReader);
  app.use('/metrics', deps.access.requireReader);
  if (deps.commitPending) {
    const commitPending = deps.commitPending;
    app.use('/api/*', async (_c, next) => {
      await commitPending();
      await next();
    });
  }
  // Before the other routes: they carry their own secret (`requireReader` lets /api/push/ pass),
  // and a path of theirs that holds no known token is passed on to the routes below.
  if (deps.push) app.route('/', pushRoutes(deps.push));
  app.route('/', authRoutes(deps.access));
  const detailOf = (param: string) => {
    const name = param.toLowerCase();
    const host = hostView.detail(name);
    if (!host) throw new HttpError(404, `no host named "${name}"`);
    return host;
  };

  app.get('/healthz', (c) => {
    // Still `ok`: hbd hears heartbeats and answers. `degraded` says what it cannot do meanwhile.
    const degraded = deps.degraded?.() ?? [];
    return c.json({
      ok: true,
      ...(degraded.length > 0 ? { degraded } : {}),
      hosts: hostView.count,
      uptime_s: Math.round((Date.now() - deps.startedAt) / 1000),
    });
  });

  app.route('/', clusterRoutes(deps.cluster ?? (() => undefined)));

  app.get('/metrics', async (c) => {
    const body = await deps.metrics.metrics();
    return c.body(body, 200, { 'content-type': deps.metrics.contentType });
  });

  app.get(
    '/api/hosts',
    hostsRoute({
      hosts: hostView,
      order: deps.hostOrder,
      source: deps.hosts,
      budget: deps.snapshotBudget,
      limits: deps.limits,
      onUnexpectedError: deps.onUnexpectedError,
    }),
  );

  app.get('/api/hosts/:name', async (c) => {
    const host = detailOf(c.req.param('name'));
    try {
      const events = (await store.events.list({ host: host.name, limit: HOST_EVENTS_SHOWN })).map(eventJson);
      return c.json({ ...hostJson(host, dnsStatus), events });
    } catch (error) {
      // The host is known from memory; only its history is in the store, which cannot be read
      // now (the store's own failure is logged and on /healthz: not once per request here).
      return c.json({
        ...hostJson(host, dnsStatus),
        events: [],
        events_error: `the history cannot be read: ${errorMessage(error)}`,
      });
    }
  });

  app.get('/api/hosts/:name/beats', (c) => {
    const name = c.req.param('name').toLowerCase();
    const beats = hostView.recentBeats(name);
    if (!beats) throw new HttpError(404, `no host named "${name}"`);
    return c.json(beatsJson(beats));
  });

  app.get('/api/hosts/:name/uptime', async (c) => {
    const { name, state, firstSeen } = detailOf(c.req.param('name'));
    const now = Date.now();
    const events = await store.events.list({ host: name, since: now - WEEK_MS, limit: MAX_UPTIME_EVENTS });
    return c.json(uptimeJson({ events, currentState: state, firstSeen, now }));
  });

  app.delete('/api/hosts/:name', async (c) => {
    await deps.access.authorizeWrite(c);
    const name = c.req.param('name').toLowerCase();
    if (!monitor.forget(name, 'forgotten through the API'))
      throw new HttpError(404, `no host named "${name}"`);
    return c.json({ ok: true, forgotten: name });
  });

  app.post('/api/dns/sync', async (c) => {
    await deps.access.authorizeWrite(c);
    if (!deps.dns) throw new HttpError(409, 'dynamic DNS is not configured (set dyndomains)');
    const host = c.req.query('host')?.toLowerCase();
    if (host !== undefined && !hostView.has(host)) throw new HttpError(404, `no host named "${host}"`);
    return c.json({ ok: true, queued: deps.dns.sync(host) });
  });

  app.get('/api/events', async (c) => {
    const host = c.req.query('host')?.toLowerCase();
    const since = parseSince(c.req.query('since'));
    const limit = parseLimit(c.req.query('limit'));
    return c.json((await store.events.list({ host, since, limit })).map(eventJson));
  });

  if (deps.silences) app.route('/', silenceRoutes({ silences: deps.silences, access: deps.access }));
  if (deps.notify) app.route('/', outboxRoutes({ outbox: store.outbox, notify: deps.notify }));

  // Last, so that an unknown /api path still gets a JSON 404 rather than a page.
  app.route('/', dashboardRoutes({ dir: deps.dashboardDir }));

  app.notFound((c) => {
    // Any other path may hold a push token (`/ping/{uuid}`, `/{uuid}` …): an answer never repeats one.
    const path = c.req.path;
    const shown = path.startsWith('/api/') && !isPushPath(path) ? ` ${path}` : '';
    return c.json({ error: `no such endpoint: ${c.req.method}${shown}` }, 404);
  });
  app.onError((error, c) => {
    if (error instanceof HttpError) return c.json({ error: error.message }, error.status);
    deps.onUnexpectedError(error);
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}

/** RFC 3339, or Unix seconds. */
function parseSince(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  if (Number.isNaN(ms))
    throw new HttpError(400, `since: expected an RFC 3339 time or Unix seconds, got "${value}"`);
  return ms;
}

function parseLimit(value: string | undefined): number {
  if (value === undefined) return 100;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENTS_PER_PAGE) {
    throw new HttpError(400, `limit: expected an integer from 1 to ${MAX_EVENTS_PER_PAGE}, got "${value}"`);
  }
  return limit;
}
