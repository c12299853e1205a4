import { describe, expect, it } from 'vitest';
import { checkPublishable } from '../../src/dns/address-policy.js';

const verdict = (address: string, type: 'A' | 'AAAA', allowPrivate = false) => {
  const result = checkPublishable(address, type, allowPrivate);
  return result.publish ? 'publish' : result.reason;
};

describe('which addresses may be published', () => {
  it('publishes ordinary public addresses of the right family', () => {
    expect(verdict('198.51.100.7', 'A')).toBe('publish');
    expect(verdict('2001:db8::7', 'AAAA')).toBe('publish');
  });

  it.each([
    ['127.0.0.1', 'A', 'loopback'],
    ['0.0.0.0', 'A', 'unspecified'],
    ['169.254.10.1', 'A', 'link-local'],
    ['224.0.0.251', 'A', 'multicast'],
    ['255.255.255.255', 'A', 'reserved'],
    ['::1', 'AAAA', 'loopback'],
    ['::', 'AAAA', 'unspecified'],
    ['fe80::1', 'AAAA', 'link-local'],
    ['ff02::1', 'AAAA', 'multicast'],
    ['::ffff:198.51.100.7', 'AAAA', 'IPv4-mapped'],
  ] as const)('never publishes %s (%s): %s', (address, type, label) => {
    expect(verdict(address, type, true)).toBe(`${address} is ${label}`);
  });

  it('publishes private ranges only when allowed', () => {
    for (const [address, type] of [
      ['10.1.2.3', 'A'],
      ['172.20.0.1', 'A'],
      ['192.168.1.10', 'A'],
      ['100.64.1.1', 'A'],
      ['fd00::10', 'AAAA'],
    ] as const) {
      expect(verdict(address, type)).toMatch(/is private/);
      expect(verdict(address, type, true)).toBe('publish');
    }
  });

  it('refuses what is not an address of that family, including hostile strings', () => {
    expect(verdict('2001:db8::1', 'A')).toMatch(/not an IPv4/);
    expect(verdict('198.51.100.7', 'AAAA')).toMatch(/not an IPv6/);
    expect(verdict('1.2.3.4; rm -rf /', 'A')).toMatch(/not an IPv4/);
    expect(verdict('fe80::1%eth0', 'AAAA')).toMatch(/not an IPv6/);
    expect(verdict('198.51.100.7\nupdate delete example.com', 'A')).toMatch(/not an IPv4/);
  });
});
