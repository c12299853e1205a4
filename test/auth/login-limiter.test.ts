import { describe, expect, it } from 'vitest';
import { clientKey, LoginLimiter } from '../../src/auth/login-limiter.js';

function limiter(options: { maxEntries?: number } = {}) {
  let now = 1_000_000;
  const limits = new LoginLimiter({ now: () => now, ...options });
  return {
    limits,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('the login limiter', () => {
  it('allows an address 4 failures, then locks it out for 1 s, doubling with each further failure up to 15 min', () => {
    const { limits, advance } = limiter();
    for (let i = 0; i < 4; i++) {
      limits.failed('192.0.2.1', 'alice');
      expect(limits.lockedForMs('192.0.2.1')).toBe(0);
    }
    limits.failed('192.0.2.1', 'alice');
    expect(limits.lockedForMs('192.0.2.1')).toBe(1000);
    const locks: number[] = [];
    for (let i = 0; i < 12; i++) {
      advance(limits.lockedForMs('192.0.2.1'));
      limits.failed('192.0.2.1', 'alice');
      locks.push(limits.lockedForMs('192.0.2.1'));
    }
    expect(locks.slice(0, 4)).toEqual([2000, 4000, 8000, 16_000]);
    expect(locks.at(-1)).toBe(15 * 60_000);
  });

  it('locks the address for every user name, and no other address', () => {
    const { limits } = limiter();
    for (let i = 0; i < 5; i++) limits.failed('203.0.113.9', `user${i}`);
    expect(limits.lockedForMs('203.0.113.9')).toBe(1000);
    expect(limits.lockedForMs('203.0.113.10')).toBe(0);
  });

  it('never locks a user name out: failures for it from anywhere delay its checks by at most 3 s', () => {
    const { limits, advance } = limiter();
    for (let i = 0; i < 4; i++) limits.failed(`198.51.100.${i}`, 'alice');
    expect(limits.delayForMs('alice')).toBe(0);
    limits.failed('198.51.100.4', 'alice');
    expect(limits.delayForMs('alice')).toBe(1000);
    // An attacker failing from a new address every 15 minutes for a day, or many times a second.
    for (let i = 0; i < 96; i++) {
      advance(15 * 60_000);
      limits.failed(`198.51.${100 + (i >> 8)}.${i & 255}`, 'alice');
      expect(limits.delayForMs('alice')).toBeLessThanOrEqual(3000);
      expect(limits.lockedForMs('192.0.2.77')).toBe(0);
    }
    for (let i = 0; i < 1000; i++) limits.failed(`2001:db8:${i}::1`, 'alice');
    expect(limits.delayForMs('alice')).toBe(3000);
    expect(limits.delayForMs('bob')).toBe(0);
    expect(limits.lockedForMs('192.0.2.77')).toBe(0);
  });

  it('a successful login clears the user name, not the address', () => {
    const { limits, advance } = limiter();
    for (let i = 0; i < 6; i++) limits.failed(`192.0.2.${i}`, 'alice');
    expect(limits.delayForMs('alice')).toBe(2000);
    limits.succeeded('alice');
    expect(limits.delayForMs('alice')).toBe(0);
    for (let i = 0; i < 4; i++) limits.failed('192.0.2.100', 'alice');
    limits.succeeded('alice');
    limits.failed('192.0.2.100', 'bob');
    expect(limits.lockedForMs('192.0.2.100')).toBe(1000);
    advance(1000);
    expect(limits.lockedForMs('192.0.2.100')).toBe(0);
  });

  it('forgets failures after an hour', () => {
    const { limits, advance } = limiter();
    for (let i = 0; i < 4; i++) limits.failed('192.0.2.1', 'alice');
    advance(60 * 60_000);
    limits.failed('192.0.2.1', 'alice');
    expect(limits.lockedForMs('192.0.2.1')).toBe(0);
    expect(limits.delayForMs('alice')).toBe(0);
  });

  it('remembers a bounded number of addresses and names, dropping the oldest', () => {
    const { limits, advance } = limiter({ maxEntries: 100 });
    for (let i = 0; i < 5; i++) limits.failed('192.0.2.1', 'alice');
    for (let i = 0; i < 1000; i++) {
      advance(1);
      limits.failed(`10.0.${i >> 8}.${i & 255}`, `name${i}`);
    }
    expect(limits.size).toEqual({ addresses: 100, users: 100 });
    expect(limits.lockedForMs('10.0.3.231')).toBe(0);
  });

  it('counts an IPv6 /64 as one client, and an IPv4-mapped address as its IPv4 address', () => {
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe(clientKey('2001:db8:1:2:bbbb::2'));
    expect(clientKey('2001:db8:1:2::1')).not.toBe(clientKey('2001:db8:1:3::1'));
    expect(clientKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(clientKey('192.0.2.1')).toBe('192.0.2.1');
    const { limits } = limiter();
    for (let i = 0; i < 5; i++) limits.failed(`2001:db8:1:2::${i + 1}`, `user${i}`);
    expect(limits.lockedForMs('2001:db8:1:2:ffff::9')).toBe(1000);
  });
});
