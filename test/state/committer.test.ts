import { describe, expect, it } from 'vitest';
import { Bus } from '../../src/lib/bus.js';
import type { HostEvent } from '../../src/model/events.js';
import { Committer } from '../../src/state/committer.js';
import { HostTable } from '../../src/state/host-table.js';
import createSqliteStore from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { WriteRetry } from '../../src/store/write-retry.js';
import { eventually } from '../helpers/daemon.js';
import { watchStore } from '../helpers/watched-store.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const event = (host: string): Omit<HostEvent, 'id'> => ({
  at: 1,
  host,
  kind: 'state',
  from: null,
  to: 'up',
  reason: 'first heartbeat',
});

function setup(
  store: Store = createSqliteStore({ path: ':memory:' }),
  flushIntervalMs = 50,
  retry = new WriteRetry({ firstDelayMs: 20 }),
) {
  const bus = new Bus();
  const table = new HostTable();
  const published: HostEvent[] = [];
  bus.on('event', (e) => published.push(e));
  const errors: unknown[] = [];
  const recoveries: unknown[] = [];
  const committer = new Committer({
    store,
    table,
    bus,
    flushIntervalMs,
    onError: (e) => errors.push(e),
    onRecovered: (outage) => recoveries.push(outage),
    retry,
  });
  return { store, bus, table, committer, published, errors, recoveries };
}

describe('Committer: write-behind with group commit', () => {
  it('stores a transition before the next event-loop turn, and only then publishes it, with its id', async () => {
    const { store, table, committer, published } = setup();
    committer.hostChanged(table.add('web1', 1, 1), true, true);
    committer.recordEvent(event('web1'));
    expect(published).toEqual([]);
    await nextTurn();
    expect(store.loadHosts().map((h) => h.name)).toEqual(['web1']);
    expect(published).toEqual([expect.objectContaining({ id: 1, host: 'web1' })]);
  });

  it("commitPending stores and publishes this turn's transitions at once, for a reader that comes before the turn ends", async () => {
    const { store, table, committer, published } = setup();
    committer.hostChanged(table.add('web1', 1, 1), true, true);
    committer.recordEvent(event('web1'));
    expect(committer.commitPending()).toBe(true);
    expect(store.events({ host: 'web1', limit: 10 })).toEqual([expect.objectContaining({ to: 'up' })]);
    expect(published).toHaveLength(1);
    await nextTurn();
    expect(published).toHaveLength(1);
    expect(store.events({ limit: 10 })).toHaveLength(1);
  });

  it('commitPending leaves routine timing to its cycle', async () => {
    const watched = watchStore(createSqliteStore({ path: ':memory:' }));
    const { table, committer } = setup(watched.store, 60_000);
    const slot = table.add('web1', 1, 1);
    committer.hostChanged(slot, true, true);
    committer.commitPending();
    committer.hostChanged(slot, false, false);
    expect(committer.commitPending()).toBe(true);
    expect(watched.commits).toBe(1);
    committer.close();
  });

  it('groups everything changed within one turn into one commit', async () => {
    const real = createSqliteStore({ path: ':memory:' });
    const watched = watchStore(real);
    const { table, committer } = setup(watched.store);
    for (let i = 0; i < 100; i++) {
      committer.hostChanged(table.add(`h${i}`, 1, 1), true, true);
      committer.recordEvent(event(`h${i}`));
    }
    await nextTurn();
    expect(watched.commits).toBe(1);
    expect(real.loadHosts()).toHaveLength(100);
    expect(real.events({ limit: 1000 })).toHaveLength(100);
  });

  it('stores a routine change within the flush interval', async () => {
    const { store, table, committer } = setup();
    committer.hostChanged(table.add('web1', 1, 1), false, true);
    await nextTurn();
    expect(store.loadHosts()).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(store.loadHosts()).toHaveLength(1);
  });

  it('keeps everything when the store fails, publishes nothing, and stores it all on the retry', async () => {
    const real = createSqliteStore({ path: ':memory:' });
    const watched = watchStore(real);
    watched.failing = true;
    const { table, committer, published, errors } = setup(watched.store, 30);
    committer.hostChanged(table.add('web1', 1, 1), true, true);
    committer.recordEvent(event('web1'));
    await nextTurn();
    expect(published).toEqual([]);
    expect(String(errors[0])).toContain('disk full');
    watched.failing = false;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(published.map((e) => e.host)).toEqual(['web1']);
    expect(real.loadHosts().map((h) => h.name)).toEqual(['web1']);
  });

  it('a failing store is retried with a growing delay and reported once a minute, not at every change', async () => {
    let clock = 0;
    const real = createSqliteStore({ path: ':memory:' });
    const watched = watchStore(real);
    let attempts = 0;
    const counting: Store = {
      ...watched.store,
      commit: (batch, hook) => {
        attempts++;
        return watched.store.commit(batch, hook);
      },
    };
    const { table, committer, published, errors, recoveries } = setup(
      counting,
      60_000,
      new WriteRetry({ now: () => clock }),
    );
    watched.failing = true;
    for (let i = 0; i < 200; i++) {
      committer.hostChanged(table.add(`h${i}`, 1, 1), true, true);
      committer.recordEvent(event(`h${i}`));
      // An API read before every answer: it must not hammer the store either.
      expect(committer.commitPending()).toBe(false);
      await nextTurn();
    }
    expect(attempts).toBe(1);
    expect(errors).toHaveLength(1);
    expect(committer.storeFailure).toMatchObject({ attempts: 1 });
    // 1 s, 2 s, 4 s, …: each attempt made once its delay ran out, and reported only a minute on.
    for (const at of [1_000, 3_000, 7_000, 15_000, 31_000, 63_000]) {
      clock = at - 1;
      expect(committer.commitPending()).toBe(false);
      clock = at;
      expect(committer.commitPending()).toBe(false);
    }
    expect(attempts).toBe(7);
    expect(errors).toHaveLength(2);
    watched.failing = false;
    clock = 63_000 + 64_000;
    expect(committer.commitPending()).toBe(true);
    expect(published).toHaveLength(200);
    expect(real.loadHosts()).toHaveLength(200);
    expect(recoveries).toEqual([expect.objectContaining({ since: 0, attempts: 7 })]);
    expect(committer.storeFailure).toBeUndefined();
    committer.close();
  });

  it('keeps at most maxPendingEvents while the store fails, the newest, and says how many it dropped', async () => {
    const real = createSqliteStore({ path: ':memory:' });
    const watched = watchStore(real);
    watched.failing = true;
    const bus = new Bus();
    const table = new HostTable();
    const recoveries: { backlog: { droppedEvents: number } }[] = [];
    const committer = new Committer({
      store: watched.store,
      table,
      bus,
      maxPendingEvents: 100,
      onError: () => {},
      onRecovered: (outage) => recoveries.push(outage),
      retry: new WriteRetry({ firstDelayMs: 1 }),
    });
    for (let i = 0; i < 250; i++) committer.recordEvent({ ...event('web1'), at: i });
    expect(committer.flushAll()).toBe(false);
    watched.failing = false;
    await eventually(() => expect(committer.flushAll()).toBe(true));
    const kept = real.events({ limit: 1000 }).map((e) => e.at);
    expect(kept.length).toBeLessThanOrEqual(100);
    expect(kept[0]).toBe(249);
    expect(recoveries[0]?.backlog.droppedEvents).toBe(250 - kept.length);
    committer.close();
  });

  it('writes a routine beat as its timing only, in a cycle of paced slices', async () => {
    const real = createSqliteStore({ path: ':memory:' });
    const batches: { upserts: number; timings: number }[] = [];
    const spying: Store = {
      ...real,
      commit: (batch, hook) => {
        batches.push({ upserts: batch.upserts.length, timings: batch.timings.length });
        return real.commit(batch, hook);
      },
    };
    const bus = new Bus();
    const table = new HostTable();
    const committer = new Committer({
      store: spying,
      table,
      bus,
      flushIntervalMs: 20,
      maxTimingRowsPerCommit: 10,
      onError: (e) => {
        throw e;
      },
    });
    const slots = Array.from({ length: 25 }, (_, i) => table.add(`h${i}`, 1, 1));
    for (const slot of slots) committer.hostChanged(slot, true, true);
    committer.flushAll();
    for (const slot of slots) {
      table.lastSeen[slot] = 5_000;
      committer.hostChanged(slot, false, false);
    }
    committer.hostChanged(slots[0]!, true, true);
    await nextTurn();
    expect(batches).toEqual([
      { upserts: 25, timings: 0 },
      { upserts: 1, timings: 0 },
    ]);
    // The cycle starts after flushIntervalMs and is written in paced slices.
    await eventually(() => expect(batches).toHaveLength(5));
    expect(batches.slice(2)).toEqual([
      { upserts: 0, timings: 10 },
      { upserts: 0, timings: 10 },
      { upserts: 0, timings: 5 },
    ]);
    expect(real.loadHosts().every((host) => host.lastSeen === 5_000)).toBe(true);
  });

  it('runs commit hooks inside the transaction, with the stored events', async () => {
    const { committer, table } = setup();
    const seen: number[] = [];
    committer.addCommitHook((events) => seen.push(...events.map((e) => e.id)));
    committer.hostChanged(table.add('web1', 1, 1), true, true);
    committer.recordEvent(event('web1'));
    committer.flushAll();
    expect(seen).toEqual([1]);
  });

  it('a forgotten host is deleted, and a slot reused meanwhile stores the new host', () => {
    const { store, table, committer } = setup();
    const slot = table.add('old', 1, 1);
    committer.hostChanged(slot, true, true);
    committer.flushAll();
    table.remove(slot);
    committer.hostForgotten('old');
    committer.hostChanged(table.add('new', 1, 1), true, true);
    committer.flushAll();
    expect(store.loadHosts().map((h) => h.name)).toEqual(['new']);
  });
});
