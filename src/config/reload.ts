import { isDeepStrictEqual } from 'node:util';
import type { Config } from './schema.js';

/** Settings a running hbd picks up on reload; everything else is read once at start. */
export const LIVE_KEYS: ReadonlySet<keyof Config> = new Set<keyof Config>([
  'interval',
  'grace',
  'hosts',
  'auth',
  'keys',
  'max_skew',
  'api_token',
  'read_token',
  // Checked on every request; a reload also ends the sessions of users it removes or changes.
  'auth_users',
  'read_access',
  'log_level',
  'history',
  'limits',
  'unsigned_networks',
  // A reload builds a new token map; pings in flight finish with the one they started with.
  'push',
  'push_ping_key',
  // Read at every scrape of /metrics.
  'metrics',
]);

/**
 * The top-level keys that differ between two configs, split into those a reload applies and those
 * that need a restart. A key not listed as live needs a restart, so a new key is never assumed live.
 */
export function describeReloadChanges(
  oldConfig: Config,
  newConfig: Config,
): { live: string[]; needRestart: string[] } {
  const live: string[] = [];
  const needRestart: string[] = [];
  const keys = new Set([...Object.keys(oldConfig), ...Object.keys(newConfig)] as (keyof Config)[]);
  for (const key of keys) {
    if (isDeepStrictEqual(oldConfig[key], newConfig[key])) continue;
    (LIVE_KEYS.has(key) ? live : needRestart).push(key);
  }
  return { live, needRestart };
}
