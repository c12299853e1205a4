import type { RequestListener } from 'node:http';
import { type PushPings, SUCCESS } from '../push/ping.js';
import { PING_HEADERS, socketAddress } from './push-routes.js';

const PREFIX = '/ping/';
const OK_HEADERS = { 'Content-Type': 'text/plain; charset=UTF-8', ...PING_HEADERS };

/**
 * The one request a fleet of cron jobs sends most, `GET /ping/{token}`, answered straight
 * from node:http: building the framework's Request and Response for it costs about a third
 * of its time. Anything else, including an unknown token, a suffix, a query or an encoded
 * character, goes to the full routes, which answer it exactly as they always do.
 */
export function withPingFastPath(pings: PushPings, next: RequestListener): RequestListener {
  return (request, response) => {
    const url = request.url ?? '';
    const method = request.method;
    if (
      (method === 'GET' || method === 'HEAD') &&
      url.startsWith(PREFIX) &&
      url.indexOf('/', PREFIX.length) < 0 &&
      url.indexOf('?') < 0 &&
      url.indexOf('%') < 0
    ) {
      const host = pings.hostOfToken(url.slice(PREFIX.length));
      if (host !== undefined) {
        pings.apply({
          host,
          signal: SUCCESS,
          msg: undefined,
          addr: socketAddress(request.socket.remoteAddress),
          runId: undefined,
        });
        response.writeHead(200, OK_HEADERS);
        response.end(method === 'HEAD' ? undefined : 'OK');
        return;
      }
    }
    next(request, response);
  };
}
