import { isIPv4 } from 'node:net';
import type { HttpBindings } from '@hono/node-server';
import { type Context, Hono, type Next } from 'hono';
import { messageOf, PING_BODY_LIMIT_BYTES, readBodyPrefix } from '../push/body.js';
import { FAIL, type PushPings, SUCCESS, signalOf } from '../push/ping.js';

/**
 * Healthchecks.io's check UUIDs (and run ids) in canonical form. Paths of this shape belong to
 * the push endpoints even without the `/ping` prefix: nothing else hbd serves looks like one.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const PING_HEADERS = {
  'Ping-Body-Limit': String(PING_BODY_LIMIT_BYTES),
  // As Healthchecks.io answers: a page in a browser may ping too; the answer holds nothing.
  'Access-Control-Allow-Origin': '*',
};

/** Uptime Kuma's limit on `ping` (response time, ms): a day. */
const MAX_PING_MS = 86_400_000;
const KUMA_NOT_FOUND = 'Monitor not found or not active.';

const METHODS = ['GET', 'POST'];

/**
 * The push endpoints, answering as the services whose clients they serve (docs/push.md):
 *
 * - Healthchecks.io: `/ping/{token}[/start|/fail|/log|/{exit}]`,
 *   `/ping/{ping_key}/{host}[/suffix][?create=1]`, and the same without `/ping` (as the hosted
 *   service is pinged). GET, POST (the body is the message) and HEAD. `OK`, `Created`,
 *   `not found`, `invalid url format`.
 * - Uptime Kuma: `/api/push/{token}?status=up|down&msg=…&ping=…`, any method, JSON answers.
 *
 * They need no API token or session: the token in the URL is the credential. Mount them
 * before other routes; a path without a `/ping` or `/api/push` prefix that is neither a known
 * token, the ping key nor UUID-shaped is passed on to the routes after them.
 */
export function pushRoutes(pings: PushPings): Hono {
  const app = new Hono();

  app.all('/api/push/:token', (c) => {
    const ping = c.req.query('ping');
    if (ping !== undefined && ping !== '' && !isPingMs(ping)) {
      return c.json({ ok: false, msg: `Invalid ping value: expected ms from 0 to ${MAX_PING_MS}` }, 400);
    }
    const host = pings.hostOfToken(c.req.param('token'));
    if (host === undefined) {
      pings.stats.unknown++;
      return c.json({ ok: false, msg: KUMA_NOT_FOUND }, 404);
    }
    const status = c.req.query('status');
    // As Uptime Kuma reads it: anything but `up` (or nothing) is down.
    const signal = status === undefined || status === '' || status === 'up' ? SUCCESS : FAIL;
    const msg = c.req.query('msg');
    pings.apply({
      host,
      signal,
      msg: msg === '' ? undefined : msg,
      addr: clientAddress(c),
      runId: undefined,
    });
    return c.json({ ok: true });
  });

  // One route for every form, split by hand: routes with parameters at the root would push
  // hono onto its slower router for every path hbd serves.
  app.on(METHODS, '/*', async (c, next) => {
    const parts = c.req.path.slice(1).split('/');
    const prefixed = parts[0] === 'ping';
    const segments = prefixed ? parts.slice(1) : parts;
    if (segments.length === 0 || segments.length > 3 || segments.includes('')) {
      return prefixed ? notFound(c) : next();
    }
    return healthchecks(c, segments, prefixed ? undefined : next);
  });

  /** `next` is given for paths without the `/ping` prefix, which are ours only when they fit. */
  async function healthchecks(c: Context, segments: string[], next?: Next) {
    const [first, second, third] = segments as [string, string?, string?];
    const tokenHost = pings.hostOfToken(first);
    if (tokenHost !== undefined) {
      if (third !== undefined) return notFound(c);
      return answerPing(c, tokenHost, second, false);
    }
    if (second !== undefined && pings.isPingKey(first)) {
      const create = c.req.query('create') === '1';
      const lookup = pings.lookUpSlug(second, create);
      if (!lookup.found) return notFound(c);
      return answerPing(c, lookup.host, third, create);
    }
    if (next !== undefined && !UUID.test(first)) return next();
    return notFound(c);
  }

  async function answerPing(c: Context, host: string, suffix: string | undefined, mayCreate: boolean) {
    const signal = signalOf(suffix);
    if (signal === undefined) return notFound(c);
    if (signal === 'bad-exit-code') return c.text('invalid url format', 400, PING_HEADERS);
    const runId = c.req.query('rid');
    if (runId !== undefined && !UUID.test(runId)) return c.text('invalid uuid format', 400, PING_HEADERS);
    let msg: string | undefined;
    if (c.req.method === 'POST') {
      try {
        msg = messageOf(await readBodyPrefix(c.req.raw.body, PING_BODY_LIMIT_BYTES));
      } catch {
        // The client went away mid-body: what it meant is unknown, so nothing is applied.
        return c.text('incomplete request body', 400, PING_HEADERS);
      }
    }
    const { created } = pings.apply({
      host,
      signal,
      msg,
      addr: clientAddress(c),
      runId: runId?.toLowerCase(),
    });
    return created && mayCreate ? c.text('Created', 201, PING_HEADERS) : c.text('OK', 200, PING_HEADERS);
  }

  function notFound(c: Context) {
    pings.stats.unknown++;
    return c.text('not found', 404, PING_HEADERS);
  }

  return app;
}

function isPingMs(value: string): boolean {
  const ms = Number(value);
  return value.trim() !== '' && Number.isFinite(ms) && ms >= 0 && ms <= MAX_PING_MS;
}

/**
 * The address the request came from, as the socket has it. Headers such as X-Forwarded-For are
 * ignored: any client can write them.
 */
function clientAddress(c: Context): string {
  const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
  return socketAddress(incoming?.socket.remoteAddress);
}

export function socketAddress(remoteAddress: string | undefined): string {
  const address = remoteAddress ?? '';
  // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; heartbeats report them plainly.
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}
