/**
 * Child process: the baseline HTTP server, a bare `node:http` server that answers every request
 * `200 OK` the way a ping is answered, and counts them. What hbd's push endpoints cost on top of
 * HTTP itself is their ratio to this.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveParent } from './ipc.js';
import { pinToCpu } from './pin.js';
import { startProbe } from './probe.js';

let answered = 0;
const probe = startProbe();

serveParent({
  async start() {
    const server = http.createServer((request, response) => {
      answered++;
      request.resume();
      response.writeHead(200, { 'Content-Type': 'text/plain; charset=UTF-8', 'Content-Length': '2' });
      response.end('OK');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  },
  pin(body) {
    return { pinned: pinToCpu((body as { cpu: number }).cpu) };
  },
  counters() {
    return { answered };
  },
  probe,
});
