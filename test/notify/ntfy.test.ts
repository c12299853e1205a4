import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import ntfy, {
  clipBytes,
  encodeHeader,
  ntfyPriority,
  ntfyTags,
  splitTopicUrl,
} from '../../src/notify/channels/ntfy.js';
import { failure } from '../helpers/notify-failure.js';
import { pushNotification } from '../helpers/sample-notification.js';
import { type NtfyRequest, STANDIN_NTFY_TOPIC, startNtfyStandin } from '../helpers/standins/ntfy.js';
import type { Standin } from '../helpers/standins/webhook.js';
import { failsLikeHttp, notifierFrom, testNotifier } from './notifier-contract.js';

const notification = pushNotification;

testNotifier(ntfy, {
  async start() {
    const standin = await startNtfyStandin({ token: 'tk_right' });
    return {
      section: ({ timeout, wrongCredentials } = {}) => ({
        url: `${standin.url}/${STANDIN_NTFY_TOPIC}`,
        token: wrongCredentials ? 'tk_wrong_but_long_enough' : 'tk_right',
        ...(timeout === undefined ? {} : { timeout }),
      }),
      accepted: () => standin.requests.length,
      // A wrong token is refused as ntfy refuses it: that is the case, not a broken request.
      rejected: () => standin.rejected.filter((entry) => entry.status !== 401),
      failNext: failsLikeHttp(standin),
      hangNext: () => standin.hangNext(),
      close: () => standin.close(),
    };
  },
  receiptId: /^[A-Za-z0-9]{12}$/,
  refusalStatus: 400,
  serverErrorStatus: 503,
  rateLimitRetryAfterMs: 7_000,
  badCredentials: /unauthorized/,
  badCredentialsStatus: 401,
});

describe('ntfy', () => {
  let standin: Standin<NtfyRequest>;
  const create = (extra: Record<string, unknown> = {}) =>
    notifierFrom(ntfy, { url: `${standin.url}/${STANDIN_NTFY_TOPIC}`, ...extra });

  beforeEach(async () => {
    standin = await startNtfyStandin();
  });
  afterEach(async () => {
    await standin.close();
  });

  it('publishes the body as text with Title, Priority and Tags, and keeps the message id', async () => {
    const receipt = await create().send(notification());
    expect(standin.rejected).toEqual([]);
    expect(standin.requests).toHaveLength(1);
    const request = standin.requests[0]!;
    expect(request.topic).toBe(STANDIN_NTFY_TOPIC);
    expect(request.title).toBe('web_1 is down');
    expect(request.rawTitle).toBe('web_1 is down');
    expect(request.priority).toBe(5);
    expect(request.tags).toEqual(['warning']);
    expect(request.authorization).toBeUndefined();
    expect(request.contentType).toBe('text/plain; charset=utf-8');
    expect(request.message).toBe('web_1 went quiet at 12:30:00 UTC.\nLast: "ok" from 198.51.100.7');
    expect(request.id).toMatch(/^[A-Za-z0-9]{12}$/);
    expect(receipt).toEqual({
      id: request.id,
      detail: `published to ${STANDIN_NTFY_TOPIC} as ${request.id}`,
    });
  });

  it('a recovery goes at default priority with a check mark', async () => {
    await create().send(notification({ kind: 'up', title: 'web_1 is back', resolves: true }));
    expect(standin.rejected).toEqual([]);
    expect(standin.requests[0]).toMatchObject({ priority: 3, tags: ['white_check_mark'] });
  });

  it('encodes a non-ASCII title as RFC 2047 words that decode back to the original', async () => {
    const title = 'Café-Server „web1“ ist ausgefallen 🔥 — 東京のホストが応答しません';
    await create().send(notification({ title }));
    expect(standin.rejected).toEqual([]);
    const request = standin.requests[0]!;
    expect(request.rawTitle).toMatch(/^=\?UTF-8\?B\?/);
    expect(request.rawTitle!.split(' ').length).toBeGreaterThan(1);
    expect(request.title).toBe(title);
  });

  it('sends the token as a bearer token', async () => {
    await standin.close();
    standin = await startNtfyStandin({ token: 'tk_0123456789abcdefghijklmnopqrs' });
    await create({ token: 'tk_0123456789abcdefghijklmnopqrs' }).send(notification());
    expect(standin.rejected).toEqual([]);
    expect(standin.requests[0]!.authorization).toBe('Bearer tk_0123456789abcdefghijklmnopqrs');
  });

  it('a wrong token is a permanent failure with ntfy’s error, and the token stays out of it', async () => {
    await standin.close();
    standin = await startNtfyStandin({ token: 'tk_right' });
    const error = await failure(create({ token: 'tk_wrong' }).send(notification()));
    expect(error).toMatchObject({ channel: 'ntfy', retryable: false, status: 401 });
    expect(error.message).toBe('ntfy: HTTP 401 Unauthorized: unauthorized');
  });

  it('403 is a permanent failure, with ntfy’s words', async () => {
    standin.failNext(403);
    const error = await failure(create().send(notification()));
    expect(error).toMatchObject({ retryable: false, status: 403 });
    expect(error.message).toContain('forbidden');
  });

  it('429 carries ntfy’s words', async () => {
    standin.failNext(429, 1, { 'retry-after': '12' });
    const error = await failure(create().send(notification()));
    expect(error).toMatchObject({ retryable: true, status: 429, retryAfterMs: 12_000 });
    expect(error.message).toContain('limit reached');
  });

  it('the timeout is the section’s seconds, named in the reason', async () => {
    standin.hangNext();
    const error = await failure(create({ timeout: 0.15 }).send(notification()));
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('within 150 ms');
  });

  it('clips a long body to ntfy’s 4096-byte message limit', async () => {
    await create().send(notification({ body: 'é'.repeat(5000) }));
    expect(standin.rejected).toEqual([]);
    const message = standin.requests[0]!.message;
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(4096);
    expect(message.endsWith('é…')).toBe(true);
  });

  it('priority and tags follow the kind', () => {
    expect(ntfyPriority({ kind: 'isolated' })).toBe(5);
    expect(ntfyPriority({ kind: 'digest' })).toBe(3);
    expect(ntfyTags({ kind: 'flapping', resolves: false })).toBe('warning');
    expect(ntfyTags({ kind: 'status', resolves: false })).toBe('warning');
    expect(ntfyTags({ kind: 'status', resolves: true })).toBe('white_check_mark');
    expect(ntfyTags({ kind: 'test', resolves: false })).toBeUndefined();
    expect(encodeHeader('plain ascii')).toBe('plain ascii');
    expect(clipBytes('abc', 10)).toBe('abc');
  });

  it('the URL is the server, which may sit under a path, and the topic', () => {
    expect(splitTopicUrl('https://ntfy.sh/mytopic')).toEqual({ server: 'https://ntfy.sh', topic: 'mytopic' });
    expect(splitTopicUrl('https://example.org/ntfy/alerts/')).toEqual({
      server: 'https://example.org/ntfy',
      topic: 'alerts',
    });
  });
});
