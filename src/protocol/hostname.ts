/**
 * Host names as hb/1 accepts them: 1–253 characters, dot-separated labels of
 * [A-Za-z0-9-]{1,63} that neither start nor end with '-'. A trailing root dot
 * ("web1.example.com.") is an empty label, so it is refused like any other.
 */

const MAX_NAME_CHARS = 253;
const MAX_LABEL_CHARS = 63;

const DOT = 0x2e;
const HYPHEN = 0x2d;

function isLabelChar(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x30 && code <= 0x39) || // 0-9
    code === HYPHEN
  );
}

export function isValidHostName(name: string): boolean {
  const length = name.length;
  if (length === 0 || length > MAX_NAME_CHARS) return false;
  let labelStart = 0;
  // `i === length` closes the last label as if a dot followed it.
  for (let i = 0; i <= length; i++) {
    const code = i < length ? name.charCodeAt(i) : DOT;
    if (code !== DOT) {
      if (!isLabelChar(code)) return false;
      continue;
    }
    const labelLength = i - labelStart;
    if (labelLength === 0 || labelLength > MAX_LABEL_CHARS) return false;
    if (name.charCodeAt(labelStart) === HYPHEN || name.charCodeAt(i - 1) === HYPHEN) return false;
    labelStart = i + 1;
  }
  return true;
}

/** The name as hbd compares and stores it (lower case), or undefined when it is not a valid host name. */
export function normalizeHostName(name: string): string | undefined {
  return isValidHostName(name) ? name.toLowerCase() : undefined;
}
