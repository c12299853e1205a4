import { isIPv4, isIPv6 } from 'node:net';
import type { HostRecord } from '../model/host.js';

/** The addresses to publish for a host: what it asked for (`ip4`/`ip6`), else where it sent from. */
export function publishAddresses(host: Pick<HostRecord, 'addr' | 'ip4' | 'ip6'>): {
  ip4: string | null;
  ip6: string | null;
} {
  return {
    ip4: host.ip4 ?? (isIPv4(host.addr) ? host.addr : null),
    ip6: host.ip6 ?? (isIPv6(host.addr) ? host.addr : null),
  };
}
