import { Hono, type MiddlewareHandler } from 'hono';
import type { PushPings } from '../push/ping.js';
import type { PushProtocol } from '../push/protocol.js';
import { PUSH_PROTOCOLS } from '../push/protocols/index.js';
import type { PingRecord } from '../store/ping-store.js';
import { rfc3339 } from './host-json.js';

/**
 * The push endpoints: every protocol of the list (push/protocols/index.ts), each answering as the
 * service whose clients it serves (docs/push.md). They need no API token or session: the token
 * in the request is the credential. Mount them before other routes; a path a protocol finds not
 * to be a ping is passed on to the routes after them.
 *
 * Also what the pings said: `GET /api/hosts/{name}/pings`, a host's last pings. That one is part
 * of the API, not a push endpoint: like every `/api/` path it passes the API's access check first
 * (app.ts), which only push paths are let through without.
 */
export function pushRoutes(pings: PushPings, protocols: readonly PushProtocol[] = PUSH_PROTOCOLS): Hono {
  const app = new Hono();
  app.get('/api/hosts/:name/pings', async (c) => {
    const name = c.req.param('name').toLowerCase();
    const recent = await pings.recentPings(name);
    if (recent === undefined) return c.json({ error: `no host named "${name}"` }, 404);
    return c.json({ pings: recent.map(pingJson) });
  });
  for (const protocol of protocols) {
    for (const route of protocol.routes) {
      const handler: MiddlewareHandler = async (c, next) => route.handle(c, pings, next);
      if (route.methods === 'all') app.all(route.path, handler);
      else app.on([...route.methods], route.path, handler);
    }
  }
  return app;
}

/** A kept ping as the API shows it (docs/api.md, "Hosts"). */
export function pingJson(ping: PingRecord) {
  return {
    at: rfc3339(ping.at),
    protocol: ping.protocol,
    kind: ping.kind,
    exit_code: ping.exitCode,
    body: ping.body,
    addr: ping.addr,
    rid: ping.runId,
  };
}

export type PingJson = ReturnType<typeof pingJson>;
