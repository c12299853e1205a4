import { describe, expect, it } from 'vitest';
import { Bus } from '../../src/lib/bus.js';
import type { HostEvent } from '../../src/model/events.js';
import type { Trigger } from '../../src/model/outbox.js';
import { HostTable } from '../../src/state/host-table.js';
import type { Store } from '../../src/store/store.js';
import { WriteBehind, type WriteBehindOptions } from '../../src/store/write-behind.js';
import { WriteRetry } from '../../src/store/write-retry.js';
import { watchStore } from '../helpers/watched-store.js';
import { eventually, nextTurn, sqliteStore } from './helpers.js';

const event = (host: string): Omit<HostEvent, 'id'> => ({
  at: 1,
  host,
  kind: 'state',
  from: null,
  to: 'up',
  reason: 'first heartbeat',
});

function setup(
  store: Store = sqliteStore(),
  flushIntervalMs = 50,
  retry = new WriteRetry({ firstDelayMs: 20 }),
  extra: Partial<WriteBehindOptions> = {},
) {
  const bus = new Bus();
  const table = new HostTable();
  const published: HostEvent[] = [];
  bus.on('event', (e) => published.push(e));
  const errors: unknown[] = [];
  const recoveries: unknown[] = [];
  const writer = new WriteBehind({
    store,
    table,
    bus,
    flushIntervalMs,
    onError: (e) => errors.push(e),
    onRecovered: (outage) => recoveries.push(outage),
    retry,
    ...extra,
  });
  return { store, bus, table, writer, published, errors, recoveries };
}

describe('WriteBehind: write-behind with group commit', () => {
  it('stores a transition before the next event-loop turn, and only then publishes it, with its id', async () => {
    const { store, table, writer, published } = setup();
    writer.hostChanged(table.add('web1', 1, 1), true, true);
    writer.recordEvent(event('web1'));
    expect(published).toEqual([]);
    await nextTurn();
    expect((await store.hosts.load()).map((h) => h.name)).toEqual(['web1']);
    expect(published).toEqual([expect.objectContaining({ id: 1, host: 'web1' })]);
  });

  it("commitPending stores and publishes this turn's transitions at once, for a reader that comes before the turn ends", async () => {
    const { store, table, writer, published } = setup();
    writer.hostChanged(table.add('web1', 1, 1), true, true);
    writer.recordEvent(event('web1'));
    expect(await writer.commitPending()).toBe(true);
    expect(await store.events.list({ host: 'web1', limit: 10 })).toEqual([
      expect.objectContaining({ to: 'up' }),
    ]);
    expect(published).toHaveLength(1);
    await nextTurn();
    expect(published).toHaveLength(1);
    expect(await store.events.list({ limit: 10 })).toHaveLength(1);
  });

  it('commitPending leaves routine timing to its cycle', async () => {
    const watched = watchStore(sqliteStore());
    const { table, writer } = setup(watched.store, 60_000);
    const slot = table.add('web1', 1, 1);
    writer.hostChanged(slot, true, true);
    await writer.commitPending();
    writer.hostChanged(slot, false, false);
    expect(await writer.commitPending()).toBe(true);
    expect(watched.commits).toBe(1);
    await writer.close();
  });

  it('groups everything changed within one turn into one commit', async () => {
    const real = sqliteStore();
    const watched = watchStore(real);
    const { table, writer } = setup(watched.store);
    for (let i = 0; i < 100; i++) {
      writer.hostChanged(table.add(`h${i}`, 1, 1), true, true);
      writer.recordEvent(event(`h${i}`));
    }
    await nextTurn();
    expect(watched.commits).toBe(1);
    expect(await real.hosts.load()).toHaveLength(100);
    expect(await real.events.list({ limit: 1000 })).toHaveLength(100);
  });

  it('never runs two commits at once: what changes while one is written goes into the next', async () => {
    const real = sqliteStore();
    let open = 0;
    let most = 0;
    const slow: Store = {
      ...real,
      transaction: (work) =>
        real.transaction(async (tx) => {
          open++;
          most = Math.max(most, open);
          try {
            await new Promise((resolve) => setTimeout(resolve, 5));
            return await work(tx);
          } finally {
            open--;
          }
        }),
    };
    const { table, writer, published } = setup(slow);
    writer.hostChanged(table.add('a', 1, 1), true, true);
    writer.recordEvent(event('a'));
    await nextTurn();
    // The first commit is being written; these wait for the next.
    writer.hostChanged(table.add('b', 1, 1), true, true);
    writer.recordEvent(event('b'));
    expect(await writer.commitPending()).toBe(true);
    expect(most).toBe(1);
    expect(published.map((e) => [e.host, e.id])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect((await real.hosts.load()).map((h) => h.name)).toEqual(['a', 'b']);
  });

  it('stores a routine change within the flush interval', async () => {
    const { store, table, writer } = setup();
    writer.hostChanged(table.add('web1', 1, 1), false, true);
    await nextTurn();
    expect(await store.hosts.load()).toEqual([]);
    await eventually(async () => expect(await store.hosts.load()).toHaveLength(1));
  });

  it('keeps everything when the store fails, publishes nothing, and stores it all on the retry', async () => {
    const real = sqliteStore();
    const watched = watchStore(real);
    watched.failing = true;
    const { table, writer, published, errors } = setup(watched.store, 30);
    writer.hostChanged(table.add('web1', 1, 1), true, true);
    writer.recordEvent(event('web1'));
    await nextTurn();
    expect(published).toEqual([]);
    expect(String(errors[0])).toContain('disk full');
    watched.failing = false;
    await eventually(() => expect(published.map((e) => e.host)).toEqual(['web1']));
    expect((await real.hosts.load()).map((h) => h.name)).toEqual(['web1']);
  });

  it('a failing store is retried with a growing delay and reported once a minute, not at every change', async () => {
    let clock = 0;
    const real = sqliteStore();
    const watched = watchStore(real);
    let attempts = 0;
    const counting: Store = {
      ...watched.store,
      transaction: (work) => {
        attempts++;
        return watched.store.transaction(work);
      },
    };
    const { table, writer, published, errors, recoveries } = setup(
      counting,
      60_000,
      new WriteRetry({ now: () => clock }),
    );
    watched.failing = true;
    for (let i = 0; i < 200; i++) {
      writer.hostChanged(table.add(`h${i}`, 1, 1), true, true);
      writer.recordEvent(event(`h${i}`));
      // An API read before every answer: it must not hammer the store either.
      expect(await writer.commitPending()).toBe(false);
      await nextTurn();
    }
    expect(attempts).toBe(1);
    expect(errors).toHaveLength(1);
    expect(writer.storeFailure).toMatchObject({ attempts: 1 });
    expect(writer.problems()).toEqual([
      { what: 'state store :memory:', failure: expect.objectContaining({ attempts: 1 }) },
    ]);
    // 1 s, 2 s, 4 s, …: each attempt made once its delay ran out, and reported only a minute on.
    for (const at of [1_000, 3_000, 7_000, 15_000, 31_000, 63_000]) {
      clock = at - 1;
      expect(await writer.commitPending()).toBe(false);
      clock = at;
      expect(await writer.commitPending()).toBe(false);
    }
    expect(attempts).toBe(7);
    expect(errors).toHaveLength(2);
    watched.failing = false;
    clock = 63_000 + 64_000;
    expect(await writer.commitPending()).toBe(true);
    expect(published).toHaveLength(200);
    expect(await real.hosts.load()).toHaveLength(200);
    expect(recoveries).toEqual([expect.objectContaining({ since: 0, attempts: 7 })]);
    expect(writer.storeFailure).toBeUndefined();
    expect(writer.problems()).toEqual([]);
    await writer.close();
  });

  it('keeps at most maxPendingEvents while the store fails, the newest, and says how many it dropped', async () => {
    const real = sqliteStore();
    const watched = watchStore(real);
    watched.failing = true;
    const recoveries: { backlog: { droppedEvents: number } }[] = [];
    const writer = new WriteBehind({
      store: watched.store,
      table: new HostTable(),
      bus: new Bus(),
      maxPendingEvents: 100,
      onError: () => {},
      onRecovered: (outage) => recoveries.push(outage),
      retry: new WriteRetry({ firstDelayMs: 1 }),
    });
    for (let i = 0; i < 250; i++) writer.recordEvent({ ...event('web1'), at: i });
    expect(await writer.flushAll()).toBe(false);
    watched.failing = false;
    await eventually(async () => expect(await writer.flushAll()).toBe(true));
    const kept = (await real.events.list({ limit: 1000 })).map((e) => e.at);
    expect(kept.length).toBeLessThanOrEqual(100);
    expect(kept[0]).toBe(249);
    expect(recoveries[0]?.backlog.droppedEvents).toBe(250 - kept.length);
    await writer.close();
  });

  it('writes a routine beat as its timing only, in a cycle of paced slices', async () => {
    const real = sqliteStore();
    const watched = watchStore(real);
    const { table, writer } = setup(watched.store, 20, undefined, { maxTimingRowsPerCommit: 10 });
    const slots = Array.from({ length: 25 }, (_, i) => table.add(`h${i}`, 1, 1));
    for (const slot of slots) writer.hostChanged(slot, true, true);
    await writer.flushAll();
    for (const slot of slots) {
      table.lastSeen[slot] = 5_000;
      writer.hostChanged(slot, false, false);
    }
    writer.hostChanged(slots[0]!, true, true);
    await nextTurn();
    expect(watched.writes).toEqual([
      { upserts: 25, timings: 0 },
      { upserts: 1, timings: 0 },
    ]);
    // The cycle starts after flushIntervalMs and is written in paced slices.
    await eventually(() => expect(watched.writes).toHaveLength(5));
    expect(watched.writes.slice(2)).toEqual([
      { upserts: 0, timings: 10 },
      { upserts: 0, timings: 10 },
      { upserts: 0, timings: 5 },
    ]);
    expect((await real.hosts.load()).every((host) => host.lastSeen === 5_000)).toBe(true);
  });

  it("derives the triggers in the events' transaction, and publishes them once, after the events", async () => {
    const seen: string[] = [];
    const { store, writer, table, bus } = setup(sqliteStore(), 50, undefined, {
      triggersFor: async (events, tx) => {
        // Read through the transaction: the events are there, with their ids.
        const stored = await tx.events.list({ limit: 10 });
        seen.push(`derive ${events.map((e) => e.id)} of ${stored.map((e) => e.id)}`);
        return events.map((e) => ({
          eventId: e.id,
          at: e.at,
          host: e.host,
          kind: 'up' as const,
          detail: {
            from: e.from,
            to: e.to,
            reason: e.reason,
            status: 'ok',
            msg: null,
            addr: '192.0.2.1',
            group: '',
            previousFor: null,
          },
        }));
      },
    });
    bus.on('event', (e) => seen.push(`event ${e.id}`));
    bus.on('triggers', (triggers: readonly Trigger[]) =>
      seen.push(`triggers ${triggers.map((t) => `${t.id}:${t.eventId}`)}`),
    );
    writer.hostChanged(table.add('web1', 1, 1), true, true);
    writer.recordEvent(event('web1'));
    writer.recordEvent(event('web2'));
    await writer.flushAll();
    expect(seen).toEqual(['derive 1,2 of 2,1', 'event 1', 'event 2', 'triggers 1:1,2:2']);
    expect((await store.outbox.pendingTriggers()).map((t) => t.eventId)).toEqual([1, 2]);
    // A commit without events derives nothing and publishes no triggers.
    writer.hostChanged(table.add('web3', 1, 1), true, true);
    await writer.flushAll();
    expect(seen).toHaveLength(4);
  });

  it('a failure while deriving triggers rolls back the events too, and they are published only once stored', async () => {
    let fail = true;
    const { store, writer, published } = setup(sqliteStore(), 50, new WriteRetry({ firstDelayMs: 1 }), {
      triggersFor: async () => {
        if (fail) throw new Error('outbox full');
        return [];
      },
    });
    writer.recordEvent(event('web1'));
    expect(await writer.flushAll()).toBe(false);
    expect(await store.events.list({ limit: 10 })).toEqual([]);
    expect(published).toEqual([]);
    fail = false;
    await eventually(() => expect(published.map((e) => e.id)).toEqual([1]));
  });

  it('a forgotten host is deleted, and a slot reused meanwhile stores the new host', async () => {
    const { store, table, writer } = setup();
    const slot = table.add('old', 1, 1);
    writer.hostChanged(slot, true, true);
    await writer.flushAll();
    table.remove(slot);
    writer.hostForgotten('old');
    writer.hostChanged(table.add('new', 1, 1), true, true);
    await writer.flushAll();
    expect((await store.hosts.load()).map((h) => h.name)).toEqual(['new']);
  });
});
