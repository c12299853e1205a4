import type { DnsUpdaterContext } from './define-updater.js';
import type { DnsUpdater } from './update-types.js';
import { dnsUpdaterNamed } from './updaters/index.js';

/** The `dns:` section as the config schema built it: `method`, and every updater's keys. */
export interface DnsUpdaterSettings {
  method: string;
  [key: string]: unknown;
}

/**
 * Builds the updater `dns.method` names (./updaters/index.ts). Every error is a plain Error whose
 * message starts with the config key at fault.
 */
export function createUpdater(settings: DnsUpdaterSettings, context: DnsUpdaterContext): DnsUpdater {
  const updater = dnsUpdaterNamed(settings.method);
  if (updater === undefined) throw new Error(`dns.method: no DNS updater is named "${settings.method}"`);
  // The section was parsed with a schema made of every updater's keys, so it holds this one's.
  return updater.create(settings as never, context);
}
