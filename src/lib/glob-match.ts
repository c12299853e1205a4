// No imports: the dashboard bundles this file too, so it must not pull in Node-only code.

const STAR = 0x2a; // *
const QUESTION = 0x3f; // ?

/**
 * Whether `text` matches the glob `pattern` as a whole: `*` is any run of characters (none
 * too), `?` any one, everything else itself (case-sensitive: callers lower-case both).
 *
 * No regular expression, on purpose: a glob such as `*a*a*a*a*b` turned into `^.*a.*a.*a.*a.*b$`
 * backtracks exponentially in the number of stars, and one request held the event loop for
 * minutes. This is the two-pointer walk that, on a mismatch, goes back only to the last star
 * seen and lets it swallow one more character: a later star can always stand in for an earlier
 * one's choices, so nothing before it needs trying again. At most pattern × text steps, and
 * usually about text.
 */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  /** Where the last star seen is in the pattern, -1 before any. */
  let star = -1;
  /** Where in the text that star's run ends for the current try. */
  let starEnd = 0;
  while (t < text.length) {
    const c = p < pattern.length ? pattern.charCodeAt(p) : -1;
    if (c === STAR) {
      star = p++;
      starEnd = t;
    } else if (c === QUESTION || (c !== -1 && c === text.charCodeAt(t))) {
      p++;
      t++;
    } else if (star !== -1) {
      p = star + 1;
      t = ++starEnd;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern.charCodeAt(p) === STAR) p++;
  return p === pattern.length;
}

/** Whether a pattern has a `*` or `?` in it, i.e. is a glob rather than a plain name. */
export function isGlob(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}
