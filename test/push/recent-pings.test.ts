import { afterEach, describe, expect, it } from 'vitest';
import { RecentPings } from '../../src/push/recent-pings.js';
import { PINGS_KEPT, type PingRecord, type PingStore } from '../../src/store/ping-store.js';
import type { Store } from '../../src/store/store.js';
import { eventually } from '../helpers/eventually.js';
import { pingRecord } from '../store/contract/pings.js';
import { sqliteStore } from '../store/helpers.js';

const T = Date.UTC(2026, 10, 25, 2, 0, 4);

/** The real store's pings, with its writes counted, and made to fail as on a full disk when asked. */
function watched(store: Store) {
  const watch = { writes: [] as number[], failing: false };
  const pings: PingStore = {
    add: async (records) => {
      if (watch.failing) throw new Error('database or disk is full');
      watch.writes.push(records.length);
      return store.pings.add(records);
    },
    recent: (host) => store.pings.recent(host),
  };
  return { watch, pings };
}

let store: Store | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

function setup(flushMs = 60_000) {
  store = sqliteStore();
  const { watch, pings } = watched(store);
  const errors: unknown[] = [];
  const recent = new RecentPings({ store: pings, onError: (error) => errors.push(error), flushMs });
  const bodies = async (host: string) => (await recent.recent(host)).map((ping) => ping.body);
  return { recent, watch, errors, bodies, store };
}

describe('RecentPings: the last pings of each host', () => {
  it('shows a ping at once, before it is written, and the same once it is', async () => {
    const { recent, watch, bodies } = setup();
    recent.record(pingRecord('backup', T, { body: 'first' }));
    recent.record(pingRecord('backup', T + 1, { body: 'second', kind: 'fail', exitCode: 2 }));
    expect(await bodies('backup')).toEqual(['second', 'first']);
    expect(watch.writes).toEqual([]);
    await recent.flush();
    expect(watch.writes).toEqual([2]);
    expect(await recent.recent('backup')).toEqual([
      pingRecord('backup', T + 1, { body: 'second', kind: 'fail', exitCode: 2 }),
      pingRecord('backup', T, { body: 'first' }),
    ]);
    recent.record(pingRecord('backup', T + 2, { body: 'third' }));
    expect(await bodies('backup')).toEqual(['third', 'second', 'first']);
  });

  it(`writes a host looping pings as at most ${PINGS_KEPT} rows a flush, in one write for every host`, async () => {
    const { recent, watch, bodies } = setup();
    for (let i = 0; i < 5000; i++) recent.record(pingRecord('loop', T + i, { body: `ping ${i}` }));
    recent.record(pingRecord('quiet', T, { body: 'once' }));
    expect(await bodies('loop')).toEqual(Array.from({ length: PINGS_KEPT }, (_, i) => `ping ${4999 - i}`));
    await recent.flush();
    expect(watch.writes).toEqual([PINGS_KEPT + 1]);
    expect(await bodies('loop')).toHaveLength(PINGS_KEPT);
    expect(await bodies('quiet')).toEqual(['once']);
  });

  it('writes by itself, a flush interval after a ping', async () => {
    const { recent, watch, store } = setup(20);
    recent.record(pingRecord('backup', T));
    await eventually(() => expect(watch.writes).toEqual([1]), 5000);
    expect(await store.pings.recent('backup')).toEqual([pingRecord('backup', T)]);
  });

  it('keeps what a failing store refused for the next write, says so once, and loses nothing shown', async () => {
    const { recent, watch, errors, bodies, store } = setup();
    watch.failing = true;
    recent.record(pingRecord('backup', T, { body: 'refused once' }));
    await recent.flush();
    recent.record(pingRecord('backup', T + 1, { body: 'refused twice' }));
    await recent.flush();
    expect(errors.map((error) => (error as Error).message)).toEqual(['database or disk is full']);
    expect(await bodies('backup')).toEqual(['refused twice', 'refused once']);
    watch.failing = false;
    await recent.flush();
    expect((await store.pings.recent('backup')).map((ping) => ping.body)).toEqual([
      'refused twice',
      'refused once',
    ]);
  });

  it('writes what waits when closed', async () => {
    const { recent, store } = setup();
    const pings: PingRecord[] = [pingRecord('a', T), pingRecord('b', T + 1)];
    for (const ping of pings) recent.record(ping);
    await recent.close();
    expect([...(await store.pings.recent('a')), ...(await store.pings.recent('b'))]).toEqual(pings);
  });
});
