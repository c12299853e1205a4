import { Counter, type Registry } from 'prom-client';
import { PING_OUTCOMES, type PingCounts } from '../push/ping.js';
import type { PushProtocol } from '../push/protocol.js';
import { PUSH_PROTOCOLS } from '../push/protocols/index.js';

/**
 * `hbd_pings_total{protocol,outcome}`: HTTP pings by push protocol and what came of them (the
 * outcomes of `PING_OUTCOMES`, docs/push.md). The push endpoints keep plain counters (`PushPings.
 * counts`), read here only when /metrics is scraped; every protocol and outcome is written, at 0
 * until it happens, so that a rate over them starts from the first scrape.
 */
export function registerPingMetrics(
  registry: Registry,
  pings: { readonly counts: PingCounts },
  protocols: readonly PushProtocol[] = PUSH_PROTOCOLS,
): void {
  new Counter({
    name: 'hbd_pings_total',
    help: 'HTTP pings (push endpoints), by protocol and outcome: what a ping said, or why it was refused.',
    labelNames: ['protocol', 'outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { id } of protocols) {
        const counts = pings.counts.get(id);
        for (const outcome of PING_OUTCOMES) this.inc({ protocol: id, outcome }, counts?.[outcome] ?? 0);
      }
    },
  });
}
