import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import createSqliteStore from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';

let dir: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hbd-silences-'));
  store = createSqliteStore({ path: join(dir, 'state.sqlite') });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const T = Date.UTC(2026, 10, 25, 12, 0, 0);

describe('silences in the SQLite store', () => {
  it('gives each new silence its own id and keeps it exactly, across a reopen', () => {
    const web = store.silences.add({ pattern: 'web*', until: T + 7_200_000, reason: 'deploy', createdAt: T });
    const db = store.silences.add({ pattern: 'db1', until: T + 60_000.5, reason: null, createdAt: T + 1 });
    expect(web).toEqual({
      id: web.id,
      pattern: 'web*',
      until: T + 7_200_000,
      reason: 'deploy',
      createdAt: T,
    });
    expect(db.id).not.toBe(web.id);

    store.close();
    store = createSqliteStore({ path: join(dir, 'state.sqlite') });
    expect(store.silences.active(T)).toEqual([db, web]);
  });

  it('lists only those not expired at the given time, soonest expiry first', () => {
    const later = store.silences.add({ pattern: 'a', until: T + 3000, reason: null, createdAt: T });
    const sooner = store.silences.add({ pattern: 'b', until: T + 1000, reason: null, createdAt: T });
    const sameTimeAsSooner = store.silences.add({
      pattern: 'c',
      until: T + 1000,
      reason: null,
      createdAt: T,
    });
    expect(store.silences.active(T).map((s) => s.id)).toEqual([sooner.id, sameTimeAsSooner.id, later.id]);
    // A silence ends at its `until`: at that instant it is over.
    expect(store.silences.active(T + 1000).map((s) => s.id)).toEqual([later.id]);
    expect(store.silences.active(T + 3000)).toEqual([]);
  });

  it('removes one silence by id, and says whether there was one', () => {
    const kept = store.silences.add({ pattern: 'a', until: T + 1000, reason: null, createdAt: T });
    const removed = store.silences.add({ pattern: 'b', until: T + 1000, reason: null, createdAt: T });
    expect(store.silences.remove(removed.id)).toBe(true);
    expect(store.silences.remove(removed.id)).toBe(false);
    expect(store.silences.remove(9999)).toBe(false);
    expect(store.silences.active(T)).toEqual([kept]);
  });

  it('prunes expired silences only, and counts them', () => {
    store.silences.add({ pattern: 'a', until: T + 1000, reason: null, createdAt: T });
    store.silences.add({ pattern: 'b', until: T + 2000, reason: null, createdAt: T });
    const kept = store.silences.add({ pattern: 'c', until: T + 2001, reason: null, createdAt: T });
    expect(store.silences.pruneExpired(T + 2000)).toBe(2);
    expect(store.silences.pruneExpired(T + 2000)).toBe(0);
    // Gone from the table, not just filtered out: an earlier time no longer finds them.
    expect(store.silences.active(0)).toEqual([kept]);
  });
});
