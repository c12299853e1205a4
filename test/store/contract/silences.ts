import { describe, expect, it } from 'vitest';
import type { ContractContext } from './context.js';

/** Mutes on hosts, kept across a restart. */
export function silencesContract(t: ContractContext): void {
  const T = Date.UTC(2026, 10, 25, 12, 0, 0);

  describe('silences', () => {
    it('gives each new silence its own id and keeps it exactly, across a reopen', async () => {
      const web = await t.store.silences.add({
        pattern: 'web*',
        until: T + 7_200_000,
        reason: 'deploy',
        createdAt: T,
      });
      const db = await t.store.silences.add({
        pattern: 'db1',
        until: T + 60_000.5,
        reason: null,
        createdAt: T + 1,
      });
      expect(web).toEqual({
        id: web.id,
        pattern: 'web*',
        until: T + 7_200_000,
        reason: 'deploy',
        createdAt: T,
      });
      expect(db.id).not.toBe(web.id);

      await t.reopen();
      expect(await t.store.silences.active(T)).toEqual([db, web]);
    });

    it('lists only those not expired at the given time, soonest expiry first', async () => {
      const later = await t.store.silences.add({ pattern: 'a', until: T + 3000, reason: null, createdAt: T });
      const sooner = await t.store.silences.add({
        pattern: 'b',
        until: T + 1000,
        reason: null,
        createdAt: T,
      });
      const sameTimeAsSooner = await t.store.silences.add({
        pattern: 'c',
        until: T + 1000,
        reason: null,
        createdAt: T,
      });
      expect((await t.store.silences.active(T)).map((s) => s.id)).toEqual([
        sooner.id,
        sameTimeAsSooner.id,
        later.id,
      ]);
      // A silence ends at its `until`: at that instant it is over.
      expect((await t.store.silences.active(T + 1000)).map((s) => s.id)).toEqual([later.id]);
      expect(await t.store.silences.active(T + 3000)).toEqual([]);
    });

    it('removes one silence by id, and says whether there was one', async () => {
      const kept = await t.store.silences.add({ pattern: 'a', until: T + 1000, reason: null, createdAt: T });
      const removed = await t.store.silences.add({
        pattern: 'b',
        until: T + 1000,
        reason: null,
        createdAt: T,
      });
      expect(await t.store.silences.remove(removed.id)).toBe(true);
      expect(await t.store.silences.remove(removed.id)).toBe(false);
      expect(await t.store.silences.remove(9999)).toBe(false);
      expect(await t.store.silences.active(T)).toEqual([kept]);
    });

    it('prunes expired silences only, and counts them', async () => {
      await t.store.silences.add({ pattern: 'a', until: T + 1000, reason: null, createdAt: T });
      await t.store.silences.add({ pattern: 'b', until: T + 2000, reason: null, createdAt: T });
      const kept = await t.store.silences.add({ pattern: 'c', until: T + 2001, reason: null, createdAt: T });
      expect(await t.store.silences.pruneExpired(T + 2000)).toBe(2);
      expect(await t.store.silences.pruneExpired(T + 2000)).toBe(0);
      // Gone from the table, not just filtered out: an earlier time no longer finds them.
      expect(await t.store.silences.active(0)).toEqual([kept]);
    });
  });
}
