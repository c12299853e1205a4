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

type UnionToIntersection<U> = (U extends unknown ? (union: U) => void : never) extends (
  intersection: infer I,
) => void
  ? I
  : never;

/** The keys of every updater, as one shape. */
export type DnsUpdaterShape = UnionToIntersection<(typeof DNS_UPDATERS)[number]['schema']>;

/**
 * Every updater's keys of `dns:`, once each (updaters that share a key share its schema). The
 * keys that are file paths take `filePath` instead, when given: the config's own path schema,
 * which resolves `~` and paths relative to the config file, and gives the same output type.
 */
export function dnsUpdaterKeys(filePath?: z.core.$ZodType): DnsUpdaterShape {
  const shape: Record<string, z.core.$ZodType> = {};
  for (const updater of DNS_UPDATERS as readonly AnyDnsUpdater[]) {
    for (const [key, schema] of Object.entries(updater.schema)) {
      const other = shape[key];
      if (other !== undefined && other !== schema)
        throw new Error(`DNS updater ${updater.name}: dns.${key} is declared differently by another updater`);
      shape[key] = schema;
    }
  }
  if (filePath) for (const key of DNS_FILE_KEYS) shape[key] = filePath;
  return shape as DnsUpdaterShape;
}

/** Keys of `dns:` whose values are secrets, by any updater. */
export const DNS_SECRET_KEYS: readonly string[] = [
  ...new Set((DNS_UPDATERS as readonly AnyDnsUpdater[]).flatMap((updater) => updater.secretKeys ?? [])),
];

/** Keys of `dns:` that are file paths, by any updater. */
export const DNS_FILE_KEYS: readonly string[] = [
  ...new Set((DNS_UPDATERS as readonly AnyDnsUpdater[]).flatMap((updater) => updater.files ?? [])),
];
