import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../src/model/notification.js';
import createPushover, { PUSHOVER_CHANNEL, type PushoverOptions } from '../../src/notify/pushover.js';
import { failure } from '../helpers/notify-failure.js';
import {
  type PushoverStandin,
  STANDIN_PUSHOVER_TOKEN,
  STANDIN_PUSHOVER_USER,
  startPushoverStandin,
} from '../helpers/standins/pushover.js';

const AT = Date.UTC(2025, 4, 6, 12, 30, 0);

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
  const options = (extra: Partial<PushoverOptions> = {}): PushoverOptions => ({
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
    const notifier = createPushover(options({ device: 'phone', sound: 'siren', down_priority: 1 }));
    expect(notifier.channel).toBe(PUSHOVER_CHANNEL);
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
    const notifier = createPushover(options({ priority: -1, down_priority: 1 }));
    await notifier.send(notification({ kind: 'up', title: 'web1 is up', resolves: true }));
    expect(standin.requests[0]!.fields.priority).toBe('-1');
  });

  it('truncates the message to 1024 and the title to 250 characters, ending in …', async () => {
    const notifier = createPushover(options());
    await notifier.send(notification({ title: 'T'.repeat(400), body: 'é'.repeat(3000) }));
    expect(standin.rejected).toEqual([]);
    const { fields } = standin.requests[0]!;
    expect(Array.from(fields.title!)).toHaveLength(250);
    expect(fields.title!.endsWith('T…')).toBe(true);
    expect(Array.from(fields.message!)).toHaveLength(1024);
    expect(fields.message!.endsWith('é…')).toBe(true);
  });

  it('keeps text of exactly the limit untouched', async () => {
    const notifier = createPushover(options());
    await notifier.send(notification({ title: 'T'.repeat(250), body: 'b'.repeat(1024) }));
    expect(standin.requests[0]!.fields.title).toBe('T'.repeat(250));
    expect(standin.requests[0]!.fields.message).toBe('b'.repeat(1024));
  });

  it('sends emergencies with retry/expire and host tags, and cancels them when the host is back', async () => {
    const notifier = createPushover(options({ down_priority: 2 }));
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
    const notifier = createPushover(options({ priority: 2, retry: 30, expire: 10_800 }));
    await notifier.send(notification({ kind: 'status' }));
    expect(standin.requests[0]!.fields).toMatchObject({ retry: '30', expire: '10800' });
  });

  it('does not cancel anything when no emergency priority is configured', async () => {
    const notifier = createPushover(options({ down_priority: 1 }));
    await notifier.send(notification({ kind: 'up', resolves: true }));
    expect(standin.requests.map((r) => r.endpoint)).toEqual(['messages']);
  });

  it('a failed cancel fails the send before the message goes out, so the retry redoes both', async () => {
    const notifier = createPushover(options({ down_priority: 2 }));
    standin.failNext(503);
    const error = await failure(notifier.send(notification({ kind: 'up', resolves: true })));
    expect(error.retryable).toBe(true);
    expect(standin.requests).toEqual([]);
  });

  it('503 is retryable', async () => {
    standin.failNext(503);
    const error = await failure(createPushover(options()).send(notification()));
    expect(error).toMatchObject({ channel: 'pushover', retryable: true, status: 503 });
  });

  it('429 is retryable after the reset announced in X-Limit-App-Reset', async () => {
    const reset = Math.floor(Date.now() / 1000) + 120;
    standin.failNext(429, 1, { 'x-limit-app-reset': String(reset), 'x-limit-app-remaining': '0' });
    const error = await failure(createPushover(options()).send(notification()));
    expect(error).toMatchObject({ retryable: true, status: 429 });
    expect(error.message).toContain('application over quota');
    expect(error.retryAfterMs).toBeGreaterThan(110_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(120_000);
  });

  it('429 falls back to Retry-After without a reset header', async () => {
    standin.failNext(429, 1, { 'retry-after': '30' });
    const error = await failure(createPushover(options()).send(notification()));
    expect(error.retryAfterMs).toBe(30_000);
  });

  it('the stand-in itself answers 429 once the monthly quota is used up', async () => {
    await standin.close();
    standin = await startPushoverStandin({ remaining: 0 });
    const error = await failure(createPushover(options()).send(notification()));
    expect(error).toMatchObject({ retryable: true, status: 429 });
  });

  it('a wrong user key is a permanent failure with Pushover’s own message', async () => {
    const notifier = createPushover(options({ user: 'x'.repeat(30) }));
    const error = await failure(notifier.send(notification()));
    expect(error).toMatchObject({ retryable: false, status: 400 });
    expect(error.message).toBe(
      'pushover: HTTP 400 Bad Request: user identifier is not a valid user, group, or subscribed user key',
    );
  });

  it('a wrong token is a permanent failure', async () => {
    const error = await failure(createPushover(options({ token: 'y'.repeat(30) })).send(notification()));
    expect(error).toMatchObject({ retryable: false, status: 400 });
    expect(error.message).toContain('application token is invalid');
  });

  it('401 is not retryable', async () => {
    standin.failNext(401);
    const error = await failure(createPushover(options()).send(notification()));
    expect(error).toMatchObject({ retryable: false, status: 401 });
    expect(error.message).toContain('forced error 401');
  });

  it('a server that does not answer is a retryable timeout', async () => {
    standin.hangNext(1);
    const started = Date.now();
    const error = await failure(createPushover(options({ timeout_ms: 200 })).send(notification()));
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/no answer from 127\.0\.0\.1:\d+ within 200 ms/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('rejects bad options when built, naming the option', () => {
    const base = { token: STANDIN_PUSHOVER_TOKEN, user: STANDIN_PUSHOVER_USER };
    expect(() => createPushover({ ...base, token: 'short' })).toThrow(/^pushover: token /);
    expect(() => createPushover({ ...base, user: '' })).toThrow(/^pushover: user /);
    expect(() => createPushover({ ...base, priority: 3 })).toThrow(/^pushover: priority /);
    expect(() => createPushover({ ...base, down_priority: 1.5 })).toThrow(/^pushover: down_priority /);
    expect(() => createPushover({ ...base, retry: 10 })).toThrow(/^pushover: retry /);
    expect(() => createPushover({ ...base, expire: 20_000 })).toThrow(/^pushover: expire /);
    expect(() => createPushover({ ...base, retry: 120, expire: 60 })).toThrow(/^pushover: retry /);
    expect(() => createPushover({ ...base, device: 'my phone' })).toThrow(/^pushover: device /);
    expect(() => createPushover({ ...base, api_url: 'not a url' })).toThrow(/^pushover: api_url /);
    expect(() => createPushover({ ...base, api_url: 'ftp://x' })).toThrow(/^pushover: api_url /);
    expect(() => createPushover({ ...base, timeout_ms: 0 })).toThrow(/^pushover: timeout_ms /);
  });
});
