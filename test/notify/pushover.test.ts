import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../src/model/notification.js';
import pushover from '../../src/notify/channels/pushover.js';
import { failure } from '../helpers/notify-failure.js';
import {
  type PushoverStandin,
  STANDIN_PUSHOVER_TOKEN,
  STANDIN_PUSHOVER_USER,
  startPushoverStandin,
} from '../helpers/standins/pushover.js';
import { failsLikeHttp, notifierFrom, testNotifier } from './notifier-contract.js';

const AT = Date.UTC(2025, 4, 6, 12, 30, 0);

testNotifier(pushover, {
  async start() {
    const standin = await startPushoverStandin();
    return {
      section: ({ timeout, wrongCredentials } = {}) => ({
        token: wrongCredentials ? 'y'.repeat(30) : STANDIN_PUSHOVER_TOKEN,
        user: STANDIN_PUSHOVER_USER,
        api_url: standin.url,
        ...(timeout === undefined ? {} : { timeout }),
      }),
      accepted: () => standin.requests.length,
      rejected: () => standin.rejected,
      failNext: failsLikeHttp(standin),
      hangNext: () => standin.hangNext(),
      close: () => standin.close(),
    };
  },
  receiptId: /^[0-9a-f-]{36}$/,
  refusalStatus: 400,
  serverErrorStatus: 503,
  rateLimitRetryAfterMs: 7_000,
  badCredentials: /application token is invalid/,
  badCredentialsStatus: 400,
});

function notification(overrides: Partial<Notification> = {}): Notification {
  return {
    dedupKey: 'down:web1:1746534600000',
    kind: 'down',
    title: 'web1 is down',
    body: 'web1 went quiet at 12:30:00 UTC after 3 d up.\nLast: "ok" (status ok) from 198.51.100.7',
    hosts: [
      {
        name: 'web1',
        state: 'down',
        status: 'ok',
        msg: 'ok',
        addr: '198.51.100.7',
        previousFor: 259_200_000,
      },
    ],
    at: AT,
    resolves: false,
    ...overrides,
  };
}

describe('pushover', () => {
  let standin: PushoverStandin;
  const create = (extra: Record<string, unknown> = {}) =>
    notifierFrom(pushover, {
      token: STANDIN_PUSHOVER_TOKEN,
      user: STANDIN_PUSHOVER_USER,
      api_url: standin.url,
      ...extra,
    });

  beforeEach(async () => {
    standin = await startPushoverStandin();
  });
  afterEach(async () => {
    await standin.close();
  });

  it('sends one form-encoded message with every field as documented', async () => {
    const notifier = create({ device: 'phone', sound: 'siren', down_priority: 1 });
    const receipt = await notifier.send(notification());

    expect(standin.rejected).toEqual([]);
    expect(standin.requests).toHaveLength(1);
    const sent = standin.requests[0]!;
    expect(sent.endpoint).toBe('messages');
    expect(sent.contentType).toBe('application/x-www-form-urlencoded');
    expect(sent.fields).toEqual({
      token: STANDIN_PUSHOVER_TOKEN,
      user: STANDIN_PUSHOVER_USER,
      title: 'web1 is down',
      message: notification().body,
      timestamp: String(AT / 1000),
      priority: '1',
      device: 'phone',
      sound: 'siren',
    });
    expect(receipt.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(receipt.detail).toMatch(/queued.*messages left this month/);
  });

  it('uses priority for messages that are not "down"', async () => {
    const notifier = create({ priority: -1, down_priority: 1 });
    await notifier.send(notification({ kind: 'up', title: 'web1 is up', resolves: true }));
    expect(standin.requests[0]!.fields.priority).toBe('-1');
  });

  it('truncates the message to 1024 and the title to 250 characters, ending in …', async () => {
    await create().send(notification({ title: 'T'.repeat(400), body: 'é'.repeat(3000) }));
    expect(standin.rejected).toEqual([]);
    const { fields } = standin.requests[0]!;
    expect(Array.from(fields.title!)).toHaveLength(250);
    expect(fields.title!.endsWith('T…')).toBe(true);
    expect(Array.from(fields.message!)).toHaveLength(1024);
    expect(fields.message!.endsWith('é…')).toBe(true);
  });

  it('keeps text of exactly the limit untouched', async () => {
    await create().send(notification({ title: 'T'.repeat(250), body: 'b'.repeat(1024) }));
    expect(standin.requests[0]!.fields.title).toBe('T'.repeat(250));
    expect(standin.requests[0]!.fields.message).toBe('b'.repeat(1024));
  });

  it('sends emergencies with retry/expire and host tags, and cancels them when the host is back', async () => {
    const notifier = create({ down_priority: 2 });
    const down = await notifier.send(
      notification({
        hosts: [
          { name: 'web1', state: 'down', status: 'ok', msg: null, addr: '198.51.100.7', previousFor: null },
          { name: 'db 2', state: 'down', status: 'ok', msg: null, addr: '198.51.100.8', previousFor: null },
        ],
        title: '2 hosts down',
      }),
    );
    expect(standin.rejected).toEqual([]);
    const sent = standin.requests[0]!;
    expect(sent.fields).toMatchObject({
      priority: '2',
      retry: '60',
      expire: '3600',
      tags: 'hbd-web1,hbd-db_2',
    });
    expect(down.id).toBe(sent.receipt);
    expect(down.id).toMatch(/^[A-Za-z0-9]{30}$/);
    expect(standin.activeEmergencies.size).toBe(1);

    await notifier.send(
      notification({ kind: 'up', title: 'web1 is up', resolves: true, dedupKey: 'up:web1:1746538200000' }),
    );
    expect(standin.rejected).toEqual([]);
    const [, cancel, up] = standin.requests;
    expect(cancel).toMatchObject({ endpoint: 'cancel_by_tag', tag: 'hbd-web1', canceled: 1 });
    expect(cancel!.fields).toEqual({ token: STANDIN_PUSHOVER_TOKEN });
    expect(up!.fields.priority).toBe('0');
    expect(up!.fields.tags).toBeUndefined();
    expect(standin.activeEmergencies.size).toBe(0);
  });

  it('uses configured retry and expire for emergencies', async () => {
    await create({ priority: 2, retry: 30, expire: 10_800 }).send(notification({ kind: 'status' }));
    expect(standin.requests[0]!.fields).toMatchObject({ retry: '30', expire: '10800' });
  });

  it('does not cancel anything when no emergency priority is configured', async () => {
    await create({ down_priority: 1 }).send(notification({ kind: 'up', resolves: true }));
    expect(standin.requests.map((r) => r.endpoint)).toEqual(['messages']);
  });

  it('a failed cancel fails the send before the message goes out, so the retry redoes both', async () => {
    const notifier = create({ down_priority: 2 });
    standin.failNext(503);
    const error = await failure(notifier.send(notification({ kind: 'up', resolves: true })));
    expect(error.retryable).toBe(true);
    expect(standin.requests).toEqual([]);
  });

  it('429 is retryable after the reset announced in X-Limit-App-Reset', async () => {
    const reset = Math.floor(Date.now() / 1000) + 120;
    standin.failNext(429, 1, { 'x-limit-app-reset': String(reset), 'x-limit-app-remaining': '0' });
    const error = await failure(create().send(notification()));
    expect(error).toMatchObject({ retryable: true, status: 429 });
    expect(error.message).toContain('application over quota');
    expect(error.retryAfterMs).toBeGreaterThan(110_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(120_000);
  });

  it('the stand-in itself answers 429 once the monthly quota is used up', async () => {
    await standin.close();
    standin = await startPushoverStandin({ remaining: 0 });
    const error = await failure(create().send(notification()));
    expect(error).toMatchObject({ retryable: true, status: 429 });
  });

  it('a wrong user key is a permanent failure with Pushover’s own message', async () => {
    const error = await failure(create({ user: 'x'.repeat(30) }).send(notification()));
    expect(error).toMatchObject({ retryable: false, status: 400 });
    expect(error.message).toBe(
      'pushover: HTTP 400 Bad Request: user identifier is not a valid user, group, or subscribed user key',
    );
  });

  it('a wrong token is refused with Pushover’s status and words', async () => {
    const error = await failure(create({ token: 'y'.repeat(30) }).send(notification()));
    expect(error).toMatchObject({ retryable: false, status: 400 });
    expect(error.message).toContain('application token is invalid');
  });

  it('401 is not retryable, with the provider’s words', async () => {
    standin.failNext(401);
    const error = await failure(create().send(notification()));
    expect(error).toMatchObject({ retryable: false, status: 401 });
    expect(error.message).toContain('forced error 401');
  });

  it('the timeout is the section’s seconds, named in the reason', async () => {
    standin.hangNext(1);
    const error = await failure(create({ timeout: 0.2 }).send(notification()));
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/no answer from 127\.0\.0\.1:\d+ within 200 ms/);
  });
});
