// No imports: the dashboard may bundle this file too, so it must not pull in Node-only code.

/**
 * Characters that act on a terminal, a log reader or a text's direction instead of showing:
 * C0 controls (newline, carriage return, ESC, …), DEL, C1 controls, the Unicode line and
 * paragraph separators (line breaks to JavaScript and to some viewers), and the bidirectional
 * marks, embeddings, overrides and isolates, which can make text read differently from what it
 * is. Heartbeats carry free text, so any of these can come from an outsider.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_TEST = new RegExp(UNSAFE.source);

const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Whether `text` holds a character that `escapeControlCharacters` would escape. */
export function hasControlCharacters(text: string): boolean {
  return UNSAFE_TEST.test(text);
}

/**
 * `text` with every such character written out as an escape (`\n`, `\r`, `\t`, `\x1b`,
 * `\u202e`), so that it shows what was sent and does nothing. Backslashes are left alone:
 * the point is that nothing acts, not that the escaping can be undone.
 */
export function escapeControlCharacters(text: string): string {
  if (!hasControlCharacters(text)) return text;
  return text.replace(UNSAFE, (c) => {
    const short = SHORT_ESCAPES[c];
    if (short) return short;
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
