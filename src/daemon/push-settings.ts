import type { Config } from '../config/schema.js';
import { needsSignature } from '../ingest/gatekeeper.js';
import type { PushOptions } from '../push/ping.js';

/** The push endpoints' options from the config: `push`, `push_ping_key`, and who must sign (`auth`, `keys`). */
export function pushOptionsOf(config: Pick<Config, 'push' | 'push_ping_key' | 'auth' | 'keys'>): PushOptions {
  return {
    hosts: config.push,
    pingKey: config.push_ping_key,
    needsSignature: (host) => needsSignature(config, host),
  };
}
