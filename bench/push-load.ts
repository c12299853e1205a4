/**
 * Child process: the load generator, autocannon over keep-alive connections, each request to
 * the next path of a list (one ping URL per push host), so every host is pinged in turn.
 */
import autocannon from 'autocannon';
import { serveParent } from './ipc.js';
import { pinToCpu } from './pin.js';

export interface LoadReport {
  /** Responses per second over the whole run. */
  rate: number;
  seconds: number;
  completed: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
}

serveParent({
  pin(body) {
    return { pinned: pinToCpu((body as { cpu: number }).cpu) };
  },
  /** `amount` set: exactly that many requests, every answer counted; else for `seconds`. */
  async run(body) {
    const { url, paths, connections, seconds, amount } = body as {
      url: string;
      paths: string[];
      connections: number;
      seconds?: number;
      amount?: number;
    };
    let next = 0;
    const started = performance.now();
    const result = await autocannon({
      url,
      connections,
      ...(amount === undefined ? { duration: seconds } : { amount }),
      requests: [
        {
          method: 'GET',
          setupRequest: (request) => {
            request.path = paths[next++ % paths.length]!;
            return request;
          },
        },
      ],
    });
    const elapsed = (performance.now() - started) / 1000;
    const completed = result['2xx'] + result.non2xx;
    return {
      rate: completed / elapsed,
      seconds: elapsed,
      completed,
      ok: result['2xx'],
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      latencyP50Ms: result.latency.p50,
      latencyP99Ms: result.latency.p99,
    } satisfies LoadReport;
  },
});
