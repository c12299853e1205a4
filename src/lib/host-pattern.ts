import { globMatch, isGlob } from './glob-match.js';

/**
 * The longest host name: one of the DNS's. Also the bound on a glob, wherever one comes from
 * (`?name=`, a silence, `hosts:` in the config), which keeps one match at most 253 × 253 steps.
 */
export const MAX_PATTERN_LENGTH = 253;
const PATTERN_CHARACTERS = /^[a-z0-9._*?-]+$/;

/**
 * A host name, or a glob of one (`*` any run of characters, `?` any one), checked and
 * lower-cased; throws a RangeError that says what is wrong with it, naming it `what`.
 */
export function checkHostPattern(value: unknown, what = 'pattern'): string {
  if (typeof value !== 'string')
    throw new RangeError(`${what}: expected a host name or a glob such as "web*"`);
  const pattern = value.toLowerCase();
  if (pattern.length < 1 || pattern.length > MAX_PATTERN_LENGTH) {
    throw new RangeError(`${what}: expected 1 to ${MAX_PATTERN_LENGTH} characters, got ${pattern.length}`);
  }
  if (!PATTERN_CHARACTERS.test(pattern)) {
    throw new RangeError(
      `${what}: expected a host name or a glob of letters, digits, "-", ".", "_", "*" and "?", got ${JSON.stringify(value)}`,
    );
  }
  return pattern;
}

/** Whether a (lower-case) host name matches a pattern that `checkHostPattern` let through. */
export function hostMatcher(pattern: string): (host: string) => boolean {
  if (!isGlob(pattern)) return (host) => host === pattern;
  return (host) => globMatch(pattern, host);
}
