/**
 * `unsigned_networks`: the networks whose unsigned heartbeats hbd accepts. A list of CIDR
 * networks checked with Node's BlockList, which also matches an IPv4-mapped IPv6 source
 * (`::ffff:10.1.2.3`, as a dual-stack socket may report it) against IPv4 networks.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

export interface Network {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

const FORM = 'expected a network such as 10.0.0.0/8 or fd00::/8, or a single address';

/** `10.0.0.0/8`, `fd00::/8`, or one address (a network of one). A string saying what is wrong otherwise. */
export function parseNetwork(text: string): Network | string {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  if (family === undefined) return slash < 0 ? FORM : `${FORM}; "${address}" is not an IP address`;
  // A zone (fe80::%eth0) names a link of this machine, which a network list cannot mean.
  if (address.includes('%')) return `${FORM}; a network has no zone (%…)`;
  const bits = family === 'ipv4' ? 32 : 128;
  if (slash < 0) return { address, prefix: bits, family };
  const prefixText = text.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > bits) {
    return `${FORM}; the prefix length of an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} network is 0 to ${bits}`;
  }
  return { address, prefix, family };
}

/** A list of networks to test source addresses against. Entries must be valid (the config schema checks them). */
export class NetworkList {
  readonly #list = new BlockList();

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const network = parseNetwork(entry);
      if (typeof network === 'string') throw new Error(`unsigned_networks: "${entry}": ${network}`);
      this.#list.addSubnet(network.address, network.prefix, network.family);
    }
  }

  /** Whether an address (IPv4, IPv6, or IPv4-mapped IPv6) is in one of the networks. */
  has(address: string): boolean {
    if (isIPv4(address)) return this.#list.check(address, 'ipv4');
    return isIPv6(address) && this.#list.check(address, 'ipv6');
  }
}

const LOOPBACK = new NetworkList(['127.0.0.0/8', '::1/128']);

/** 127.0.0.0/8, ::1, and 127.x.y.z mapped into IPv6. */
export function isLoopbackAddress(address: string): boolean {
  return LOOPBACK.has(address);
}

/** Whether a network holds only loopback addresses. */
export function isLoopbackOnly(network: Network): boolean {
  // Inside loopback when its first address is, and it is no wider than loopback's own network.
  return isLoopbackAddress(network.address) && network.prefix >= (network.family === 'ipv4' ? 8 : 128);
}
