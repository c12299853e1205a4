import { Hono } from 'hono';
import type { Registry } from 'prom-client';
import type { DnsPublisher } from '../dns/publisher.js';
import type { NotifyEngine } from '../notify/engine.js';
import type { Silences } from '../notify/silences.js';
import type { Monitor } from '../state/monitor.js';
import type { Store } from '../store/store.js';
import { requireBearer } from './bearer.js';
import { HttpError } from './errors.js';
import { eventJson } from './event-json.js';
import { hostJson } from './host-json.js';
import { outboxRoutes } from './outbox-routes.js';
import { silenceRoutes } from './silence-routes.js';

export interface ApiDeps {
  monitor: Monitor;
  store: Store;
  metrics: Registry;
  /** Read on every write call, so a config reload takes effect at once. */
  apiToken: () => string | null;
  startedAt: number;
  onUnexpectedError: (error: unknown) => void;
  /** The notification engine, for the outbox and channel health. */
  notify?: NotifyEngine;
  /** Present when dynamic DNS is configured. */
  dns?: DnsPublisher;
  /** Present when silences are kept; the routes are absent otherwise. */
  silences?: Silences;
}

const HOST_EVENTS_SHOWN = 50;
const MAX_EVENTS_PER_PAGE = 1000;

/** The HTTP API. Every error is JSON `{ "error": "…" }` with the status that fits. */
export function createApi(deps: ApiDeps): Hono {
  const { monitor, store } = deps;
  const dnsStatus = deps.dns && ((host: string) => deps.dns!.status(host));
  const app = new Hono();

  app.get('/healthz', (c) =>
    c.json({
      ok: true,
      hosts: monitor.table.size,
      uptime_s: Math.round((Date.now() - deps.startedAt) / 1000),
    }),
  );

  app.get('/metrics', async (c) => {
    const body = await deps.metrics.metrics();
    return c.body(body, 200, { 'content-type': deps.metrics.contentType });
  });

  app.get('/api/hosts', (c) => {
    const hosts = [];
    for (const slot of monitor.table.slots()) hosts.push(hostJson(monitor, slot, dnsStatus));
    hosts.sort((a, b) => (a.name < b.name ? -1 : 1));
    return c.json(hosts);
  });

  app.get('/api/hosts/:name', (c) => {
    const name = c.req.param('name').toLowerCase();
    const slot = monitor.table.find(name);
    if (slot < 0) throw new HttpError(404, `no host named "${name}"`);
    const events = store.events({ host: name, limit: HOST_EVENTS_SHOWN }).map(eventJson);
    return c.json({ ...hostJson(monitor, slot, dnsStatus), events });
  });

  app.delete('/api/hosts/:name', (c) => {
    requireBearer(c.req.header('authorization'), deps.apiToken());
    const name = c.req.param('name').toLowerCase();
    if (!monitor.forget(name, 'forgotten through the API'))
      throw new HttpError(404, `no host named "${name}"`);
    return c.json({ ok: true, forgotten: name });
  });

  app.post('/api/dns/sync', (c) => {
    requireBearer(c.req.header('authorization'), deps.apiToken());
    if (!deps.dns) throw new HttpError(409, 'dynamic DNS is not configured (set dyndomains)');
    const host = c.req.query('host')?.toLowerCase();
    if (host !== undefined && monitor.table.find(host) < 0)
      throw new HttpError(404, `no host named "${host}"`);
    return c.json({ ok: true, queued: deps.dns.sync(host) });
  });

  app.get('/api/events', (c) => {
    const host = c.req.query('host')?.toLowerCase();
    const since = parseSince(c.req.query('since'));
    const limit = parseLimit(c.req.query('limit'));
    return c.json(store.events({ host, since, limit }).map(eventJson));
  });

  if (deps.silences) app.route('/', silenceRoutes({ silences: deps.silences, apiToken: deps.apiToken }));
  if (deps.notify) app.route('/', outboxRoutes({ outbox: store.outbox, notify: deps.notify }));

  app.notFound((c) => c.json({ error: `no such endpoint: ${c.req.method} ${c.req.path}` }, 404));
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
