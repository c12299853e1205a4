/**
 * The start-up warning for a heartbeat port that accepts unsigned heartbeats from beyond
 * this machine: on hbd's defaults (`hb_host: ::`, no keys) that is the case, and the
 * operator should hear once, in plain words, what it allows and how to close it.
 */
import type { Config } from '../config/schema.js';
import { isLoopbackAddress, isLoopbackOnly, parseNetwork } from '../lib/networks.js';

type ExposureConfig = Pick<Config, 'auth' | 'keys' | 'unsigned_networks'>;

/**
 * The warning, or undefined when there is nothing to warn about: the socket is bound to
 * loopback; or `auth: required`; or keys are configured (and `auth` is not `off`, which
 * ignores them); or `unsigned_networks` holds nothing beyond loopback. `udpHost` is the
 * address the socket is bound to (`::` and `0.0.0.0` are every interface).
 */
export function unsignedExposureWarning(config: ExposureConfig, udpHost: string): string | undefined {
  if (isLoopbackAddress(udpHost) || config.auth === 'required') return undefined;
  const keysIgnored = config.auth === 'off';
  if (!keysIgnored && Object.keys(config.keys).length > 0) return undefined;
  const beyondLoopback = config.unsigned_networks.some((entry) => {
    const network = parseNetwork(entry);
    return typeof network === 'string' || !isLoopbackOnly(network);
  });
  if (!beyondLoopback) return undefined;
  const why = keysIgnored ? 'auth is off (signatures are not checked)' : 'no keys are configured';
  return (
    `heartbeats are accepted unsigned: the UDP port listens beyond loopback and ${why}. ` +
    `Anyone who can send from unsigned_networks (${config.unsigned_networks.join(', ')}) can create ` +
    'hosts (up to limits.max_hosts, and limits.new_hosts_per_minute a minute), report for any host ' +
    '(a false ok, or a status=bye that hides its real death), and fill it with text up to ' +
    'limits.host_bytes; from elsewhere, unsigned heartbeats are dropped, unless the network lets a ' +
    'forged source address from inside through. To require keys: make one with `hbd keygen`, put it ' +
    'under keys: in the config ("*" for every host, or one per host) and on each sender ' +
    '(hbd send --key-file), and set auth: required; or narrow unsigned_networks.'
  );
}
