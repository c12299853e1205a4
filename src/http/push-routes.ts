import { Hono, type MiddlewareHandler } from 'hono';
import type { PushPings } from '../push/ping.js';
import type { PushProtocol } from '../push/protocol.js';
import { PUSH_PROTOCOLS } from '../push/protocols/index.js';

/**
 * The push endpoints: every protocol of the list (push/protocols/index.ts), each answering as the
 * service whose clients it serves (docs/push.md). They need no API token or session: the token
 * in the request is the credential. Mount them before other routes; a path a protocol finds not
 * to be a ping is passed on to the routes after them.
 */
export function pushRoutes(pings: PushPings, protocols: readonly PushProtocol[] = PUSH_PROTOCOLS): Hono {
  const app = new Hono();
  for (const protocol of protocols) {
    for (const route of protocol.routes) {
      const handler: MiddlewareHandler = async (c, next) => route.handle(c, pings, next);
      if (route.methods === 'all') app.all(route.path, handler);
      else app.on([...route.methods], route.path, handler);
    }
  }
  return app;
}
