import { describe, expect, it } from 'vitest';
import { clipChars, messageOf, PING_BODY_LIMIT_BYTES, readBodyPrefix } from '../../src/push/body.js';

/** A body of `total` bytes arriving in `chunk`-sized pieces, counting how much was pulled. */
function streamOf(total: number, chunk = 64 * 1024, byte = 0x61) {
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) {
        controller.close();
        return;
      }
      const size = Math.min(chunk, total - sent);
      sent += size;
      controller.enqueue(new Uint8Array(size).fill(byte));
    },
  });
  return { stream, sent: () => sent };
}

describe('readBodyPrefix', () => {
  it('keeps the limit and one byte more, and reads the rest without keeping it', async () => {
    const body = streamOf(50 * 1024 * 1024);
    const prefix = await readBodyPrefix(body.stream, 1024);
    expect(prefix.length).toBe(1025);
    expect(body.sent()).toBe(50 * 1024 * 1024);
    // What it keeps holds no chunk of the body, only its own small copy.
    expect(prefix.buffer.byteLength).toBeLessThan(64 * 1024);
  });

  it('returns a short body whole, and nothing for no body', async () => {
    expect(Buffer.from(await readBodyPrefix(new Response('log text').body, 1024)).toString()).toBe(
      'log text',
    );
    expect((await readBodyPrefix(null, 1024)).length).toBe(0);
  });
});

describe('messageOf', () => {
  it('decodes UTF-8 and drops the trailing newline of command output', () => {
    expect(messageOf(Buffer.from('backup done: 3 volumes\n'))).toBe('backup done: 3 volumes');
  });

  it('is undefined for an empty or blank body', () => {
    expect(messageOf(new Uint8Array(0))).toBeUndefined();
    expect(messageOf(Buffer.from(' \n'))).toBeUndefined();
  });

  it('cuts at the limit, before a character that does not fit whole', () => {
    const text = `${'a'.repeat(PING_BODY_LIMIT_BYTES - 1)}é and more`;
    const message = messageOf(Buffer.from(text));
    expect(message).toBe('a'.repeat(PING_BODY_LIMIT_BYTES - 1));
    expect(Buffer.byteLength(message!)).toBeLessThanOrEqual(PING_BODY_LIMIT_BYTES);
    expect(message).not.toContain('\ufffd');
    const fits = `${'a'.repeat(PING_BODY_LIMIT_BYTES - 2)}é and more`;
    expect(messageOf(Buffer.from(fits))).toBe(`${'a'.repeat(PING_BODY_LIMIT_BYTES - 2)}é`);
  });
});

describe('clipChars', () => {
  it('counts characters, not UTF-16 units, and leaves short text alone', () => {
    expect(clipChars('short')).toBe('short');
    expect(clipChars('😀'.repeat(5), 3)).toBe('😀😀😀');
    expect(clipChars('x'.repeat(2000))).toHaveLength(1024);
  });
});
