import type { RequestListener } from 'node:http';
import { socketAddress } from '../push/client-address.js';
import type { PushPings } from '../push/ping.js';
import type { PushProtocol } from '../push/protocol.js';
import { PUSH_PROTOCOLS } from '../push/protocols/index.js';

/**
 * The requests a fleet of cron jobs sends most (`GET /ping/{token}`, say), answered straight
 * from node:http: building the framework's Request and Response for them costs about a third
 * of their time. Each protocol of the list that has a fast path is asked in turn; anything none
 * of them takes (an unknown token, a suffix, a query…) goes to the full routes, which answer
 * it exactly as they always do.
 */
export function withPingFastPath(
  pings: PushPings,
  next: RequestListener,
  protocols: readonly PushProtocol[] = PUSH_PROTOCOLS,
): RequestListener {
  const fastPaths = protocols.flatMap((protocol) => (protocol.fastPath ? [protocol.fastPath] : []));
  return (request, response) => {
    const url = request.url ?? '';
    const method = request.method ?? '';
    const addr = () => socketAddress(request.socket.remoteAddress);
    for (const fastPath of fastPaths) {
      const answer = fastPath(method, url, pings, addr);
      if (answer === undefined) continue;
      response.writeHead(answer.status, answer.headers);
      response.end(method === 'HEAD' ? undefined : answer.body);
      return;
    }
    next(request, response);
  };
}
