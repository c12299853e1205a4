import { BlockList, isIPv4, isIPv6 } from 'node:net';

export type AddressVerdict = { publish: true } | { publish: false; reason: string };

/** Ranges that never belong in a public A/AAAA record, whatever the config says. */
const NEVER: readonly [string, number, 'ipv4' | 'ipv6', string][] = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['::ffff:0:0', 96, 'ipv6', 'IPv4-mapped'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

/** Ranges published only where the config allows private addresses. */
const PRIVATE: readonly [string, number, 'ipv4' | 'ipv6'][] = [
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['fc00::', 7, 'ipv6'],
];

// One list per rule and family: a BlockList matches IPv4 addresses against IPv4-mapped
// IPv6 rules too, which would make every IPv4 address "IPv4-mapped".
const never = NEVER.map(([network, prefix, family, label]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return { list, family, label };
});
const privateRanges = PRIVATE.map(([network, prefix, family]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return { list, family };
});

/**
 * Whether `address` may be published as a record of `type`. A heartbeat's source or
 * its `ip4`/`ip6` field ends up here, so anything unexpected is refused with a reason.
 */
export function checkPublishable(address: string, type: 'A' | 'AAAA', allowPrivate: boolean): AddressVerdict {
  const family = type === 'A' ? 'ipv4' : 'ipv6';
  if (type === 'A' ? !isIPv4(address) : !isIPv6(address) || address.includes('%')) {
    return {
      publish: false,
      reason: `${JSON.stringify(address)} is not an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address`,
    };
  }
  for (const rule of never) {
    if (rule.family === family && rule.list.check(address, family)) {
      return { publish: false, reason: `${address} is ${rule.label}` };
    }
  }
  const isPrivate = privateRanges.some(
    (range) => range.family === family && range.list.check(address, family),
  );
  if (!allowPrivate && isPrivate) {
    return { publish: false, reason: `${address} is private (set dns.allow_private to publish it)` };
  }
  return { publish: true };
}
