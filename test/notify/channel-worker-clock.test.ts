/**
 * The worker's timing on a manual clock: rate limits, Retry-After, backoff and the failing alert
 * come out to the millisecond, however fast or loaded the machine is.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../src/model/notification.js';
import type { OutboxMessage } from '../../src/model/outbox.js';
import { ChannelWorker, type DeliveryPolicy } from '../../src/notify/channel-worker.js';
import { type Notifier, NotifyError } from '../../src/notify/types.js';
import type { Store } from '../../src/store/store.js';
import { ManualTimers } from '../helpers/manual-timers.js';
import { openTestStore } from '../helpers/notify-store.js';

let store: Store;
let timers: ManualTimers;
let worker: ChannelWorker | undefined;
/** What the provider was asked, and when (ms since the test began). */
let calls: { title: string; at: number }[];
/** Each call's outcome, in order; once they run out, every call succeeds. */
let outcomes: (() => never)[];
let alerts: string[];
let began: number;

beforeEach(() => {
  store = openTestStore();
  timers = new ManualTimers();
  began = timers.now();
  calls = [];
  outcomes = [];
  alerts = [];
});
afterEach(async () => {
  worker?.stop();
  await store.close();
});

const provider: Notifier = {
  channel: 'webhook',
  async send(notification) {
    calls.push({ title: notification.title, at: timers.now() - began });
    outcomes.shift()?.();
    return { detail: 'ok' };
  },
};
const fail = (status: number, retryAfterMs?: number) => () => {
  throw new NotifyError('webhook', `HTTP ${status}`, {
    retryable: status >= 500 || status === 429,
    retryAfterMs,
    status,
  });
};

function startWorker(policy: Partial<DeliveryPolicy> = {}): void {
  worker = new ChannelWorker({
    notifier: provider,
    outbox: store.outbox,
    policy: {
      concurrency: 4,
      ratePerMinute: 0,
      retryMinMs: 1000,
      retryMaxMs: 8000,
      alertAfterMs: 60_000,
      ...policy,
    },
    now: timers.now,
    timers,
    log: pino({ level: 'silent' }),
    onFailing: (channel) => alerts.push(`failing ${channel} at ${timers.now() - began}`),
    onRecovered: (channel) => alerts.push(`recovered ${channel} at ${timers.now() - began}`),
    random: () => 0.5,
  });
}

function notification(host: string): Notification {
  return {
    dedupKey: `${host}-down`,
    kind: 'down',
    title: `${host} is down`,
    body: `${host} went silent`,
    hosts: [{ name: host, state: 'down', status: 'ok', msg: null, addr: '192.0.2.7', previousFor: null }],
    at: timers.now(),
    resolves: false,
  };
}

async function queue(host: string): Promise<OutboxMessage> {
  const now = timers.now();
  const [stored] = await store.outbox.decide({
    consumed: [],
    messages: [
      { channel: 'webhook', notification: notification(host), createdAt: now, deadlineAt: now + 3_600_000 },
    ],
    notified: [],
  });
  return stored!;
}

describe('ChannelWorker on a manual clock', () => {
  it('past the rate limit, what arrives within one instant goes out as one digest, even one by one', async () => {
    startWorker({ ratePerMinute: 2 });
    // Handed over one at a time, each after its own store call: still one instant.
    for (const host of ['h1', 'h2', 'h3', 'h4', 'h5']) worker!.enqueue(await queue(host));
    await timers.advance(0);
    expect(calls.map((call) => call.title)).toEqual(['h1 is down', '4 notifications (rate limit reached)']);
    const pending = await queue('h6');
    worker!.enqueue(pending);
    await timers.advance(59_999);
    expect(calls).toHaveLength(2);
    await timers.advance(1);
    expect(calls.at(-1)).toEqual({ title: 'h6 is down', at: 60_000 });
  });

  it('retries after exactly what Retry-After says, and after the backoff otherwise', async () => {
    startWorker();
    outcomes.push(fail(429, 5000), fail(503), fail(503));
    worker!.enqueue(await queue('h1'));
    await timers.advance(60_000);
    // 429 → 5 s; then 503s: 3/4 of the second and third attempts' ceilings, 2 s and 4 s (the
    // jitter fixed at its middle).
    expect(calls.map((call) => call.at)).toEqual([0, 5000, 6500, 9500]);
    expect((await store.outbox.list({ limit: 1 }))[0]).toMatchObject({ state: 'sent', attempts: 4 });
  });

  it('tells of a channel failing for alertAfterMs once, and of its recovery', async () => {
    startWorker({ alertAfterMs: 10_000, retryMinMs: 4000, retryMaxMs: 4000 });
    outcomes.push(...Array.from({ length: 4 }, () => fail(503)));
    worker!.enqueue(await queue('h1'));
    await timers.advance(60_000);
    // Every 3 s (3/4 of 4 s): failures at 0, 3, 6, 9 s; the alert at 10 s; delivered at 12 s.
    expect(calls.map((call) => call.at)).toEqual([0, 3000, 6000, 9000, 12_000]);
    expect(alerts).toEqual(['failing webhook at 10000', 'recovered webhook at 12000']);
  });
});
