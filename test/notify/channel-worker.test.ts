import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../src/model/notification.js';
import type { OutboxMessage } from '../../src/model/outbox.js';
import {
  type ChannelStats,
  ChannelWorker,
  type ChannelWorkerOptions,
  type DeliveryPolicy,
  digestOf,
} from '../../src/notify/channel-worker.js';
import webhookChannel from '../../src/notify/channels/webhook.js';
import { type Notifier, NotifyError } from '../../src/notify/types.js';
import type { Store } from '../../src/store/store.js';
import { eventually } from '../helpers/eventually.js';
import { openTestStore } from '../helpers/notify-store.js';
import { type ReceivedWebhook, type Standin, startWebhookStandin } from '../helpers/standins/webhook.js';

const log = pino({ level: 'silent' });

let dir: string;
let store: Store;
let standin: Standin<ReceivedWebhook>;
let worker: ChannelWorker | undefined;
let failing: { channel: string; stats: ChannelStats; at: number }[];
let recovered: { channel: string; stats: ChannelStats; at: number }[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hbd-worker-'));
  store = openTestStore(join(dir, 'state.sqlite'));
  standin = await startWebhookStandin();
  worker = undefined;
  failing = [];
  recovered = [];
});
afterEach(async () => {
  worker?.stop();
  await standin.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function webhook(): Notifier {
  return webhookChannel.create(webhookChannel.schema.parse({ url: `${standin.url}/hooks/hbd` }), {
    now: Date.now,
  });
}

function startWorker(policy: Partial<DeliveryPolicy> = {}, options: Partial<ChannelWorkerOptions> = {}) {
  worker = new ChannelWorker({
    notifier: webhook(),
    outbox: store.outbox,
    policy: {
      concurrency: 2,
      ratePerMinute: 0,
      retryMinMs: 20,
      retryMaxMs: 1000,
      alertAfterMs: 60_000,
      ...policy,
    },
    now: Date.now,
    log,
    onFailing: (channel, stats) => failing.push({ channel, stats: { ...stats }, at: Date.now() }),
    onRecovered: (channel, stats) => recovered.push({ channel, stats: { ...stats }, at: Date.now() }),
    // The middle of the jitter: backoffs of exactly 3/4 of each ceiling.
    random: () => 0.5,
    ...options,
  });
  return worker;
}

function notification(key: string, hosts: string[]): Notification {
  return {
    dedupKey: key,
    kind: 'down',
    title: `${hosts.join(', ')} down`,
    body: `${hosts.join(', ')} went silent`,
    hosts: hosts.map((name) => ({
      name,
      state: 'down',
      status: 'ok',
      msg: null,
      addr: '192.0.2.7',
      previousFor: 60_000,
    })),
    at: Date.now(),
    resolves: false,
  };
}

/** Stores one message per entry, in order (so ids follow it), and hands them all to the worker at once. */
async function send(
  entries: [key: string, hosts: string[]][],
  deadlineInMs = 60_000,
): Promise<OutboxMessage[]> {
  const messages = await queue(entries, deadlineInMs);
  for (const message of messages) worker!.enqueue(message);
  return messages;
}

/** Stores one message per entry, in order, without telling any worker. */
async function queue(
  entries: [key: string, hosts: string[]][],
  deadlineInMs = 60_000,
): Promise<OutboxMessage[]> {
  const now = Date.now();
  const messages: OutboxMessage[] = [];
  for (const [key, hosts] of entries) {
    const [stored] = await store.outbox.decide({
      consumed: [],
      messages: [
        {
          channel: 'webhook',
          notification: notification(key, hosts),
          createdAt: now,
          deadlineAt: now + deadlineInMs,
        },
      ],
      notified: [],
    });
    messages.push(stored!);
  }
  return messages;
}

/**
 * The real channel, slowed down and watched: records sends about one host that overlap, and the
 * most sends in flight at once.
 */
function watch(inner: Notifier) {
  const busy = new Set<string>();
  let inFlight = 0;
  const seen = { overlaps: [] as string[], maxInFlight: 0 };
  const notifier: Notifier = {
    channel: inner.channel,
    async send(n, signal) {
      for (const host of n.hosts) {
        if (busy.has(host.name)) seen.overlaps.push(host.name);
        busy.add(host.name);
      }
      seen.maxInFlight = Math.max(seen.maxInFlight, ++inFlight);
      try {
        await sleep(40);
        return await inner.send(n, signal);
      } finally {
        inFlight--;
        for (const host of n.hosts) busy.delete(host.name);
      }
    },
  };
  return Object.assign(seen, { notifier });
}

/** The message as the outbox has it now; `eventually` takes the promise. */
const stored = async (id: number) => (await store.outbox.list({ limit: 1000 })).find((m) => m.id === id)!;
const states = async (messages: readonly OutboxMessage[]) =>
  Promise.all(messages.map(async (m) => (await stored(m.id)).state));
const keys = () => standin.requests.map((r) => r.body.dedup_key);

describe('ChannelWorker', () => {
  it('sends a pending message and marks it sent with the receipt', async () => {
    startWorker();
    const before = Date.now();
    const [m] = await send([['k1', ['web1']]]);
    await eventually(async () => expect((await stored(m!.id)).state).toBe('sent'));
    expect(keys()).toEqual(['k1']);
    expect(standin.requests[0]!.headers['x-hbd-dedup-key']).toBe('k1');
    expect(standin.rejected).toEqual([]);
    const done = await stored(m!.id);
    expect(done).toEqual(
      expect.objectContaining({ attempts: 1, receipt: 'delivered (HTTP 204)', lastError: null }),
    );
    expect(done.doneAt).toBeGreaterThanOrEqual(before);
    expect(worker!.stats).toEqual(
      expect.objectContaining({ sent: 1, failed: 0, retries: 0, pending: 0, failingSince: null }),
    );
  });

  it('ignores a message that is no longer pending', async () => {
    startWorker();
    const [m] = await send([['k1', ['web1']]]);
    await eventually(async () => expect((await stored(m!.id)).state).toBe('sent'));
    worker!.enqueue(await stored(m!.id));
    expect(worker!.stats.pending).toBe(0);
  });

  it('retries a 503 with backoff and delivers once, counting the attempts', async () => {
    standin.failNext(503, 2);
    startWorker({ retryMinMs: 20 });
    const [m] = await send([['k1', ['web1']]]);
    await eventually(async () => expect((await stored(m!.id)).state).toBe('sent'));
    expect(keys()).toEqual(['k1']);
    expect(await stored(m!.id)).toEqual(
      expect.objectContaining({ attempts: 3, lastError: null, receipt: 'delivered (HTTP 204)' }),
    );
    expect(worker!.stats).toEqual(expect.objectContaining({ sent: 1, retries: 2, failed: 0 }));
    // Two short failures are no reason to alarm anyone.
    expect(failing).toEqual([]);
    expect(recovered).toEqual([]);
  });

  it('keeps the reason and the next attempt in the outbox while it waits', async () => {
    standin.failNext(503, 1);
    startWorker({ retryMinMs: 2000, retryMaxMs: 4000 });
    const before = Date.now();
    const [m] = await send([['k1', ['web1']]]);
    await eventually(async () => expect((await stored(m!.id)).attempts).toBe(1));
    const waiting = await stored(m!.id);
    expect(waiting.state).toBe('pending');
    expect(waiting.lastError).toMatch(/^webhook: HTTP 503/);
    // retry_min with the jitter fixed at its middle: 3/4 of 2 s.
    expect(waiting.nextAttemptAt - before).toBeGreaterThanOrEqual(1500);
    expect(waiting.nextAttemptAt - Date.now()).toBeLessThanOrEqual(1500);
    expect(worker!.stats.failingSince).not.toBeNull();
    expect(worker!.stats.lastError).toBe(waiting.lastError);
  });

  it('waits as long as Retry-After says on a 429', async () => {
    standin.failNext(429, 1, { 'retry-after': '1' });
    startWorker({ retryMinMs: 20 });
    const before = Date.now();
    const [m] = await send([['k1', ['web1']]]);
    await eventually(async () => expect((await stored(m!.id)).state).toBe('sent'), 5000);
    expect(Date.now() - before).toBeGreaterThanOrEqual(990);
    expect((await stored(m!.id)).attempts).toBe(2);
    expect(worker!.stats.retries).toBe(1);
  });

  it.each([
    ['0', '0'],
    ['a date already past', 'Thu, 01 Jan 1970 00:00:00 GMT'],
  ])('waits at least retry_min on a 429 whose Retry-After is %s', async (_, retryAfter) => {
    standin.failNext(429, 1, { 'retry-after': retryAfter });
    startWorker({ retryMinMs: 400, retryMaxMs: 1000 });
    const before = Date.now();
    const [m] = await send([['k1', ['web1']]]);
    await eventually(async () => expect((await stored(m!.id)).state).toBe('sent'));
    expect(Date.now() - before).toBeGreaterThanOrEqual(390);
    expect((await stored(m!.id)).attempts).toBe(2);
  });

  it('fails a refused message at once with the reason, without retrying it', async () => {
    standin.failNext(400, 1);
    startWorker();
    const [bad] = await send([['k1', ['web1']]]);
    await eventually(async () => expect((await stored(bad!.id)).state).toBe('failed'));
    const failed = await stored(bad!.id);
    expect(failed.attempts).toBe(1);
    expect(failed.lastError).toMatch(/^webhook: HTTP 400 Bad Request/);
    expect(failed.lastError).toContain('forced 400');
    expect(failed.doneAt).not.toBeNull();
    // The next message about the same host is not held back by the failed one.
    const [next] = await send([['k2', ['web1']]]);
    await eventually(async () => expect((await stored(next!.id)).state).toBe('sent'));
    expect(keys()).toEqual(['k2']);
    expect(worker!.stats).toEqual(expect.objectContaining({ sent: 1, failed: 1, retries: 0 }));
  });

  it('takes one refused message for no sign of a failing channel: no alert, no slowing down', async () => {
    standin.failNext(400, 1);
    const watched = watch(webhook());
    startWorker({ alertAfterMs: 100, concurrency: 2 }, { notifier: watched.notifier });
    const [bad] = await send([['k1', ['web1']]]);
    await eventually(async () => expect((await stored(bad!.id)).state).toBe('failed'));
    expect(worker!.stats).toEqual(expect.objectContaining({ failingSince: null, lastError: null }));
    // Well past alertAfterMs, with nothing else to send.
    await sleep(300);
    expect(failing).toEqual([]);
    // Not probing one message at a time, as it would for a failing channel.
    const next = await send([
      ['k2', ['web2']],
      ['k3', ['web3']],
    ]);
    await eventually(async () => expect(await states(next)).toEqual(['sent', 'sent']));
    expect(watched.maxInFlight).toBe(2);
    expect(failing).toEqual([]);
    expect(recovered).toEqual([]);
  });

  it('gives up when the next attempt would fall after the deadline', async () => {
    standin.failNext(503, 1);
    startWorker({ retryMinMs: 1000, retryMaxMs: 5000 });
    const [m] = await send([['k1', ['web1']]], 100);
    await eventually(async () => expect((await stored(m!.id)).state).toBe('failed'));
    const failed = await stored(m!.id);
    expect(failed.lastError).toMatch(/^gave up after 1 attempts?: webhook: HTTP 503/);
    expect(failed.attempts).toBe(1);
    expect(worker!.stats).toEqual(expect.objectContaining({ failed: 1, retries: 0, pending: 0 }));
    expect(keys()).toEqual([]);
  });

  it('never has two messages about one host in flight, and sends them in id order', async () => {
    const watched = watch(webhook());
    startWorker({ concurrency: 4 }, { notifier: watched.notifier });
    const messages = await send([
      ['a1', ['a']],
      ['a2', ['a']],
      ['b1', ['b']],
      ['ab', ['a', 'b']],
      ['c1', ['c']],
      ['a3', ['a']],
      ['d1', ['d']],
    ]);
    await eventually(async () => expect(await states(messages)).toEqual(Array(7).fill('sent')));
    expect(watched.overlaps).toEqual([]);
    const order = keys();
    const about = (host: string) => order.filter((key) => key.includes(host));
    expect(about('a')).toEqual(['a1', 'a2', 'ab', 'a3']);
    expect(about('b')).toEqual(['b1', 'ab']);
    // Other hosts did not wait for them.
    expect(watched.maxInFlight).toBeGreaterThan(1);
    expect(watched.maxInFlight).toBeLessThanOrEqual(4);
  });

  it('has at most `concurrency` messages in flight', async () => {
    const watched = watch(webhook());
    startWorker({ concurrency: 2 }, { notifier: watched.notifier });
    const messages = await send(
      Array.from({ length: 6 }, (_, i): [string, string[]] => [`k${i}`, [`h${i}`]]),
    );
    await eventually(async () => expect(await states(messages)).toEqual(Array(6).fill('sent')));
    expect(watched.maxInFlight).toBe(2);
  });

  it('holds back a host’s later message while an earlier one waits for its retry', async () => {
    standin.failNext(503, 1);
    startWorker({ concurrency: 4, retryMinMs: 1000 });
    const [first, second] = await send([
      ['a1', ['a']],
      ['a2', ['a']],
    ]);
    await eventually(async () => expect((await stored(first!.id)).attempts).toBe(1));
    expect((await stored(second!.id)).state).toBe('pending');
    await eventually(async () => expect((await stored(second!.id)).state).toBe('sent'));
    expect(keys()).toEqual(['a1', 'a2']);
    expect((await stored(first!.id)).doneAt!).toBeLessThanOrEqual((await stored(second!.id)).doneAt!);
  });

  it('past the rate limit, sends the waiting messages as one digest and marks them merged', async () => {
    startWorker({ ratePerMinute: 2, concurrency: 4 });
    const messages = await send([
      ['k1', ['h1']],
      ['k2', ['h2']],
      ['k3', ['h3']],
      ['k4', ['h4']],
      ['k5', ['h5']],
    ]);
    await eventually(() => expect(standin.requests).toHaveLength(2));
    const digest = standin.requests.find((r) => r.body.kind === 'digest');
    expect(digest).toBeDefined();
    expect(digest!.body.title).toBe('4 notifications (rate limit reached)');
    expect(digest!.body.hosts.map((h: { name: string }) => h.name)).toEqual(['h2', 'h3', 'h4', 'h5']);
    expect(digest!.body.body.split('\n')).toEqual(['h2 down', 'h3 down', 'h4 down', 'h5 down']);
    expect(keys()).toContain('k1');

    await eventually(async () =>
      expect(await store.outbox.list({ state: 'sent', limit: 10 })).toHaveLength(2),
    );
    const digestRow = (await store.outbox.list({ state: 'sent', limit: 10 })).find(
      (m) => m.notification.kind === 'digest',
    );
    expect(digestRow?.notification.dedupKey).toBe(digest!.body.dedup_key);
    expect(digestRow!.id).toBeGreaterThan(messages[4]!.id);
    const merged = await store.outbox.list({ state: 'merged', limit: 10 });
    expect(merged.map((m) => m.id).sort((x, y) => x - y)).toEqual(messages.slice(1).map((m) => m.id));
    expect(merged.map((m) => m.mergedInto)).toEqual(Array(4).fill(digestRow!.id));
    expect(await store.outbox.pendingMessages()).toEqual([]);
    expect(worker!.stats).toEqual(expect.objectContaining({ sent: 2, merged: 4, pending: 0 }));
  });

  it('keeps a digest in its earliest message’s place: a later message about its host waits while it is retried', async () => {
    let offset = 0;
    const inner = webhook();
    let digestFailed = false;
    const notifier: Notifier = {
      channel: inner.channel,
      send(n, signal) {
        if (n.kind === 'digest' && !digestFailed) {
          digestFailed = true;
          // The rate window is over by the time the digest fails: only its place holds "h1 up" back.
          offset += 60_000;
          return Promise.reject(new NotifyError('webhook', 'HTTP 503', { retryable: true, status: 503 }));
        }
        return inner.send(n, signal);
      },
    };
    startWorker(
      { ratePerMinute: 2, concurrency: 4, retryMinMs: 100 },
      { notifier, now: () => Date.now() + offset },
    );
    const messages = await send(
      [
        ['h2-down', ['h2']],
        ['h1-down', ['h1']],
        ['h3-down', ['h3']],
        ['h1-up', ['h1']],
      ],
      600_000,
    );
    await eventually(async () =>
      expect(await states(messages)).toEqual(['sent', 'merged', 'merged', 'sent']),
    );
    expect(digestFailed).toBe(true);
    expect(keys().filter((key) => key.includes('h1'))).toEqual(['digest:h1-down+1', 'h1-up']);
  });

  it('keeps a digest in its earliest message’s place across a restart', async () => {
    const [, h1Down, h3Down] = await queue([
      ['h2-down', ['h2']],
      ['h1-down', ['h1']],
      ['h3-down', ['h3']],
      ['h1-up', ['h1']],
    ]);
    // What a worker past its rate limit had written when hbd stopped.
    await store.outbox.merge([h1Down!.id, h3Down!.id], {
      channel: 'webhook',
      createdAt: Date.now(),
      deadlineAt: h3Down!.deadlineAt,
      notification: digestOf([h1Down!.notification, h3Down!.notification]),
    });
    await store.close();
    store = openTestStore(join(dir, 'state.sqlite'));
    startWorker();
    for (const message of await store.outbox.pendingMessages()) worker!.enqueue(message);
    await eventually(() => expect(keys()).toHaveLength(3));
    expect(keys().filter((key) => key.includes('h1'))).toEqual(['digest:h1-down+1', 'h1-up']);
    expect(await store.outbox.pendingMessages()).toEqual([]);
  });

  it('reports a channel failing for alertAfterMs once, and its recovery after the next success', async () => {
    // About 400 ms of failures: 15 attempts, retried every 15-30 ms.
    standin.failNext(503, 15);
    startWorker({ alertAfterMs: 200, retryMinMs: 20, retryMaxMs: 40 });
    const [m] = await send([['k1', ['web1']]]);
    await eventually(() => expect(failing).toHaveLength(1));
    const alert = failing[0]!;
    expect(alert.channel).toBe('webhook');
    expect(alert.stats.lastError).toMatch(/HTTP 503/);
    expect(alert.stats.failingSince).not.toBeNull();
    expect(alert.at - alert.stats.failingSince!).toBeGreaterThanOrEqual(200);
    expect(recovered).toEqual([]);

    await eventually(async () => expect((await stored(m!.id)).state).toBe('sent'));
    await eventually(() => expect(recovered).toHaveLength(1));
    expect(failing).toHaveLength(1);
    expect(recovered[0]!.channel).toBe('webhook');
    expect(recovered[0]!.at).toBeGreaterThanOrEqual(alert.at);
    expect(recovered[0]!.stats.failingSince).toBeNull();
    expect((await stored(m!.id)).attempts).toBe(16);
    expect(worker!.stats.retries).toBe(15);
  });

  it('stops: a message cut off in flight stays pending for the next start', async () => {
    standin.hangNext(1);
    const watched = watch(webhook());
    startWorker({}, { notifier: watched.notifier });
    const [m] = await send([['k1', ['web1']]]);
    await eventually(() => expect(watched.maxInFlight).toBe(1));
    await sleep(100);
    worker!.stop();
    await sleep(50);
    expect(await stored(m!.id)).toEqual(
      expect.objectContaining({ state: 'pending', attempts: 0, lastError: null }),
    );
    expect(worker!.stats.retries).toBe(0);
  });
});
