import { escapeControlCharacters } from './inert-text.js';

/** What pino writes its lines to. */
export interface LineSink {
  write(chunk: string): unknown;
}

/**
 * In the JSON line pino writes, C0 controls already show as JSON escapes (`\n`, `\u001b`);
 * DEL, C1, the separators and the bidi controls show as themselves. A line with neither
 * (nearly every line) is passed on untouched.
 */
const MAY_CARRY_CONTROL =
  /\\[bfnrtu]|[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/**
 * Wraps the stream pino writes to so that every string in every record (message, values, keys,
 * serialised errors, bindings) has its control characters escaped before anything prints it:
 * JSON stays one valid record a line, and the text format, which prints the message as it is,
 * cannot be made to start a forged line or colour a terminal. Done here, where every line
 * passes, rather than at the call sites, so that none can forget. A stack trace therefore
 * reads `\n    at …` on one line, the price of one record per line.
 */
export function inertLines(sink: LineSink): LineSink {
  return { write: (chunk: string) => sink.write(inertLine(String(chunk))) };
}

export function inertLine(line: string): string {
  if (!MAY_CARRY_CONTROL.test(line)) return line;
  const body = line.endsWith('\n') ? line.slice(0, -1) : line;
  let record: unknown;
  try {
    record = JSON.parse(body);
  } catch {
    // Not JSON (pino always writes JSON, but a line is a line): escaped as text, still one line.
    return `${escapeControlCharacters(body)}\n`;
  }
  return `${JSON.stringify(escapeStrings(record))}\n`;
}

function escapeStrings(value: unknown): unknown {
  if (typeof value === 'string') return escapeControlCharacters(value);
  if (Array.isArray(value)) return value.map(escapeStrings);
  if (typeof value !== 'object' || value === null) return value;
  // No prototype, so that a key "__proto__" stays a key.
  const escaped: Record<string, unknown> = Object.create(null);
  for (const [key, inner] of Object.entries(value))
    escaped[escapeControlCharacters(key)] = escapeStrings(inner);
  return escaped;
}
