import { isNodeHost } from '../cluster/node-host.js';
import type { Config } from '../config/schema.js';
import { needsSignature } from '../ingest/gatekeeper.js';
import type { PushOptions } from '../push/ping.js';

/**
 * The push endpoints' options from the config: `push`, `push_ping_key`, and who must sign (`auth`,
 * `keys`). In a cluster the nodes' own hosts count as signed ones, so the ping key cannot reach them.
 */
export function pushOptionsOf(
  config: Pick<Config, 'push' | 'push_ping_key' | 'auth' | 'keys'>,
  cluster = false,
): PushOptions {
  return {
    hosts: config.push,
    pingKey: config.push_ping_key,
    needsSignature: (host) => (cluster && isNodeHost(host)) || needsSignature(config, host),
  };
}
