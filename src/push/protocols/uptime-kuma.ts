import type { Context } from 'hono';
import { clientAddress } from '../client-address.js';
import { FAIL, type PushPings, SUCCESS } from '../ping.js';
import { definePushProtocol, type PushRoute } from '../protocol.js';

const ID = 'uptime-kuma';
/** Uptime Kuma's bound on `ping` (response time, ms), from 2.1 on. */
const MAX_PING_MS = 100_000_000_000;
// Uptime Kuma's own answers, word for word, so that its clients read them as they do Kuma's.
const BAD_PING = `Invalid ping value. Must be between 0 and ${MAX_PING_MS} ms.`;
const NOT_FOUND = 'Monitor not found or not active.';

/**
 * Uptime Kuma 2.x (`router.all("/api/push/:pushToken")` in server/routers/api-router.js, the same
 * from 2.1 to 2.5), read as Kuma reads it:
 *
 *     let msg = request.query.msg || "OK";
 *     let ping = parseFloat(request.query.ping) || null;
 *     let statusString = request.query.status || "up";
 *     const statusFromParam = statusString === "up" ? UP : DOWN;
 *     if (ping !== null && (ping < 0 || ping > MAX_PING_MS)) throw new Error(`Invalid ping value. …`);
 *
 * and every error answered `404 {"ok": false, "msg": …}`. So `ping=abc` (or `ping=0`) is no ping
 * value rather than an error, and a missing `msg` is "OK". Any method; the body is not read.
 */
function handle(c: Context, pings: PushPings): Response {
  const ping = pingOf(c.req.queries('ping'));
  // Checked before the token, as Kuma does.
  if (ping !== null && (ping < 0 || ping > MAX_PING_MS)) {
    pings.refuse(ID, 'bad');
    return c.json({ ok: false, msg: BAD_PING }, 404);
  }
  const host = pings.hostOfToken(c.req.param('token') ?? '');
  if (host === undefined) {
    pings.refuse(ID, 'not_found');
    return c.json({ ok: false, msg: NOT_FOUND }, 404);
  }
  pings.apply({
    protocol: ID,
    host,
    signal: isUp(c.req.queries('status')) ? SUCCESS : FAIL,
    msg: joined(c.req.queries('msg')) || 'OK',
    addr: clientAddress(c),
    runId: undefined,
    // Kuma keeps the value with the beat; hbd keeps it as a field of the host, as a heartbeat's `key=value`.
    fields: ping === null ? {} : { ping: String(ping) },
  });
  return c.json({ ok: true });
}

const route = (path: string): PushRoute => ({ methods: 'all', path, handle: (c, pings) => handle(c, pings) });

/**
 * Uptime Kuma: `/api/push/{token}[/]?status=up|down&msg=…&ping=…`, any method, JSON answers
 * `{"ok":true}`, or `404 {"ok":false,"msg":…}` for an unknown token or a `ping` out of range.
 */
export const uptimeKuma = definePushProtocol({
  id: ID,
  name: 'Uptime Kuma',
  prefixes: ['/api/push/'],
  routes: [route('/api/push/:token'), route('/api/push/:token/')],
});

/**
 * A query parameter as Kuma's query parser hands it on: absent, one value, or, given more than
 * once, a list, which JavaScript turns into the values joined by commas wherever it needs text.
 */
function joined(values: string[] | undefined): string | undefined {
  return values?.join(',');
}

/** `(status || "up") === "up"`: a list (a status given twice) is never `"up"`. */
function isUp(values: string[] | undefined): boolean {
  if (values === undefined) return true;
  return values.length === 1 && (values[0] || 'up') === 'up';
}

/** `parseFloat(ping) || null`: a leading number is read and the rest ignored; none, NaN or 0 is null. */
function pingOf(values: string[] | undefined): number | null {
  return Number.parseFloat(joined(values) ?? '') || null;
}
