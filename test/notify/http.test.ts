import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  clip,
  parseHttpDate,
  parseRetryAfter,
  postForm,
  postJson,
  postText,
  request,
} from '../../src/notify/channels/http.js';
import { failure } from '../helpers/notify-failure.js';
import { type Standin, startHttpStandin } from '../helpers/standins/webhook.js';

interface Seen {
  contentType: string | undefined;
  raw: string;
}

describe('parseRetryAfter', () => {
  const now = Date.UTC(2025, 0, 1, 0, 0, 0);
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });
  it('reads an HTTP date', () => {
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:01:30 GMT', now)).toBe(90_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0);
  });
  it('reads all three forms of HTTP date, each as UTC, wherever hbd runs', () => {
    const zone = process.env.TZ;
    // A zone far from UTC: an asctime date read as local time would be hours off.
    process.env.TZ = 'America/New_York';
    try {
      expect(parseRetryAfter('Wed, 01 Jan 2025 00:01:30 GMT', now)).toBe(90_000);
      expect(parseRetryAfter('Wednesday, 01-Jan-25 00:01:30 GMT', now)).toBe(90_000);
      expect(parseRetryAfter('Wed Jan  1 00:01:30 2025', now)).toBe(90_000);
      expect(parseRetryAfter('Fri Jan 10 00:00:00 2025', now)).toBe(9 * 86_400_000);
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });
  it('takes a two-digit year more than 50 years ahead for the past century (RFC 9110)', () => {
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', now)).toBe(Date.UTC(1994, 10, 6, 8, 49, 37));
    expect(parseHttpDate('Friday, 01-Jan-75 00:00:00 GMT', now)).toBe(Date.UTC(2075, 0, 1));
    expect(parseHttpDate('Friday, 01-Jan-76 00:00:00 GMT', now)).toBe(Date.UTC(1976, 0, 1));
  });
  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('Sat, 31 Feb 2025 00:00:00 GMT', now)).toBeUndefined();
    expect(parseRetryAfter('Wed, 01 Jan 2025 24:00:00 GMT', now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('clip', () => {
  it('counts characters, not UTF-16 units, and marks the cut', () => {
    expect(clip('abc', 3)).toBe('abc');
    expect(clip('abcd', 3)).toBe('ab…');
    expect(clip('😀😀😀😀', 3)).toBe('😀😀…');
  });
});

describe('request', () => {
  let standin: Standin<Seen>;
  let next: { status: number; body: string; headers?: Record<string, string> };

  beforeEach(async () => {
    next = { status: 200, body: '{"ok":true}', headers: { 'content-type': 'application/json' } };
    standin = await startHttpStandin<Seen>({
      errorAnswer: (status) => ({
        body: `<html>forced ${status}</html>`,
        headers: { 'content-type': 'text/html' },
      }),
      handle: (req) => ({ ...next, record: { contentType: req.headers['content-type'], raw: req.raw } }),
    });
  });
  afterEach(async () => {
    await standin.close();
  });

  it('posts forms, JSON and text with their content types and parses JSON answers', async () => {
    const form = await postForm('t', standin.url, { a: 'x y', b: 2, skipped: undefined });
    await postJson('t', standin.url, { a: 1 });
    next = { status: 200, body: 'ok' };
    const text = await postText('t', standin.url, 'héllo');
    expect(form).toMatchObject({ status: 200, json: { ok: true } });
    expect(text).toMatchObject({ status: 200, text: 'ok', json: undefined });
    expect(standin.requests).toEqual([
      { contentType: 'application/x-www-form-urlencoded', raw: 'a=x+y&b=2' },
      { contentType: 'application/json', raw: '{"a":1}' },
      { contentType: 'text/plain; charset=utf-8', raw: 'héllo' },
    ]);
  });

  it('5xx is retryable, and keeps at most 300 characters of the answer', async () => {
    next = { status: 502, body: 'x'.repeat(1000) };
    const error = await failure(postJson('chan', standin.url, {}));
    expect(error).toMatchObject({ channel: 'chan', retryable: true, status: 502 });
    const detail = error.message.replace(/^chan: HTTP 502 Bad Gateway: /, '');
    expect(detail).toHaveLength(300);
    expect(detail.endsWith('…')).toBe(true);
  });

  it('429 takes Retry-After as an HTTP date', async () => {
    const now = Date.UTC(2025, 0, 1);
    standin.failNext(429, 1, { 'retry-after': 'Wed, 01 Jan 2025 00:00:45 GMT' });
    const error = await failure(postJson('t', standin.url, {}, { now: () => now }));
    expect(error).toMatchObject({ retryable: true, status: 429, retryAfterMs: 45_000 });
  });

  it('429 prefers the provider’s reset header when given one', async () => {
    standin.failNext(429, 1, { 'retry-after': '5', 'x-reset': '7' });
    const error = await failure(
      postJson('t', standin.url, {}, { retryAfter: (h) => Number(h.get('x-reset')) * 1000 }),
    );
    expect(error.retryAfterMs).toBe(7_000);
  });

  it('429 without any hint is retryable with no delay given', async () => {
    standin.failNext(429);
    const error = await failure(postJson('t', standin.url, {}));
    expect(error).toMatchObject({ retryable: true, retryAfterMs: undefined });
  });

  it('other 4xx are permanent, with the provider’s text picked by errorText', async () => {
    next = { status: 403, body: '{"message":"nope"}', headers: { 'content-type': 'application/json' } };
    const error = await failure(
      postJson('t', standin.url, {}, { errorText: (json) => (json as { message: string }).message }),
    );
    expect(error).toMatchObject({ retryable: false, status: 403, message: 't: HTTP 403 Forbidden: nope' });
  });

  it('a timeout is retryable', async () => {
    standin.hangNext();
    const error = await failure(postJson('t', standin.url, {}, { timeoutMs: 100 }));
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('within 100 ms');
  });

  it('the caller’s signal aborts the request too', async () => {
    standin.hangNext();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await failure(postJson('t', standin.url, {}, { signal: controller.signal }));
    expect(error).toMatchObject({ retryable: true });
    expect(error.message).toContain('aborted');
  });

  it('a refused connection is retryable and names the host, not the full URL', async () => {
    const url = `${standin.url}/hooks/secret-key`;
    await standin.close();
    const error = await failure(request({ channel: 't', url, body: '{}' }));
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/^t: cannot reach 127\.0\.0\.1:\d+: /);
    expect(error.message).not.toContain('secret-key');
    standin = await startHttpStandin({ errorAnswer: () => ({ body: '' }), handle: () => ({ status: 200 }) });
  });
});
