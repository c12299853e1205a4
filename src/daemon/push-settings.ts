import type { Config } from '../config/schema.js';
import { needsSignature } from '../ingest/gatekeeper.js';
import type { PingTarget, PushOptions } from '../push/ping.js';
import type { Monitor } from '../state/monitor.js';

/** The push endpoints' options from the config: `push`, `push_ping_key`, and who must sign (`auth`, `keys`). */
export function pushOptionsOf(config: Pick<Config, 'push' | 'push_ping_key' | 'auth' | 'keys'>): PushOptions {
  return {
    hosts: config.push,
    pingKey: config.push_ping_key,
    needsSignature: (host) => needsSignature(config, host),
  };
}

/**
 * The state machine as pings reach it, by host name. `Monitor` keys runs and notes by slot, so
 * this looks the slot up; once `Monitor` offers them by name, pass it to `PushPings` as it is.
 */
export function pingTargetOf(monitor: Monitor): PingTarget {
  const slotOf = (host: string) => monitor.table.find(host);
  return {
    beat: (hb, addr, signed, via) => monitor.beat(hb, addr, signed, via),
    note(host, msg) {
      const slot = slotOf(host);
      if (slot >= 0) monitor.note(slot, msg);
    },
    startRun(host, id) {
      const slot = slotOf(host);
      if (slot >= 0) monitor.startRun(slot, id);
    },
    currentRun(host) {
      const slot = slotOf(host);
      return slot < 0 ? undefined : monitor.currentRun(slot);
    },
    endRun(host) {
      const slot = slotOf(host);
      if (slot >= 0) monitor.endRun(slot);
    },
  };
}
