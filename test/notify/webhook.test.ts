import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../src/model/notification.js';
import webhook from '../../src/notify/channels/webhook.js';
import { failure } from '../helpers/notify-failure.js';
import { type ReceivedWebhook, type Standin, startWebhookStandin } from '../helpers/standins/webhook.js';
import { failsLikeHttp, notifierFrom, testNotifier } from './notifier-contract.js';

const SECRET = 'correct horse battery staple';
const AT = Date.UTC(2025, 4, 6, 12, 30, 0, 123);

testNotifier(webhook, {
  async start() {
    const standin = await startWebhookStandin({ secret: SECRET });
    return {
      section: ({ timeout, wrongCredentials } = {}) => ({
        url: `${standin.url}/hooks/hbd`,
        secret: wrongCredentials ? 'another secret, 16+' : SECRET,
        ...(timeout === undefined ? {} : { timeout }),
      }),
      accepted: () => standin.requests.length,
      // A wrong signature is refused as a receiver refuses it: that is the case, not a broken request.
      rejected: () => standin.rejected.filter((entry) => entry.status !== 401),
      failNext: failsLikeHttp(standin),
      hangNext: () => standin.hangNext(),
      close: () => standin.close(),
    };
  },
  receiptId: undefined,
  refusalStatus: 400,
  serverErrorStatus: 503,
  rateLimitRetryAfterMs: 7_000,
  badCredentials: /bad signature/,
  badCredentialsStatus: 401,
});

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
  const create = (extra: Record<string, unknown> = {}) =>
    notifierFrom(webhook, { url: `${standin.url}/hooks/hbd`, ...extra });

  beforeEach(async () => {
    standin = await startWebhookStandin();
  });
  afterEach(async () => {
    await standin.close();
  });

  it('posts the documented JSON with the dedup key header and no signature without a secret', async () => {
    const notifier = create({ headers: { Authorization: 'Bearer abc' } });
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
    await create().send(notification({ details }));
    expect(standin.rejected).toEqual([]);
    const [got] = standin.requests;
    expect(got!.body.details).toBe(details);
    expect(got!.body.body).toBe('web1 went quiet at 12:30:00 UTC.');
  });

  it('a message about no host has an empty host list', async () => {
    await create().send(notification({ kind: 'test', hosts: [], dedupKey: 'test-1' }));
    expect(standin.rejected).toEqual([]);
    expect(standin.requests[0]!.body).toMatchObject({ kind: 'test', hosts: [] });
  });

  it('signs the exact body bytes; the signature verifies with node:crypto', async () => {
    await standin.close();
    standin = await startWebhookStandin({ secret: SECRET });
    await create({ secret: SECRET }).send(notification({ title: 'wéb1 is down ✓' }));
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
    const error = await failure(create({ secret: 'another secret, 16+' }).send(notification()));
    expect(error).toMatchObject({ retryable: false, status: 401 });
    expect(error.message).toContain('bad signature');
  });

  it('percent-encodes a dedup key that is not printable ASCII', async () => {
    await create().send(notification({ dedupKey: 'down:wéb1' }));
    expect(standin.requests[0]!.headers['x-hbd-dedup-key']).toBe('down%3Aw%C3%A9b1');
  });

  it('400 is permanent and carries the receiver’s text', async () => {
    standin.failNext(400, 1, {}, '{"error":"unknown kind"}');
    const error = await failure(create().send(notification()));
    expect(error).toMatchObject({ retryable: false, status: 400 });
    expect(error.message).toBe('webhook: HTTP 400 Bad Request: {"error":"unknown kind"}');
  });
});
