import type { Context, Next } from 'hono';
import { messageOf, PING_BODY_LIMIT_BYTES, readBodyPrefix } from '../body.js';
import { clientAddress } from '../client-address.js';
import { FAIL, LOG, type PingSignal, type PushPings, START, SUCCESS } from '../ping.js';
import { definePushProtocol, withoutTrailingSlash } from '../protocol.js';

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
const FAST_OK_HEADERS = { 'Content-Type': 'text/plain; charset=UTF-8', ...PING_HEADERS };
const FAST_PREFIX = '/ping/';
const MAX_EXIT_CODE = 255;
const ID = 'healthchecks';

/**
 * The signal of a URL suffix; `bad-exit-code` for a number past 255 (which Healthchecks.io answers
 * with 400), undefined for a suffix that means nothing (404).
 */
export function signalOf(suffix: string | undefined): PingSignal | 'bad-exit-code' | undefined {
  switch (suffix) {
    case undefined:
    case '':
      return SUCCESS;
    case 'start':
      return START;
    case 'fail':
      return FAIL;
    case 'log':
      return LOG;
  }
  if (!/^\d+$/.test(suffix)) return undefined;
  const code = Number(suffix);
  if (code > MAX_EXIT_CODE) return 'bad-exit-code';
  return code === 0 ? SUCCESS : { kind: 'fail', exitCode: code };
}

/**
 * Healthchecks.io: `/ping/{token}[/start|/fail|/log|/{exit}]`, `/ping/{ping_key}/{host}[/suffix]
 * [?create=1]`, and the same without `/ping` (as the hosted service is pinged), each also with a
 * trailing slash. GET, POST (the body is the message) and HEAD. Answers `OK`, `Created`,
 * `not found`, `invalid url format`.
 *
 * A path without the `/ping` prefix is a ping only when its first part is a known token, the
 * ping key, or UUID-shaped; anything else is passed on to the rest of hbd.
 */
export const healthchecks = definePushProtocol({
  id: ID,
  name: 'Healthchecks.io',
  prefixes: ['/ping/'],
  routes: [
    {
      // One route for every form, split by hand: routes with parameters at the root would push
      // hono onto its slower router for every path hbd serves.
      methods: ['GET', 'POST'],
      path: '/*',
      handle(c, pings, next) {
        const parts = withoutTrailingSlash(c.req.path).slice(1).split('/');
        const prefixed = parts[0] === 'ping';
        const segments = prefixed ? parts.slice(1) : parts;
        if (segments.length === 0 || segments.length > 3 || segments.includes('')) {
          return prefixed ? notFound(c, pings) : next();
        }
        return route(c, pings, segments, prefixed ? undefined : next);
      },
    },
  ],
  fastPath(method, url, pings, addr) {
    // `GET /ping/{token}` (or `/ping/{token}/`), the one request a fleet of cron jobs sends most.
    // A suffix, a query or an encoded character goes to the route, which answers it exactly as
    // it always does.
    if (
      (method !== 'GET' && method !== 'HEAD') ||
      !url.startsWith(FAST_PREFIX) ||
      url.indexOf('?') >= 0 ||
      url.indexOf('%') >= 0
    ) {
      return undefined;
    }
    const token = withoutTrailingSlash(url).slice(FAST_PREFIX.length);
    if (token.indexOf('/') >= 0) return undefined;
    const host = pings.hostOfToken(token);
    if (host === undefined) return undefined;
    pings.apply({ protocol: ID, host, signal: SUCCESS, msg: undefined, addr: addr(), runId: undefined });
    return { status: 200, headers: FAST_OK_HEADERS, body: 'OK' };
  },
});

/** `next` is given for paths without the `/ping` prefix, which are ours only when they fit. */
async function route(c: Context, pings: PushPings, segments: string[], next?: Next) {
  const [first, second, third] = segments as [string, string?, string?];
  const tokenHost = pings.hostOfToken(first);
  if (tokenHost !== undefined) {
    if (third !== undefined) return notFound(c, pings);
    return answerPing(c, pings, tokenHost, second, false);
  }
  if (second !== undefined && pings.isPingKey(first)) {
    const create = c.req.query('create') === '1';
    const lookup = pings.lookUpSlug(second, create);
    if (!lookup.found) return notFound(c, pings);
    return answerPing(c, pings, lookup.host, third, create);
  }
  if (next !== undefined && !UUID.test(first)) return next();
  return notFound(c, pings);
}

async function answerPing(
  c: Context,
  pings: PushPings,
  host: string,
  suffix: string | undefined,
  mayCreate: boolean,
) {
  const signal = signalOf(suffix);
  if (signal === undefined) return notFound(c, pings);
  if (signal === 'bad-exit-code') return badRequest(c, pings, 'invalid url format');
  const runId = c.req.query('rid');
  if (runId !== undefined && !UUID.test(runId)) return badRequest(c, pings, 'invalid uuid format');
  let msg: string | undefined;
  if (c.req.method === 'POST') {
    try {
      msg = messageOf(await readBodyPrefix(c.req.raw.body, PING_BODY_LIMIT_BYTES));
    } catch {
      // The client went away mid-body: what it meant is unknown, so nothing is applied.
      return badRequest(c, pings, 'incomplete request body');
    }
  }
  const { created } = pings.apply({
    protocol: ID,
    host,
    signal,
    msg,
    addr: clientAddress(c),
    runId: runId?.toLowerCase(),
  });
  return created && mayCreate ? c.text('Created', 201, PING_HEADERS) : c.text('OK', 200, PING_HEADERS);
}

function notFound(c: Context, pings: PushPings) {
  pings.refuse(ID, 'not_found');
  return c.text('not found', 404, PING_HEADERS);
}

function badRequest(c: Context, pings: PushPings, answer: string) {
  pings.refuse(ID, 'bad');
  return c.text(answer, 400, PING_HEADERS);
}
