import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { globMatch } from '../../src/lib/glob-match.js';
import { checkHostPattern, hostMatcher, MAX_PATTERN_LENGTH } from '../../src/lib/host-pattern.js';
import { problems } from '../config/helpers.js';

/**
 * The textbook dynamic programme, memoised: can pattern[p..] match text[t..]? Obviously right
 * and obviously polynomial, which is all a reference needs to be.
 */
function referenceMatch(pattern: string, text: string): boolean {
  const memo = new Map<number, boolean>();
  const from = (p: number, t: number): boolean => {
    const key = p * (text.length + 1) + t;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (p === pattern.length) result = t === text.length;
    else if (pattern[p] === '*') result = from(p + 1, t) || (t < text.length && from(p, t + 1));
    else result = t < text.length && (pattern[p] === '?' || pattern[p] === text[t]) && from(p + 1, t + 1);
    memo.set(key, result);
    return result;
  };
  return from(0, 0);
}

// A small alphabet, so that random patterns and texts share characters and many do match.
const patternOf = (maxLength: number) =>
  fc.string({ unit: fc.constantFrom('a', 'b', '.', '*', '?'), maxLength });
const textOf = (maxLength: number) => fc.string({ unit: fc.constantFrom('a', 'b', '.'), maxLength });

describe('globMatch', () => {
  it('agrees with a reference matcher on random patterns and names', () => {
    fc.assert(
      fc.property(patternOf(12), textOf(16), (pattern, text) => {
        expect(globMatch(pattern, text)).toBe(referenceMatch(pattern, text));
      }),
      { numRuns: 5000 },
    );
  });

  it('agrees with the reference on names built to match (a name drawn from the pattern itself)', () => {
    const matching = patternOf(12).chain((pattern) =>
      fc.array(textOf(3), { minLength: pattern.length, maxLength: pattern.length }).map((fills) => ({
        pattern,
        text: [...pattern].map((c, i) => (c === '*' ? fills[i]! : c === '?' ? 'b' : c)).join(''),
      })),
    );
    fc.assert(
      fc.property(matching, ({ pattern, text }) => {
        expect(globMatch(pattern, text)).toBe(true);
        expect(referenceMatch(pattern, text)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('* is any run (none too), ? exactly one character, the rest literal', () => {
    expect(globMatch('web*', 'web')).toBe(true);
    expect(globMatch('web*', 'web12.lab')).toBe(true);
    expect(globMatch('web?', 'web1')).toBe(true);
    expect(globMatch('web?', 'web')).toBe(false);
    expect(globMatch('web?', 'web12')).toBe(false);
    expect(globMatch('*.lab', 'db1.lab')).toBe(true);
    expect(globMatch('*.lab', 'db1xlab')).toBe(false);
    expect(globMatch('a*b*c', 'abc')).toBe(true);
    expect(globMatch('a*b*c', 'acb')).toBe(false);
    expect(globMatch('', '')).toBe(true);
    expect(globMatch('*', '')).toBe(true);
    expect(globMatch('?', '')).toBe(false);
  });

  it('takes time in proportion to the name, not exponential in the stars', () => {
    const name = 'a'.repeat(MAX_PATTERN_LENGTH);
    const pattern = `${'*a'.repeat(60)}*b`;
    const started = performance.now();
    for (let i = 0; i < 1000; i++) expect(globMatch(pattern, name)).toBe(false);
    // A regex took about a second for 4 stars against one such name; this does 1000 with 61.
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('hostMatcher', () => {
  it('matches names exactly, or by glob, on lower-cased patterns', () => {
    expect(hostMatcher(checkHostPattern('Web1'))('web1')).toBe(true);
    expect(hostMatcher(checkHostPattern('web1'))('web12')).toBe(false);
    expect(hostMatcher(checkHostPattern('WEB*.lab'))('web7.lab')).toBe(true);
  });

  it('refuses patterns longer than a host name can be, in the API and in hosts: alike', () => {
    expect(() => checkHostPattern('a'.repeat(MAX_PATTERN_LENGTH + 1))).toThrow(/1 to 253 characters/);
    const long = `${'*a'.repeat(127)}`;
    expect(problems(['hosts:', `  "${long}": {interval: 5}`]).join('\n')).toMatch(/at most 253 characters/);
  });
});
