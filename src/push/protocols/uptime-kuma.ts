import { clientAddress } from '../client-address.js';
import { FAIL, SUCCESS } from '../ping.js';
import { definePushProtocol } from '../protocol.js';

/** Uptime Kuma's limit on `ping` (response time, ms): a day. */
const MAX_PING_MS = 86_400_000;
const NOT_FOUND = 'Monitor not found or not active.';

/**
 * Uptime Kuma: `/api/push/{token}?status=up|down&msg=…&ping=…`, any method, JSON answers
 * `{"ok":true}`, or `{"ok":false,"msg":…}` with 404 (unknown token) or 400 (a bad `ping`).
 */
export const uptimeKuma = definePushProtocol({
  name: 'Uptime Kuma',
  prefixes: ['/api/push/'],
  routes: [
    {
      methods: 'all',
      path: '/api/push/:token',
      handle(c, pings) {
        const ping = c.req.query('ping');
        if (ping !== undefined && ping !== '' && !isPingMs(ping)) {
          return c.json({ ok: false, msg: `Invalid ping value: expected ms from 0 to ${MAX_PING_MS}` }, 400);
        }
        const host = pings.hostOfToken(c.req.param('token') ?? '');
        if (host === undefined) {
          pings.stats.unknown++;
          return c.json({ ok: false, msg: NOT_FOUND }, 404);
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
      },
    },
  ],
});

function isPingMs(value: string): boolean {
  const ms = Number(value);
  return value.trim() !== '' && Number.isFinite(ms) && ms >= 0 && ms <= MAX_PING_MS;
}
