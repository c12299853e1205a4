/**
 * The logfmt dialect of hb/1: `key=value` fields separated by ASCII whitespace.
 * A value is bare (no whitespace, no `"`, possibly empty) or double-quoted with
 * the escapes \" \\ \n \t. Hand-written because it runs once per datagram on the
 * daemon's hot path: one pass over char codes, no regex, no per-char allocation.
 */
import type { Decoded } from './types.js';

export interface LogfmtRecord {
  /** Keys in the order they came, each once. */
  keys: string[];
  /** `values[i]` is the value of `keys[i]`. */
  values: string[];
  /**
   * Where the signed text ends (exclusive) when the last field is `sig`: the
   * start of the whitespace run before `sig=`. -1 when there is no `sig`.
   */
  signedTextEnd: number;
}

const MAX_KEY_CHARS = 64;
/** Up to this many keys, a linear scan finds duplicates faster than a Set; past it, a Set keeps it linear. */
const DUPLICATE_SCAN_LIMIT = 16;

const TAB = 0x09;
const LINE_FEED = 0x0a;
const FORM_FEED = 0x0c;
const CARRIAGE_RETURN = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const EQUALS = 0x3d;
const BACKSLASH = 0x5c;
const LOWER_N = 0x6e;
const LOWER_T = 0x74;

const IS_SPACE = 1;
const IS_KEY_START = 2;
const IS_KEY_CHAR = 4;

/** Class bits of each ASCII char; chars >= 128 have none. */
const CHAR_CLASS = buildCharClasses();

function buildCharClasses(): Uint8Array {
  const classes = new Uint8Array(128);
  for (const code of [SPACE, TAB, LINE_FEED, CARRIAGE_RETURN, FORM_FEED]) classes[code] = IS_SPACE;
  for (let code = 0x61; code <= 0x7a; code++) classes[code] = IS_KEY_START | IS_KEY_CHAR; // a-z
  for (let code = 0x30; code <= 0x39; code++) classes[code] = IS_KEY_CHAR; // 0-9
  for (const char of '_.-') classes[char.charCodeAt(0)] = IS_KEY_CHAR;
  return classes;
}

function hasClass(code: number, bit: number): boolean {
  return code < 128 && ((CHAR_CLASS[code] ?? 0) & bit) !== 0;
}

function isSpace(code: number): boolean {
  return hasClass(code, IS_SPACE);
}

/** Whether `key` may be a logfmt key: [a-z][a-z0-9_.-]{0,63}. */
export function isValidKey(key: string): boolean {
  const length = key.length;
  if (length === 0 || length > MAX_KEY_CHARS || !hasClass(key.charCodeAt(0), IS_KEY_START)) return false;
  for (let i = 1; i < length; i++) {
    if (!hasClass(key.charCodeAt(i), IS_KEY_CHAR)) return false;
  }
  return true;
}

/** A piece of untrusted input as it may appear in a log line: JSON-quoted (control chars escaped) and cut short. */
export function quoteForMessage(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

function syntaxError(detail: string): Decoded<LogfmtRecord> {
  return { ok: false, reason: 'syntax', detail };
}

function duplicateKey(key: string): Decoded<LogfmtRecord> {
  return syntaxError(`key ${quoteForMessage(key)} appears twice`);
}

function wordWithoutEquals(word: string): Decoded<LogfmtRecord> {
  return syntaxError(`word ${quoteForMessage(word)} has no "=" (only a lone host name may)`);
}

/**
 * Splits a datagram's text into fields. Refuses (reason 'syntax') bad quoting,
 * bad keys, duplicate keys, a field after `sig`, and a word without `=` unless
 * it is the only token, which is the shorthand for `host=<word>`.
 */
export function parseLogfmt(text: string): Decoded<LogfmtRecord> {
  const length = text.length;
  const keys: string[] = [];
  const values: string[] = [];
  let seenKeys: Set<string> | undefined;
  let signedTextEnd = -1;
  let loneWord: string | undefined;
  let i = 0;

  for (;;) {
    const whitespaceStart = i;
    while (i < length && isSpace(text.charCodeAt(i))) i++;
    if (i === length) break;

    if (signedTextEnd !== -1) return syntaxError('"sig" must be the last field');
    if (loneWord !== undefined) return wordWithoutEquals(loneWord);

    const keyStart = i;
    let keyIsValid = hasClass(text.charCodeAt(i), IS_KEY_START);
    let code = 0;
    while (i < length) {
      code = text.charCodeAt(i);
      if (code === EQUALS || isSpace(code)) break;
      if (!hasClass(code, IS_KEY_CHAR)) keyIsValid = false;
      i++;
    }
    const key = text.slice(keyStart, i);

    if (code !== EQUALS) {
      if (keys.length > 0) return wordWithoutEquals(key);
      if (key.includes('"')) return syntaxError(`unexpected '"' in ${quoteForMessage(key)}`);
      loneWord = key;
      continue;
    }
    if (!keyIsValid || key.length > MAX_KEY_CHARS) {
      return syntaxError(`invalid key ${quoteForMessage(key)}: keys are [a-z][a-z0-9_.-]{0,63}`);
    }
    if (keys.length < DUPLICATE_SCAN_LIMIT) {
      if (keys.includes(key)) return duplicateKey(key);
    } else {
      seenKeys ??= new Set(keys);
      if (seenKeys.has(key)) return duplicateKey(key);
      seenKeys.add(key);
    }
    i++; // past '='

    let value: string;
    if (i < length && text.charCodeAt(i) === QUOTE) {
      const quoted = readQuotedValue(text, i + 1);
      if (typeof quoted === 'string') return syntaxError(`key ${quoteForMessage(key)}: ${quoted}`);
      value = quoted.value;
      i = quoted.end;
    } else {
      const valueStart = i;
      while (i < length) {
        code = text.charCodeAt(i);
        if (isSpace(code)) break;
        if (code === QUOTE) return syntaxError(`key ${quoteForMessage(key)}: '"' inside a bare value`);
        i++;
      }
      value = text.slice(valueStart, i);
    }

    keys.push(key);
    values.push(value);
    if (key === 'sig') signedTextEnd = whitespaceStart;
  }

  if (loneWord !== undefined) {
    keys.push('host');
    values.push(loneWord);
  }
  return { ok: true, value: { keys, values, signedTextEnd } };
}

/**
 * Reads a quoted value whose opening quote is just before `start`. Returns the
 * unescaped value and the index past the closing quote, or why it is invalid.
 */
function readQuotedValue(text: string, start: number): { value: string; end: number } | string {
  const length = text.length;
  let value = '';
  let chunkStart = start;
  let i = start;
  for (;;) {
    if (i >= length) return 'unterminated quoted value';
    const code = text.charCodeAt(i);
    if (code === QUOTE) break;
    if (code !== BACKSLASH) {
      i++;
      continue;
    }
    value += text.slice(chunkStart, i);
    const escaped = i + 1 < length ? text.charCodeAt(i + 1) : -1;
    if (escaped === QUOTE) value += '"';
    else if (escaped === BACKSLASH) value += '\\';
    else if (escaped === LOWER_N) value += '\n';
    else if (escaped === LOWER_T) value += '\t';
    else if (escaped === -1) return 'unterminated quoted value';
    else return `unknown escape ${quoteForMessage(text.slice(i, i + 2))} (only \\" \\\\ \\n \\t)`;
    i += 2;
    chunkStart = i;
  }
  value += text.slice(chunkStart, i);
  const end = i + 1;
  if (end < length && !isSpace(text.charCodeAt(end))) return 'closing quote must be followed by whitespace';
  return { value, end };
}

/** Writes a value so that parseLogfmt reads it back unchanged: bare when it can be, quoted otherwise. */
export function quoteValue(value: string): string {
  if (value.length === 0) return '""';
  let needsQuotes = false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === QUOTE || isSpace(code)) {
      needsQuotes = true;
      break;
    }
  }
  if (!needsQuotes) return value;
  let quoted = '"';
  for (const char of value) {
    if (char === '"') quoted += '\\"';
    else if (char === '\\') quoted += '\\\\';
    else if (char === '\n') quoted += '\\n';
    else if (char === '\t') quoted += '\\t';
    else quoted += char;
  }
  return `${quoted}"`;
}

/** Formats fields as one logfmt line. Keys must already be valid (see isValidKey). */
export function formatLogfmt(fields: Iterable<readonly [key: string, value: string]>): string {
  let line = '';
  for (const [key, value] of fields) {
    line += `${line === '' ? '' : ' '}${key}=${quoteValue(value)}`;
  }
  return line;
}
