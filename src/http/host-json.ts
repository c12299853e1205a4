import type { DnsStatus } from '../dns/publisher.js';
import { publishAddresses } from '../state/addresses.js';
import type { HostDetail, HostView } from '../state/host-view.js';
import type { HostSource } from './host-pieces.js';

/** The API's (and the WebSocket's) view of a host. Times are RFC 3339. */
export function hostJson(host: HostDetail, dnsStatus?: (host: string) => DnsStatus | undefined) {
  const withSeq = host.received + host.lost;
  return {
    name: host.name,
    state: host.state,
    status: host.status,
    msg: host.msg,
    fields: host.fields,
    addr: host.addr,
    publish: publishAddresses(host),
    signed: host.signed,
    first_seen: rfc3339(host.firstSeen),
    last_seen: rfc3339(host.lastSeen),
    interval: host.interval,
    grace: host.grace,
    every: host.every,
    seq: host.lastSeq,
    received: host.received,
    lost: host.lost,
    loss: withSeq === 0 ? null : Math.round((host.lost / withSeq) * 10_000) / 10_000,
    dns: dnsStatus?.(host.name) ?? null,
  };
}

export type HostJson = ReturnType<typeof hostJson>;

export function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

/** The hosts the API and the live feed list, read one at a time by name (see `hostPieces`). */
export function hostSource(
  hosts: HostView,
  dnsStatus: ((host: string) => DnsStatus | undefined) | undefined,
  onHostError: (name: string, error: unknown) => void,
): HostSource {
  return {
    json(name) {
      const host = hosts.detail(name);
      return host && hostJson(host, dnsStatus);
    },
    onHostError,
  };
}
