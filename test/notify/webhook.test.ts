import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../src/model/notification.js';
import createWebhook, { WEBHOOK_CHANNEL, type WebhookOptions } from '../../src/notify/webhook.js';
import { failure } from '../helpers/notify-failure.js';
import { type ReceivedWebhook, type Standin, startWebhookStandin } from '../helpers/standins/webhook.js';

const SECRET = 'correct horse battery staple';
const AT = Date.UTC(2025, 4, 6, 12, 30, 0, 123);

function notification(overrides: Partial<Notification> = {}): Notification {
  return {
    dedupKey: 'down:web1:1746534600123',
    kind: 'down',
    title: 'web1 is down',
    body: 'web1 went quiet at 12:30:00 UTC.',
    hosts: [
      {
        name: 'web1',
        state: 'down',
        status: 'ok',
        msg: 'all good',
        addr: '198.51.100.7',
        previousFor: 259_200_000,
      },
      { name: 'web2', state: 'down', status: 'warn', msg: null, addr: '2001:db8::2', previousFor: null },
    ],
    at: AT,
    resolves: false,
    ...overrides,
  };
}

describe('webhook', () => {
  let standin: Standin<ReceivedWebhook>;
  const options = (extra: Partial<WebhookOptions> = {}): WebhookOptions => ({
    url: `${standin.url}/hooks/hbd`,
    ...extra,
  });

  beforeEach(async () => {
    standin = await startWebhookStandin();
  });
  afterEach(async () => {
    await standin.close();
  });

  it('posts the documented JSON with the dedup key header and no signature without a secret', async () => {
    const notifier = createWebhook(options({ headers: { Authorization: 'Bearer abc' } }));
    expect(notifier.channel).toBe(WEBHOOK_CHANNEL);
    const receipt = await notifier.send(notification());
    expect(standin.rejected).toEqual([]);
    const [got] = standin.requests;
    expect(got!.body).toEqual({
      dedup_key: 'down:web1:1746534600123',
      kind: 'down',
      title: 'web1 is down',
      body: 'web1 went quiet at 12:30:00 UTC.',
      details: 'web1 went quiet at 12:30:00 UTC.',
      at: '2025-05-06T12:30:00.123Z',
      resolves: false,
      hosts: [
        {
          name: 'web1',
          state: 'down',
          status: 'ok',
          msg: 'all good',
          addr: '198.51.100.7',
          previous_for_ms: 259_200_000,
        },
        {
          name: 'web2',
          state: 'down',
          status: 'warn',
          msg: null,
          addr: '2001:db8::2',
          previous_for_ms: null,
        },
      ],
    });
    expect(got!.headers['content-type']).toBe('application/json');
    expect(got!.headers['x-hbd-dedup-key']).toBe('down:web1:1746534600123');
    expect(got!.headers.authorization).toBe('Bearer abc');
    expect(got!.headers['x-hbd-signature']).toBeUndefined();
    expect(receipt).toEqual({ detail: 'delivered (HTTP 204)' });
  });

  it('carries the full details next to the short body', async () => {
    const details =
      'web1 went quiet at 12:30:00 UTC.\n  last msg "all good", status ok\n  address 198.51.100.7';
    await createWebhook(options()).send(notification({ details }));
    expect(standin.rejected).toEqual([]);
    const [got] = standin.requests;
    expect(got!.body.details).toBe(details);
    expect(got!.body.body).toBe('web1 went quiet at 12:30:00 UTC.');
  });

  it('a message about no host has an empty host list', async () => {
    await createWebhook(options()).send(notification({ kind: 'test', hosts: [], dedupKey: 'test-1' }));
    expect(standin.rejected).toEqual([]);
    expect(standin.requests[0]!.body).toMatchObject({ kind: 'test', hosts: [] });
  });

  it('signs the exact body bytes; the signature verifies with node:crypto', async () => {
    await standin.close();
    standin = await startWebhookStandin({ secret: SECRET });
    await createWebhook(options({ secret: SECRET })).send(notification({ title: 'wéb1 is down ✓' }));
    expect(standin.rejected).toEqual([]);
    const [got] = standin.requests;
    const header = got!.headers['x-hbd-signature'] as string;
    expect(header).toMatch(/^sha256=[0-9a-f]{64}$/);
    const expected = createHmac('sha256', SECRET).update(Buffer.from(got!.raw, 'utf8')).digest();
    expect(timingSafeEqual(expected, Buffer.from(header.slice('sha256='.length), 'hex'))).toBe(true);
  });

  it('a wrong secret is refused by the receiver, permanently', async () => {
    await standin.close();
    standin = await startWebhookStandin({ secret: SECRET });
    const error = await failure(
      createWebhook(options({ secret: 'another secret, 16+' })).send(notification()),
    );
    expect(error).toMatchObject({ retryable: false, status: 401 });
    expect(error.message).toContain('bad signature');
  });

  it('percent-encodes a dedup key that is not printable ASCII', async () => {
    await createWebhook(options()).send(notification({ dedupKey: 'down:wéb1' }));
    expect(standin.requests[0]!.headers['x-hbd-dedup-key']).toBe('down%3Aw%C3%A9b1');
  });

  it('503 is retryable', async () => {
    standin.failNext(503);
    const error = await failure(createWebhook(options()).send(notification()));
    expect(error).toMatchObject({ channel: 'webhook', retryable: true, status: 503 });
  });

  it('429 is retryable after Retry-After', async () => {
    standin.failNext(429, 1, { 'retry-after': '12' });
    const error = await failure(createWebhook(options()).send(notification()));
    expect(error).toMatchObject({ retryable: true, status: 429, retryAfterMs: 12_000 });
  });

  it('400 is permanent and carries the receiver’s text', async () => {
    standin.failNext(400, 1, {}, '{"error":"unknown kind"}');
    const error = await failure(createWebhook(options()).send(notification()));
    expect(error).toMatchObject({ retryable: false, status: 400 });
    expect(error.message).toBe('webhook: HTTP 400 Bad Request: {"error":"unknown kind"}');
  });

  it('a receiver that does not answer is a retryable timeout', async () => {
    standin.hangNext();
    const error = await failure(createWebhook(options({ timeout_ms: 150 })).send(notification()));
    expect(error.retryable).toBe(true);
  });

  it('rejects bad options when built, naming the option', () => {
    const url = 'https://hooks.example.org/hbd';
    expect(() => createWebhook({} as WebhookOptions)).toThrow(/^webhook: url /);
    expect(() => createWebhook({ url: 'mailto:x@example.org' })).toThrow(/^webhook: url /);
    expect(() => createWebhook({ url, secret: 'short' })).toThrow(/^webhook: secret /);
    expect(() => createWebhook({ url, headers: { 'X-Hbd-Signature': 'x' } })).toThrow(/^webhook: headers /);
    expect(() => createWebhook({ url, headers: { 'bad name': 'x' } })).toThrow(/^webhook: headers /);
    expect(() => createWebhook({ url, headers: { X: 'a\r\nb' } })).toThrow(/^webhook: headers /);
    expect(() => createWebhook({ url, timeout_ms: 1.5 })).toThrow(/^webhook: timeout_ms /);
  });
});
