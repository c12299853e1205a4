import type { Config } from '../config/schema.js';
import { createUpdater, type DnsUpdaterSettings } from '../dns/create-updater.js';
import type { DnsUpdaterContext } from '../dns/define-updater.js';
import type { DnsPublisherOptions, DnsPublishSettings, HeartbeatSource } from '../dns/publisher.js';
import type { HostView } from '../state/host-view.js';

type DnsConfig = Pick<Config, 'dns' | 'dyndomains' | 'nsupdate_bin'>;

/** What the publisher publishes, from `dyndomains` and the `dns:` section (seconds in the config, ms inside). */
export function dnsPublishSettingsOf(config: Pick<Config, 'dns' | 'dyndomains'>): DnsPublishSettings {
  const { dns } = config;
  return {
    dyndomains: config.dyndomains,
    zone: dns.zone,
    ttl: dns.ttl,
    onDown: dns.on_down,
    allowUnsigned: dns.allow_unsigned,
    allowPrivate: dns.allow_private,
    refreshMs: dns.refresh * 1000,
    retryMaxMs: dns.retry_max * 1000,
  };
}

/** The `dns:` section as the updater `dns.method` names reads it, and what it gets besides. */
export function dnsUpdaterSettingsOf(config: DnsConfig): [DnsUpdaterSettings, DnsUpdaterContext] {
  return [config.dns, { nsupdateBin: config.nsupdate_bin }];
}

/** The publisher's settings and updater; the caller adds the store, bus, clock, log and lookups. */
export function dnsPublisherOptionsOf(config: DnsConfig): Pick<DnsPublisherOptions, 'settings' | 'updater'> {
  return { settings: dnsPublishSettingsOf(config), updater: createUpdater(...dnsUpdaterSettingsOf(config)) };
}

/**
 * What the publisher's `sync` re-sends for a host: the host as hbd knows it, marked as reporting
 * over HTTP when it is a push host, so that the publisher's one rule for such hosts applies.
 */
export function dnsLookupOf(
  hosts: Pick<HostView, 'find'>,
  isPushHost: (host: string) => boolean,
): (host: string) => HeartbeatSource | undefined {
  return (host) => {
    const record = hosts.find(host);
    if (record === undefined) return undefined;
    const { addr, ip4, ip6, signed } = record;
    return { host, addr, ip4, ip6, signed, via: isPushHost(host) ? 'http' : undefined };
  };
}
