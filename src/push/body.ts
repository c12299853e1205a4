import { MAX_MSG_CHARS } from '../protocol/types.js';

/**
 * Bytes of a ping's request body that become its message; the rest is read and dropped, as
 * Healthchecks.io does past its own limit. A heartbeat's `msg` holds at most 1024 characters,
 * and a ping's message goes to the same places (the API, events, notifications), so the two
 * limits agree. Answers carry it as `Ping-Body-Limit`, from which clients such as runitor
 * learn to send the end of a long output, where the error usually is.
 */
export const PING_BODY_LIMIT_BYTES = MAX_MSG_CHARS;

/**
 * The first `limit` bytes of a request body, plus one more when there is more (to tell where a
 * character was cut). The whole body is read, so the connection stays usable, but no more than
 * that is ever held in memory however large the body is.
 */
export async function readBodyPrefix(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  const keep = limit + 1;
  const parts: Uint8Array[] = [];
  let kept = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (kept < keep) {
      const part = value.subarray(0, keep - kept);
      // A copy: the chunk's buffer is pooled, and holding a view would hold all of it.
      parts.push(part.slice());
      kept += part.length;
    }
  }
  return Buffer.concat(parts, kept);
}

/**
 * The message a body carries: UTF-8 text of at most `limit` bytes, cut before a character that
 * does not fit, trailing whitespace (the final newline of a command's output) removed.
 * Undefined when nothing is left.
 */
export function messageOf(bytes: Uint8Array, limit = PING_BODY_LIMIT_BYTES): string | undefined {
  let end = Math.min(bytes.length, limit);
  // A continuation byte (10xxxxxx) just past the end means the last character was cut.
  if (end < bytes.length) while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('utf8').trimEnd();
  return text === '' ? undefined : text;
}

/** `text` cut to at most `max` characters (code points, as a heartbeat's `msg` is counted). */
export function clipChars(text: string, max = MAX_MSG_CHARS): string {
  if (text.length <= max) return text;
  const codePoints = Array.from(text);
  return codePoints.length <= max ? text : codePoints.slice(0, max).join('');
}
