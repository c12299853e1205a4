import { describe, expect, it } from 'vitest';
import type { HostEvent } from '../../../src/model/events.js';
import type { Notification } from '../../../src/model/notification.js';
import type { NewMessage, OutboxMessage, OutboxQuery, Trigger } from '../../../src/model/outbox.js';
import type { ContractContext } from './context.js';

/** Triggers, the outbox and what was announced per host. */
export function outboxContract(t: ContractContext): void {
  const T = Date.UTC(2026, 10, 25, 12, 0, 0);
  const DAY = 86_400_000;

  function trigger(host: string, overrides: Partial<Omit<Trigger, 'id'>> = {}): Omit<Trigger, 'id'> {
    return {
      eventId: 7,
      at: T,
      host,
      kind: 'down',
      detail: {
        from: 'up',
        to: 'down',
        reason: 'no heartbeat for 61 s',
        status: 'ok',
        msg: null,
        addr: '192.0.2.7',
        group: 'fra',
        previousFor: 3_600_000.5,
      },
      ...overrides,
    };
  }

  function notification(key: string, host = 'web1'): Notification {
    return {
      dedupKey: key,
      kind: 'down',
      title: `${host} is down`,
      body: `${host} is down (…)`,
      details: `${host} is down, in full`,
      hosts: [
        {
          name: host,
          state: 'down',
          status: 'ok',
          msg: 'é "quoted"',
          addr: '192.0.2.7',
          previousFor: 60_000,
        },
      ],
      at: T,
      resolves: false,
    };
  }

  function message(key: string, channel = 'webhook', createdAt = T, host = 'web1'): NewMessage {
    return { channel, notification: notification(key, host), createdAt, deadlineAt: createdAt + DAY };
  }

  /** What a channel worker writes in place of messages past its rate limit. */
  function digestMessage(key: string, createdAt = T): NewMessage {
    const { notification: carried, ...rest } = message(key, 'webhook', createdAt);
    return { ...rest, notification: { ...carried, kind: 'digest' } };
  }

  /** Queues messages one decision each, so ids follow the order given. */
  async function queue(...messages: NewMessage[]) {
    const queued: OutboxMessage[] = [];
    for (const m of messages)
      queued.push((await t.store.outbox.decide({ consumed: [], messages: [m], notified: [] }))[0]!);
    return queued;
  }

  describe('outbox triggers', () => {
    it('gives back what was added, with ids, in order, exactly', async () => {
      const added = await t.store.outbox.addTriggers([
        trigger('web1'),
        trigger('db1', {
          kind: 'status',
          eventId: 8,
          detail: { ...trigger('db1').detail, previousFor: null },
        }),
      ]);
      expect(added[0]!.id).toBeLessThan(added[1]!.id);
      expect(await t.store.outbox.pendingTriggers()).toEqual(added);
      expect(added[0]).toEqual({ ...trigger('web1'), id: added[0]!.id });
    });

    it('finds when a host last changed state before a given event, from the events table', async () => {
      const events = await t.store.events.append([
        { at: T - 3000, host: 'web1', kind: 'state', from: null, to: 'up', reason: 'first heartbeat' },
        { at: T - 2500, host: 'db1', kind: 'state', from: 'up', to: 'down', reason: 'silent' },
        { at: T - 2000, host: 'web1', kind: 'state', from: 'up', to: 'down', reason: 'silent' },
        { at: T - 1500, host: 'web1', kind: 'status', from: 'ok', to: 'warn', reason: 'reported' },
        { at: T - 1000, host: 'web1', kind: 'state', from: 'down', to: 'up', reason: 'heartbeat' },
      ]);
      const [first, , third, , fifth] = events as [HostEvent, HostEvent, HostEvent, HostEvent, HostEvent];
      // The status change and db1's change in between do not count.
      expect(await t.store.events.previousStateChange('web1', fifth.id)).toBe(T - 2000);
      expect(await t.store.events.previousStateChange('web1', third.id)).toBe(T - 3000);
      expect(await t.store.events.previousStateChange('web1', first.id)).toBeUndefined();
      expect(await t.store.events.previousStateChange('mail', fifth.id + 1)).toBeUndefined();
    });

    it('counts a late spell as still up: "had been up for" reaches back to when the host came up', async () => {
      const HOUR = 3_600_000;
      // What the monitor writes for a host that was late once, recovered, and then went silent.
      const events = await t.store.events.append([
        { at: T - 10 * HOUR, host: 'web1', kind: 'state', from: null, to: 'up', reason: 'first heartbeat' },
        { at: T - 2 * HOUR, host: 'web1', kind: 'state', from: 'up', to: 'late', reason: 'no heartbeat' },
        { at: T - 2 * HOUR + 5000, host: 'web1', kind: 'state', from: 'late', to: 'up', reason: 'heartbeat' },
        { at: T - 30_000, host: 'web1', kind: 'state', from: 'up', to: 'late', reason: 'no heartbeat' },
        { at: T, host: 'web1', kind: 'state', from: 'late', to: 'down', reason: 'no heartbeat' },
        { at: T + HOUR, host: 'web1', kind: 'state', from: 'down', to: 'up', reason: 'heartbeat' },
      ]);
      const down = events[4]!;
      const up = events[5]!;
      expect(await t.store.events.previousStateChange('web1', down.id)).toBe(T - 10 * HOUR);
      // Coming back, it had been down since the late → down change.
      expect(await t.store.events.previousStateChange('web1', up.id)).toBe(T);
    });

    it('stores triggers in the transaction of the transition: a rolled back commit leaves none', async () => {
      await expect(
        t.store.transaction(async (tx) => {
          const events = await tx.events.append([
            { at: T, host: 'web1', kind: 'state', from: 'up', to: 'down', reason: 'silent' },
          ]);
          await tx.outbox.addTriggers([trigger('web1', { eventId: events[0]!.id })]);
          throw new Error('disk full');
        }),
      ).rejects.toThrow('disk full');
      expect(await t.store.outbox.pendingTriggers()).toEqual([]);
      expect(await t.store.events.list({ limit: 10 })).toEqual([]);
    });
  });

  describe('outbox decisions', () => {
    it('consumes triggers, queues messages and remembers what was announced, in one go', async () => {
      const [web, db] = await t.store.outbox.addTriggers([trigger('web1'), trigger('db1')]);
      const queued = await t.store.outbox.decide({
        consumed: [web!.id],
        messages: [message('k1', 'webhook'), message('k1', 'email')],
        notified: [{ host: 'web1', downAt: T, status: 'warn', remindedAt: null }],
      });
      expect(await t.store.outbox.pendingTriggers()).toEqual([db]);
      expect(queued).toEqual([
        {
          id: queued[0]!.id,
          channel: 'webhook',
          notification: notification('k1'),
          state: 'pending',
          createdAt: T,
          attempts: 0,
          nextAttemptAt: T,
          deadlineAt: T + DAY,
          lastError: null,
          doneAt: null,
          receipt: null,
          mergedInto: null,
          position: queued[0]!.id,
        },
        expect.objectContaining({ channel: 'email', state: 'pending' }),
      ]);
      expect(await t.store.outbox.pendingMessages()).toEqual(queued);
      expect(await t.store.outbox.announcedHosts()).toEqual([
        { host: 'web1', downAt: T, status: 'warn', remindedAt: null },
      ]);
    });

    it('does not queue a second message with the same channel and dedup key', async () => {
      const [first] = await queue(message('k1'));
      const again = await t.store.outbox.decide({
        consumed: [],
        messages: [message('k1'), message('k1', 'email'), message('k2')],
        notified: [],
      });
      expect(again.map((m) => [m.channel, m.notification.dedupKey])).toEqual([
        ['email', 'k1'],
        ['webhook', 'k2'],
      ]);
      expect((await t.store.outbox.list({ limit: 10 })).map((m) => m.id)).toEqual([
        again[1]!.id,
        again[0]!.id,
        first!.id,
      ]);
    });

    it('updates and deletes what it remembers per host', async () => {
      await t.store.outbox.decide({
        consumed: [],
        messages: [],
        notified: [
          { host: 'web1', downAt: T, status: null, remindedAt: null },
          { host: 'db1', downAt: null, status: 'fail', remindedAt: null },
        ],
      });
      await t.store.outbox.decide({
        consumed: [],
        messages: [],
        notified: [
          { host: 'web1', downAt: T, status: null, remindedAt: T + 3_600_000 },
          // Neither down nor with a problem status: nothing left to remember.
          { host: 'db1', downAt: null, status: null, remindedAt: null },
        ],
      });
      expect(await t.store.outbox.announcedHosts()).toEqual([
        { host: 'web1', downAt: T, status: null, remindedAt: T + 3_600_000 },
      ]);
    });
  });

  describe('outbox delivery states', () => {
    it('lets a message be claimed for sending only while it is pending, and changes nothing by it', async () => {
      const [pending, retried, sent, failed, merged] = await queue(
        message('pending'),
        message('retried'),
        message('sent'),
        message('failed'),
        message('merged'),
      );
      await t.store.outbox.markRetry(retried!.id, 1, T + 5000, 'webhook: HTTP 503');
      await t.store.outbox.markSent(sent!.id, T + 1, 'ok');
      await t.store.outbox.markFailed(failed!.id, 3, T + 1, 'gave up');
      const digest = await t.store.outbox.merge([merged!.id], message('digest:merged+0', 'webhook', T + 2));
      const before = await t.store.outbox.list({ limit: 10 });
      const claims = async (...ids: number[]) => Promise.all(ids.map((id) => t.store.outbox.claim(id)));
      expect(await claims(pending!.id, retried!.id, digest.id)).toEqual([true, true, true]);
      expect(await claims(sent!.id, failed!.id, merged!.id, 9999)).toEqual([false, false, false, false]);
      // A claim twice is still a claim: only the outcome written after the send ends it.
      expect(await t.store.outbox.claim(pending!.id)).toBe(true);
      expect(await t.store.outbox.list({ limit: 10 })).toEqual(before);
      await t.store.outbox.markSent(pending!.id, T + 3, 'ok');
      expect(await t.store.outbox.claim(pending!.id)).toBe(false);
      // Inside a transaction it sees what the transaction wrote.
      expect(
        await t.store.transaction(async (tx) => {
          await tx.outbox.markFailed(retried!.id, 2, T + 4, 'no');
          return tx.outbox.claim(retried!.id);
        }),
      ).toBe(false);
    });

    it('records a retry and keeps the message pending', async () => {
      const [m] = await queue(message('k1'));
      await t.store.outbox.markRetry(m!.id, 2, T + 5000, 'webhook: HTTP 503');
      expect(await t.store.outbox.pendingMessages()).toEqual([
        { ...m, attempts: 2, nextAttemptAt: T + 5000, lastError: 'webhook: HTTP 503' },
      ]);
    });

    it('records a delivery: one more attempt, the receipt, no error', async () => {
      const [m] = await queue(message('k1'));
      await t.store.outbox.markRetry(m!.id, 2, T + 5000, 'webhook: HTTP 503');
      await t.store.outbox.markSent(m!.id, T + 6000, 'delivered (HTTP 204)');
      expect(await t.store.outbox.pendingMessages()).toEqual([]);
      expect(await t.store.outbox.list({ limit: 1 })).toEqual([
        {
          ...m,
          state: 'sent',
          attempts: 3,
          nextAttemptAt: T + 5000,
          lastError: null,
          doneAt: T + 6000,
          receipt: 'delivered (HTTP 204)',
        },
      ]);
    });

    it('records a failure with its reason', async () => {
      const [m] = await queue(message('k1'));
      await t.store.outbox.markFailed(m!.id, 1, T + 100, 'webhook: HTTP 400 Bad Request');
      expect(await t.store.outbox.pendingMessages()).toEqual([]);
      expect(await t.store.outbox.list({ state: 'failed', limit: 5 })).toEqual([
        { ...m, state: 'failed', attempts: 1, doneAt: T + 100, lastError: 'webhook: HTTP 400 Bad Request' },
      ]);
    });

    it('merges pending messages into a digest and returns the digest', async () => {
      const [a, b, c, done] = await queue(message('a'), message('b'), message('c'), message('done'));
      await t.store.outbox.markSent(done!.id, T + 10, 'ok');
      const digest = await t.store.outbox.merge(
        [b!.id, c!.id, done!.id],
        message('digest:b+2', 'webhook', T + 20),
      );
      expect(digest).toEqual(
        expect.objectContaining({
          state: 'pending',
          createdAt: T + 20,
          notification: notification('digest:b+2'),
        }),
      );
      expect(digest.id).toBeGreaterThan(done!.id);
      expect((await t.store.outbox.pendingMessages()).map((m) => m.id)).toEqual([a!.id, digest.id]);
      const merged = await t.store.outbox.list({ state: 'merged', limit: 10 });
      expect(merged.map((m) => [m.id, m.mergedInto, m.doneAt])).toEqual([
        [c!.id, digest.id, T + 20],
        [b!.id, digest.id, T + 20],
      ]);
      // A message already sent is not taken back.
      expect((await t.store.outbox.list({ state: 'sent', limit: 10 })).map((m) => m.id)).toEqual([done!.id]);
    });

    it('gives a digest the place of the earliest message it carries, also after reopening', async () => {
      const [a, b, c, d] = await queue(
        message('a', 'webhook', T, 'web1'),
        message('b', 'webhook', T, 'web2'),
        message('c', 'webhook', T, 'web3'),
        message('d', 'webhook', T, 'web2'),
      );
      const digest = await t.store.outbox.merge([b!.id, c!.id], digestMessage('digest:b+1', T + 20));
      expect(digest.position).toBe(b!.id);
      const order = async () => (await t.store.outbox.pendingMessages()).map((m) => [m.id, m.position]);
      expect(await order()).toEqual([
        [a!.id, a!.id],
        [digest.id, b!.id],
        [d!.id, d!.id],
      ]);
      await t.reopen();
      expect(await order()).toEqual([
        [a!.id, a!.id],
        [digest.id, b!.id],
        [d!.id, d!.id],
      ]);
      expect((await t.store.outbox.list({ limit: 1 }))[0]).toEqual(digest);
    });

    it('gives a digest that carries a digest the place of the earliest message of all', async () => {
      const [a, b, c, x, e] = await queue(
        message('a'),
        message('b'),
        message('c'),
        message('x'),
        message('e'),
      );
      const inner = await t.store.outbox.merge([b!.id, c!.id], digestMessage('digest:b+1', T + 20));
      const outer = await t.store.outbox.merge(
        [inner.id, e!.id],
        digestMessage('digest:digest:b+1+1', T + 30),
      );
      expect(outer.position).toBe(b!.id);
      await t.reopen();
      expect((await t.store.outbox.pendingMessages()).map((m) => m.id)).toEqual([a!.id, outer.id, x!.id]);
    });

    it('refuses a digest whose key is already queued, and then merges nothing', async () => {
      const [a, b] = await queue(message('a'), message('digest:a+1'));
      await expect(t.store.outbox.merge([a!.id], message('digest:a+1'))).rejects.toThrow();
      expect((await t.store.outbox.pendingMessages()).map((m) => m.id)).toEqual([a!.id, b!.id]);
    });
  });

  describe('outbox listing and upkeep', () => {
    it('lists newest first, filtered by state and channel, up to the limit', async () => {
      const [w1, e1, w2, w3] = await queue(
        message('1', 'webhook'),
        message('1', 'email'),
        message('2', 'webhook'),
        message('3', 'webhook'),
      );
      await t.store.outbox.markSent(w2!.id, T + 1, 'ok');
      const ids = async (query: OutboxQuery) => (await t.store.outbox.list(query)).map((m) => m.id);
      expect(await ids({ limit: 10 })).toEqual([w3!.id, w2!.id, e1!.id, w1!.id]);
      expect(await ids({ limit: 2 })).toEqual([w3!.id, w2!.id]);
      expect(await ids({ channel: 'webhook', limit: 10 })).toEqual([w3!.id, w2!.id, w1!.id]);
      expect(await ids({ state: 'pending', limit: 10 })).toEqual([w3!.id, e1!.id, w1!.id]);
      expect(await ids({ state: 'pending', channel: 'webhook', limit: 10 })).toEqual([w3!.id, w1!.id]);
      expect(await ids({ state: 'failed', limit: 10 })).toEqual([]);
      expect(await ids({ channel: 'signal', limit: 10 })).toEqual([]);
    });

    it('counts messages by channel and state', async () => {
      const [w1, w2, , e1] = await queue(message('1'), message('2'), message('3'), message('1', 'email'));
      await t.store.outbox.markSent(w1!.id, T, 'ok');
      await t.store.outbox.markFailed(w2!.id, 1, T, 'no');
      await t.store.outbox.markSent(e1!.id, T, 'ok');
      const counts = await t.store.outbox.countByState();
      expect(counts).toHaveLength(4);
      expect(counts).toEqual(
        expect.arrayContaining([
          { channel: 'webhook', state: 'sent', count: 1 },
          { channel: 'webhook', state: 'failed', count: 1 },
          { channel: 'webhook', state: 'pending', count: 1 },
          { channel: 'email', state: 'sent', count: 1 },
        ]),
      );
    });

    it('prunes finished messages older than the cut-off, never pending ones', async () => {
      const [oldSent, oldFailed, oldPending, newSent] = await queue(
        message('1', 'webhook', T - 40 * DAY),
        message('2', 'webhook', T - 40 * DAY),
        message('3', 'webhook', T - 40 * DAY),
        message('4', 'webhook', T),
      );
      await t.store.outbox.markSent(oldSent!.id, T - 40 * DAY, 'ok');
      await t.store.outbox.markFailed(oldFailed!.id, 3, T - 39 * DAY, 'gave up');
      await t.store.outbox.markSent(newSent!.id, T, 'ok');
      expect(await t.store.outbox.prune(T - 30 * DAY)).toBe(2);
      expect((await t.store.outbox.list({ limit: 10 })).map((m) => m.id)).toEqual([
        newSent!.id,
        oldPending!.id,
      ]);
      expect(await t.store.outbox.prune(T - 30 * DAY)).toBe(0);
    });

    it('keeps a pending digest in its place when what it carries is pruned', async () => {
      const [a, b, x] = await queue(
        message('a', 'webhook', T - 40 * DAY),
        message('b', 'webhook', T - 40 * DAY),
        message('x', 'webhook', T - 40 * DAY),
      );
      const digest = await t.store.outbox.merge([a!.id, b!.id], digestMessage('digest:a+1', T - 40 * DAY));
      expect(await t.store.outbox.prune(T - 30 * DAY)).toBe(2);
      expect((await t.store.outbox.pendingMessages()).map((m) => [m.id, m.position])).toEqual([
        [digest.id, a!.id],
        [x!.id, x!.id],
      ]);
    });

    it('keeps triggers, messages and what was announced across closing and reopening the file', async () => {
      const triggers = await t.store.outbox.addTriggers([trigger('web1'), trigger('db1')]);
      const [sent, pending] = await queue(message('1'), message('2'));
      await t.store.outbox.decide({
        consumed: [triggers[0]!.id],
        messages: [],
        notified: [{ host: 'web1', downAt: T, status: 'fail', remindedAt: T + 1 }],
      });
      await t.store.outbox.markSent(sent!.id, T + 5, 'delivered (HTTP 204)');
      await t.store.outbox.markRetry(pending!.id, 1, T + 9, 'webhook: HTTP 503');
      const before = {
        triggers: await t.store.outbox.pendingTriggers(),
        pending: await t.store.outbox.pendingMessages(),
        all: await t.store.outbox.list({ limit: 10 }),
        notified: await t.store.outbox.announcedHosts(),
      };
      expect(before.triggers).toEqual([triggers[1]]);
      await t.reopen();
      expect(await t.store.outbox.pendingTriggers()).toEqual(before.triggers);
      expect(await t.store.outbox.pendingMessages()).toEqual(before.pending);
      expect((await t.store.outbox.pendingMessages())[0]).toEqual(
        expect.objectContaining({ attempts: 1, nextAttemptAt: T + 9, lastError: 'webhook: HTTP 503' }),
      );
      expect(await t.store.outbox.list({ limit: 10 })).toEqual(before.all);
      expect(await t.store.outbox.announcedHosts()).toEqual(before.notified);
      // The dedup key still holds after a restart.
      expect(await t.store.outbox.decide({ consumed: [], messages: [message('1')], notified: [] })).toEqual(
        [],
      );
    });
  });
}
