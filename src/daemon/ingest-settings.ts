import { hostPolicy } from '../config/host-policy.js';
import type { Config } from '../config/schema.js';
import { Gatekeeper } from '../ingest/gatekeeper.js';
import type { HostLimitsOptions } from '../ingest/host-limits.js';
import { withPushTiming } from '../push/tokens.js';
import type { TimingPolicy } from '../state/monitor.js';

/** The config keys each ingest part derives from, mapped to that part's own options. */

export function timingOf(config: Config): TimingPolicy {
  return {
    interval: config.interval,
    grace: config.grace,
    overrideFor: withPushTiming(config.push, hostPolicy(config)),
  };
}

export function gatekeeperOf(config: Config): Gatekeeper {
  return new Gatekeeper({
    auth: config.auth,
    keys: config.keys,
    maxSkew: config.max_skew,
    unsignedNetworks: config.unsigned_networks,
  });
}

export function hostLimitsOf(config: Config): HostLimitsOptions {
  const { max_hosts, new_hosts_per_minute, host_bytes } = config.limits;
  return { maxHosts: max_hosts, newHostsPerMinute: new_hosts_per_minute, hostBytes: host_bytes };
}
