import { describe, expect, it } from 'vitest';
import { hashPassword, PASSWORD_HASH, verifyPassword } from '../../src/auth/passwords.js';

describe('password hashes', () => {
  it('are scrypt with a random salt, in a self-describing format', async () => {
    const [one, two] = await Promise.all([hashPassword('correct horse'), hashPassword('correct horse')]);
    expect(one).toMatch(PASSWORD_HASH);
    expect(one).toMatch(/^scrypt\$15\$8\$1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(one).not.toBe(two);
  });

  it('verify the right password only', async () => {
    const hash = await hashPassword('correct horse');
    expect(await verifyPassword('correct horse', hash)).toBe(true);
    expect(await verifyPassword('correct horsf', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
    expect(await verifyPassword('correct horse ', hash)).toBe(false);
  });

  it('verify a password however its accents were composed', async () => {
    const hash = await hashPassword('caf\u00e9 au lait');
    expect(await verifyPassword('cafe\u0301 au lait', hash)).toBe(true);
  });

  it('keep their cost, so a hash made with another cost still verifies', async () => {
    const hash = await hashPassword('correct horse', { log2N: 16, r: 8, p: 1 });
    expect(hash).toMatch(/^scrypt\$16\$8\$1\$/);
    expect(await verifyPassword('correct horse', hash)).toBe(true);
  });

  it('never match for an unknown user, and take about as long as for a known one', async () => {
    const hash = await hashPassword('correct horse');
    expect(await verifyPassword('correct horse', undefined)).toBe(false);
    expect(await verifyPassword('', undefined)).toBe(false);
    const time = async (stored: string | undefined) => {
      const start = performance.now();
      for (let i = 0; i < 3; i++) await verifyPassword('a guess of some length', stored);
      return performance.now() - start;
    };
    const [known, unknown] = [await time(hash), await time(undefined)];
    // The same scrypt work both ways; a shortcut for unknown users would be a thousand times faster.
    expect(unknown / known).toBeGreaterThan(0.25);
  });

  it('refuse what is not a hash rather than compare it', async () => {
    expect(await verifyPassword('hunter2hunter2', 'hunter2hunter2')).toBe(false);
    for (const text of ['hunter2', `scrypt$14$8$1$AAAAAAAAAAAAAAAAAAAAAA$${'A'.repeat(43)}`, '$2b$10$abc']) {
      expect(PASSWORD_HASH.test(text)).toBe(false);
    }
  });
});
