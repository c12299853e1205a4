import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Silences } from '../../src/notify/silences.js';
import type { Store } from '../../src/store/store.js';
import { openTestStore } from '../helpers/notify-store.js';

const T = Date.UTC(2026, 10, 25, 12, 0, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let store: Store;
let now: number;
/** Silences as hbd starts them: made, then loaded from the store. */
async function open(): Promise<Silences> {
  const silences = new Silences({ store: store.silences, now: () => now });
  await silences.load();
  return silences;
}

/** What the store holds, expired or not. */
const storedIds = async () => (await store.silences.active(0)).map((s) => s.id);

beforeEach(() => {
  store = openTestStore();
  now = T;
});
afterEach(() => store.close());

describe('Silences', () => {
  it('mutes an exact name and nothing that merely starts with it', async () => {
    const silences = await open();
    const silence = await silences.add({ pattern: 'web1', durationMs: HOUR, reason: 'disk swap' });
    expect(silence).toEqual({
      id: silence.id,
      pattern: 'web1',
      until: T + HOUR,
      reason: 'disk swap',
      createdAt: T,
    });
    expect(silences.matching('web1')).toEqual(silence);
    expect(silences.matching('web10')).toBeUndefined();
    expect(silences.matching('aweb1')).toBeUndefined();
  });

  it('mutes every host a glob matches: * any run, ? one character, the rest literal', async () => {
    const silences = await open();
    const web = await silences.add({ pattern: 'web*', durationMs: HOUR });
    const db = await silences.add({ pattern: 'db?.example.net', durationMs: HOUR });
    expect(silences.matching('web')?.id).toBe(web.id);
    expect(silences.matching('web1.example.net')?.id).toBe(web.id);
    expect(silences.matching('db1.example.net')?.id).toBe(db.id);
    expect(silences.matching('db12.example.net')).toBeUndefined();
    expect(silences.matching('db1xexample.net')).toBeUndefined();
    expect(silences.matching('mail1')).toBeUndefined();
  });

  it('lower-cases the pattern, since host names arrive lower-cased', async () => {
    const silences = await open();
    expect((await silences.add({ pattern: 'WEB*', durationMs: HOUR })).pattern).toBe('web*');
    expect(silences.matching('web1')).toBeDefined();
  });

  it('answers with the silence that lasts longest when several match', async () => {
    const silences = await open();
    await silences.add({ pattern: '*', durationMs: HOUR });
    const longest = await silences.add({ pattern: 'web*', durationMs: 3 * HOUR });
    await silences.add({ pattern: 'web1', durationMs: 2 * HOUR });
    expect(silences.matching('web1')?.id).toBe(longest.id);
    now = T + 3 * HOUR - 1;
    expect(silences.matching('db1')).toBeUndefined();
  });

  it('stops muting when the silence expires, and answers for any given time', async () => {
    const silences = await open();
    await silences.add({ pattern: 'web1', durationMs: 30 * MINUTE });
    expect(silences.matching('web1', T + 30 * MINUTE - 1)).toBeDefined();
    expect(silences.matching('web1', T + 30 * MINUTE)).toBeUndefined();
    now = T + 30 * MINUTE - 1;
    expect(silences.matching('web1')).toBeDefined();
    now = T + 30 * MINUTE;
    expect(silences.matching('web1')).toBeUndefined();
  });

  it('lists the silences in force, soonest expiry first, and drops expired ones from memory and store', async () => {
    const silences = await open();
    const long = await silences.add({ pattern: 'a', durationMs: 2 * HOUR });
    const short = await silences.add({ pattern: 'b', durationMs: 500 });
    const middle = await silences.add({ pattern: 'c', durationMs: HOUR });
    expect(silences.list().map((s) => s.id)).toEqual([short.id, middle.id, long.id]);

    now = T + 600;
    expect(silences.list().map((s) => s.id)).toEqual([middle.id, long.id]);
    // Deleting rows is a write: done at most once a second, so the row is still there.
    await silences.whenIdle();
    expect(await storedIds()).toContain(short.id);

    now = T + 1000;
    expect(silences.list().map((s) => s.id)).toEqual([middle.id, long.id]);
    await silences.whenIdle();
    expect(await storedIds()).toEqual([middle.id, long.id]);
  });

  it('prunes on matching too', async () => {
    const silences = await open();
    const gone = await silences.add({ pattern: 'a', durationMs: MINUTE });
    now = T + 2 * MINUTE;
    expect(silences.matching('b')).toBeUndefined();
    await silences.whenIdle();
    expect(await storedIds()).not.toContain(gone.id);
  });

  it('removes a silence by id, which unmutes at once', async () => {
    const silences = await open();
    const silence = await silences.add({ pattern: 'web*', durationMs: HOUR });
    expect(await silences.remove(silence.id)).toBe(true);
    expect(silences.matching('web1')).toBeUndefined();
    expect(silences.list()).toEqual([]);
    expect(await store.silences.active(T)).toEqual([]);
    expect(await silences.remove(silence.id)).toBe(false);
  });

  it('picks up the stored silences when made again, as after a restart, and clears out expired ones', async () => {
    const before = await open();
    const kept = await before.add({ pattern: 'web*', durationMs: HOUR, reason: 'migration' });
    const expired = await before.add({ pattern: 'db1', durationMs: MINUTE });
    now = T + 10 * MINUTE;
    const after = await open();
    expect(after.list()).toEqual([kept]);
    expect(after.matching('web7')).toEqual(kept);
    expect(await storedIds()).not.toContain(expired.id);
  });

  it('keeps a reason trimmed, and a blank one as none', async () => {
    const silences = await open();
    expect((await silences.add({ pattern: 'a', durationMs: HOUR, reason: '  deploy  ' })).reason).toBe(
      'deploy',
    );
    expect((await silences.add({ pattern: 'b', durationMs: HOUR, reason: '   ' })).reason).toBeNull();
    expect((await silences.add({ pattern: 'c', durationMs: HOUR })).reason).toBeNull();
  });

  it.each([
    ['', /^pattern: expected 1 to 253 characters, got 0$/],
    ['a'.repeat(254), /^pattern: expected 1 to 253 characters, got 254$/],
    ['web 1', /^pattern: expected a host name or a glob .* got "web 1"$/],
    ['web/1', /^pattern: expected a host name or a glob .* got "web\/1"$/],
    ['web[12]', /^pattern: expected a host name or a glob .* got "web\[12\]"$/],
    ['wéb', /^pattern: expected a host name or a glob .* got "wéb"$/],
  ])('refuses the pattern %j with a RangeError', async (pattern, message) => {
    const silences = await open();
    await expect(silences.add({ pattern, durationMs: HOUR })).rejects.toThrow(RangeError);
    await expect(silences.add({ pattern, durationMs: HOUR })).rejects.toThrow(message);
    expect(await store.silences.active(T)).toEqual([]);
  });

  it('accepts a pattern of 253 characters and every allowed character', async () => {
    const silences = await open();
    expect((await silences.add({ pattern: 'a'.repeat(253), durationMs: HOUR })).pattern).toHaveLength(253);
    expect((await silences.add({ pattern: 'a-b.c_d*e?9', durationMs: HOUR })).pattern).toBe('a-b.c_d*e?9');
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, 366 * 24 * HOUR + 1])(
    'refuses a duration of %d ms',
    async (durationMs) => {
      await expect((await open()).add({ pattern: 'a', durationMs })).rejects.toThrow(
        /^duration: expected more than zero and at most 366 days/,
      );
    },
  );

  it('refuses a reason longer than 500 characters', async () => {
    const silences = await open();
    expect(
      (await silences.add({ pattern: 'a', durationMs: HOUR, reason: 'x'.repeat(500) })).reason,
    ).toHaveLength(500);
    await expect(silences.add({ pattern: 'a', durationMs: HOUR, reason: 'x'.repeat(501) })).rejects.toThrow(
      new RangeError('reason: expected at most 500 characters, got 501'),
    );
  });

  it('keeps working when deleting expired rows fails, and deletes them once it can', async () => {
    let failing = true;
    const errors: unknown[] = [];
    const silences = new Silences({
      store: {
        ...store.silences,
        pruneExpired: (at) => {
          if (failing) throw new Error('disk I/O error');
          return store.silences.pruneExpired(at);
        },
      },
      now: () => now,
      onPruneError: (error) => errors.push(error),
    });
    await silences.add({ pattern: 'a', durationMs: MINUTE });
    now = T + 2 * MINUTE;
    expect(silences.matching('a')).toBeUndefined();
    await silences.whenIdle();
    expect(String(errors[0])).toContain('disk I/O error');
    expect(await store.silences.active(0)).toHaveLength(1);

    failing = false;
    now += 1000;
    expect(silences.list()).toEqual([]);
    await silences.whenIdle();
    expect(await store.silences.active(0)).toEqual([]);
  });
});
