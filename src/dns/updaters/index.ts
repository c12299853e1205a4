import type { z } from 'zod';
import type { AnyDnsUpdater } from '../define-updater.js';
import { nsupdate } from './nsupdate.js';
import { rfc2136 } from './rfc2136.js';

/**
 * Every DNS updater, the default first. To add one: a file beside this one that calls
 * `defineDnsUpdater`, a line here, and a test (see docs/dns.md, "How to add a DNS updater").
 */
export const DNS_UPDATERS = [rfc2136, nsupdate] as const satisfies readonly AnyDnsUpdater[];

export type DnsMethod = (typeof DNS_UPDATERS)[number]['name'];

/** The choices of `dns.method`. */
export const DNS_METHODS = DNS_UPDATERS.map((updater) => updater.name) as [DnsMethod, ...DnsMethod[]];

/** The updater for `dns.method`; undefined for a name no updater has. */
export function dnsUpdaterNamed(name: string): AnyDnsUpdater | undefined {
  return (DNS_UPDATERS as readonly AnyDnsUpdater[]).find((updater) => updater.name === name);
}

/** Every updater's keys of `dns:`, once each (updaters that share a key share its schema). */
export function dnsUpdaterKeys(): z.ZodRawShape {
  const shape: Record<string, z.ZodType> = {};
  for (const updater of DNS_UPDATERS as readonly AnyDnsUpdater[]) {
    for (const [key, schema] of Object.entries(updater.schema)) {
      const other = shape[key];
      if (other !== undefined && other !== schema)
        throw new Error(`DNS updater ${updater.name}: dns.${key} is declared differently by another updater`);
      shape[key] = schema;
    }
  }
  return shape;
}

/** Keys of `dns:` whose values are secrets, by any updater. */
export const DNS_SECRET_KEYS: readonly string[] = [
  ...new Set((DNS_UPDATERS as readonly AnyDnsUpdater[]).flatMap((updater) => updater.secretKeys ?? [])),
];

/** Keys of `dns:` that are file paths, by any updater. */
export const DNS_FILE_KEYS: readonly string[] = [
  ...new Set((DNS_UPDATERS as readonly AnyDnsUpdater[]).flatMap((updater) => updater.files ?? [])),
];
