import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { DEFAULT_UNSIGNED_NETWORKS } from '../../src/config/schema.js';
import { isLoopbackAddress, isLoopbackOnly, NetworkList, parseNetwork } from '../../src/lib/networks.js';

describe('unsigned_networks', () => {
  const defaults = new NetworkList(DEFAULT_UNSIGNED_NETWORKS);

  it.each([
    ['127.0.0.1', true],
    ['10.200.3.4', true],
    ['172.31.255.255', true],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['169.254.10.1', true],
    ['::1', true],
    ['fd12:3456::1', true],
    ['fe80::1', true],
    ['fe80::1%eth0', true],
    ['8.8.8.8', false],
    ['100.64.0.1', false],
    ['2001:db8::1', false],
    // A dual-stack socket may report IPv4 sources mapped into IPv6, dotted or in hex.
    ['::ffff:127.0.0.1', true],
    ['::ffff:10.1.2.3', true],
    ['::ffff:a01:203', true],
    ['::ffff:8.8.8.8', false],
    ['::ffff:808:808', false],
    ['not an address', false],
  ])('the defaults: %s → %s', (address, inside) => {
    expect(defaults.has(address)).toBe(inside);
  });

  it('0.0.0.0/0 and ::/0 hold everything; an empty list holds nothing', () => {
    const world = new NetworkList(['0.0.0.0/0', '::/0']);
    expect(['8.8.8.8', '2001:db8::1', '::ffff:8.8.8.8'].every((address) => world.has(address))).toBe(true);
    expect(new NetworkList([]).has('127.0.0.1')).toBe(false);
  });

  it('a single address is a network of one', () => {
    const one = new NetworkList(['203.0.113.7', '2001:db8::7']);
    expect([one.has('203.0.113.7'), one.has('203.0.113.8'), one.has('2001:db8::7')]).toEqual([
      true,
      false,
      true,
    ]);
  });

  it.each([
    ['10.0.0.0/33', /prefix length of an IPv4 network is 0 to 32/],
    ['fd00::/129', /prefix length of an IPv6 network is 0 to 128/],
    ['10.0.0.0/', /prefix length/],
    ['10.0.0.0/8/8', /prefix length/],
    ['banana', /^expected a network such as 10.0.0.0\/8/],
    ['10.0.0/8', /"10.0.0" is not an IP address/],
    ['fe80::%eth0/10', /no zone/],
  ])('refuses %s, saying why', (entry, problem) => {
    expect(parseNetwork(entry)).toMatch(problem);
    expect(() => new NetworkList([entry])).toThrow(entry);
  });

  it('tells loopback from the rest', () => {
    expect(['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1'].every(isLoopbackAddress)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.1', '::2'].some(isLoopbackAddress)).toBe(false);
    const loopbackOnly = (entry: string) =>
      isLoopbackOnly(parseNetwork(entry) as Exclude<ReturnType<typeof parseNetwork>, string>);
    expect(['127.0.0.0/8', '127.1.0.0/16', '::1/128', '::1'].every(loopbackOnly)).toBe(true);
    expect(['127.0.0.0/7', '10.0.0.0/8', '::/0', '::/127'].some(loopbackOnly)).toBe(false);
  });
});

describe('unsigned_networks in the config', () => {
  const parse = (yaml: string) =>
    parseConfig(yaml, { sourceName: 'hb.yaml', baseDir: '/tmp', env: {}, home: '/tmp' });

  it('names the entry that is not a network, and why', () => {
    expect(() => parse('unsigned_networks: [10.0.0.0/8, 192.168.0.0/33]\n')).toThrow(
      'hb.yaml:1: unsigned_networks[1]: "192.168.0.0/33": expected a network such as 10.0.0.0/8 or fd00::/8, ' +
        'or a single address; the prefix length of an IPv4 network is 0 to 32',
    );
  });

  it('accepts networks, single addresses, the whole world and nothing', () => {
    expect(
      parse('unsigned_networks: [10.0.0.0/8, "2001:db8::7", "::/0"]\n').config.unsigned_networks,
    ).toEqual(['10.0.0.0/8', '2001:db8::7', '::/0']);
    expect(parse('unsigned_networks: []\n').config.unsigned_networks).toEqual([]);
    expect(parse('hb_port: 1\n').config.unsigned_networks).toEqual([...DEFAULT_UNSIGNED_NETWORKS]);
  });
});
