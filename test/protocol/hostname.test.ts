import { describe, expect, it } from 'vitest';
import { isValidHostName, normalizeHostName } from '../../src/protocol/hostname.js';

const label = (length: number, char = 'a') => char.repeat(length);

describe('host names (hb/1: 1–253 chars, labels [A-Za-z0-9-]{1,63}, no hyphen at either end)', () => {
  it.each(['web1', 'a', 'db-2.example.com', 'WEB1.Example.COM', '123', '1.2.3.4', 'x--y'])(
    'accepts %j',
    (name) => {
      expect(isValidHostName(name)).toBe(true);
    },
  );

  it('accepts 253 characters, refuses 254', () => {
    const name253 = [label(63), label(63), label(63), label(61)].join('.');
    expect(name253).toHaveLength(253);
    expect(isValidHostName(name253)).toBe(true);
    expect(isValidHostName(`${name253}a`)).toBe(false);
  });

  it('accepts a 63-character label, refuses 64', () => {
    expect(isValidHostName(label(63))).toBe(true);
    expect(isValidHostName(`${label(63)}.com`)).toBe(true);
    expect(isValidHostName(label(64))).toBe(false);
    expect(isValidHostName(`www.${label(64)}.com`)).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['leading hyphen', '-web1'],
    ['trailing hyphen', 'web1-'],
    ['hyphen at a label end', 'web1-.example.com'],
    ['hyphen at a label start', 'web1.-example.com'],
    ['empty label', 'web1..example.com'],
    ['leading dot', '.web1'],
    ['trailing (root) dot', 'web1.example.com.'],
    ['lone dot', '.'],
    ['underscore', 'web_1'],
    ['space', 'web 1'],
    ['non-ASCII', 'wéb1'],
    ['NUL', 'web\u00001'],
    ['injection', 'web1;rm -rf /'],
  ])('refuses %s', (_, name) => {
    expect(isValidHostName(name)).toBe(false);
  });

  it('normalizes to lower case, or undefined when invalid', () => {
    expect(normalizeHostName('WEB1.Example.COM')).toBe('web1.example.com');
    expect(normalizeHostName('web1')).toBe('web1');
    expect(normalizeHostName('web_1')).toBeUndefined();
  });
});
