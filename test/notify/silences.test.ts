import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Silences } from '../../src/notify/silences.js';
import createSqliteStore from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';

const T = Date.UTC(2026, 10, 25, 12, 0, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let store: Store;
let now: number;
const open = () => new Silences({ store: store.silences, now: () => now });

beforeEach(() => {
  store = createSqliteStore({ path: ':memory:' });
  now = T;
});
afterEach(() => store.close());

describe('Silences', () => {
  it('mutes an exact name and nothing that merely starts with it', () => {
    const silences = open();
    const silence = silences.add({ pattern: 'web1', durationMs: HOUR, reason: 'disk swap' });
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

  it('mutes every host a glob matches: * any run, ? one character, the rest literal', () => {
    const silences = open();
    const web = silences.add({ pattern: 'web*', durationMs: HOUR });
    const db = silences.add({ pattern: 'db?.example.net', durationMs: HOUR });
    expect(silences.matching('web')?.id).toBe(web.id);
    expect(silences.matching('web1.example.net')?.id).toBe(web.id);
    expect(silences.matching('db1.example.net')?.id).toBe(db.id);
    expect(silences.matching('db12.example.net')).toBeUndefined();
    expect(silences.matching('db1xexample.net')).toBeUndefined();
    expect(silences.matching('mail1')).toBeUndefined();
  });

  it('lower-cases the pattern, since host names arrive lower-cased', () => {
    const silences = open();
    expect(silences.add({ pattern: 'WEB*', durationMs: HOUR }).pattern).toBe('web*');
    expect(silences.matching('web1')).toBeDefined();
  });

  it('answers with the silence that lasts longest when several match', () => {
    const silences = open();
    silences.add({ pattern: '*', durationMs: HOUR });
    const longest = silences.add({ pattern: 'web*', durationMs: 3 * HOUR });
    silences.add({ pattern: 'web1', durationMs: 2 * HOUR });
    expect(silences.matching('web1')?.id).toBe(longest.id);
    now = T + 3 * HOUR - 1;
    expect(silences.matching('db1')).toBeUndefined();
  });

  it('stops muting when the silence expires, and answers for any given time', () => {
    const silences = open();
    silences.add({ pattern: 'web1', durationMs: 30 * MINUTE });
    expect(silences.matching('web1', T + 30 * MINUTE - 1)).toBeDefined();
    expect(silences.matching('web1', T + 30 * MINUTE)).toBeUndefined();
    now = T + 30 * MINUTE - 1;
    expect(silences.matching('web1')).toBeDefined();
    now = T + 30 * MINUTE;
    expect(silences.matching('web1')).toBeUndefined();
  });

  it('lists the silences in force, soonest expiry first, and drops expired ones from memory and store', () => {
    const silences = open();
    const long = silences.add({ pattern: 'a', durationMs: 2 * HOUR });
    const short = silences.add({ pattern: 'b', durationMs: 500 });
    const middle = silences.add({ pattern: 'c', durationMs: HOUR });
    expect(silences.list().map((s) => s.id)).toEqual([short.id, middle.id, long.id]);

    now = T + 600;
    expect(silences.list().map((s) => s.id)).toEqual([middle.id, long.id]);
    // Deleting rows is a write: done at most once a second, so the row is still there.
    expect(store.silences.active(0).map((s) => s.id)).toContain(short.id);

    now = T + 1000;
    expect(silences.list().map((s) => s.id)).toEqual([middle.id, long.id]);
    expect(store.silences.active(0).map((s) => s.id)).toEqual([middle.id, long.id]);
  });

  it('prunes on matching too', () => {
    const silences = open();
    const gone = silences.add({ pattern: 'a', durationMs: MINUTE });
    now = T + 2 * MINUTE;
    expect(silences.matching('b')).toBeUndefined();
    expect(store.silences.active(0).map((s) => s.id)).not.toContain(gone.id);
  });

  it('removes a silence by id, which unmutes at once', () => {
    const silences = open();
    const silence = silences.add({ pattern: 'web*', durationMs: HOUR });
    expect(silences.remove(silence.id)).toBe(true);
    expect(silences.matching('web1')).toBeUndefined();
    expect(silences.list()).toEqual([]);
    expect(store.silences.active(T)).toEqual([]);
    expect(silences.remove(silence.id)).toBe(false);
  });

  it('picks up the stored silences when made again, as after a restart, and clears out expired ones', () => {
    const before = open();
    const kept = before.add({ pattern: 'web*', durationMs: HOUR, reason: 'migration' });
    const expired = before.add({ pattern: 'db1', durationMs: MINUTE });
    now = T + 10 * MINUTE;
    const after = open();
    expect(after.list()).toEqual([kept]);
    expect(after.matching('web7')).toEqual(kept);
    expect(store.silences.active(0).map((s) => s.id)).not.toContain(expired.id);
  });

  it('keeps a reason trimmed, and a blank one as none', () => {
    const silences = open();
    expect(silences.add({ pattern: 'a', durationMs: HOUR, reason: '  deploy  ' }).reason).toBe('deploy');
    expect(silences.add({ pattern: 'b', durationMs: HOUR, reason: '   ' }).reason).toBeNull();
    expect(silences.add({ pattern: 'c', durationMs: HOUR }).reason).toBeNull();
  });

  it.each([
    ['', /^pattern: expected 1 to 253 characters, got 0$/],
    ['a'.repeat(254), /^pattern: expected 1 to 253 characters, got 254$/],
    ['web 1', /^pattern: expected a host name or a glob .* got "web 1"$/],
    ['web/1', /^pattern: expected a host name or a glob .* got "web\/1"$/],
    ['web[12]', /^pattern: expected a host name or a glob .* got "web\[12\]"$/],
    ['wéb', /^pattern: expected a host name or a glob .* got "wéb"$/],
  ])('refuses the pattern %j with a RangeError', (pattern, message) => {
    const silences = open();
    expect(() => silences.add({ pattern, durationMs: HOUR })).toThrow(RangeError);
    expect(() => silences.add({ pattern, durationMs: HOUR })).toThrow(message);
    expect(store.silences.active(T)).toEqual([]);
  });

  it('accepts a pattern of 253 characters and every allowed character', () => {
    const silences = open();
    expect(silences.add({ pattern: 'a'.repeat(253), durationMs: HOUR }).pattern).toHaveLength(253);
    expect(silences.add({ pattern: 'a-b.c_d*e?9', durationMs: HOUR }).pattern).toBe('a-b.c_d*e?9');
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, 366 * 24 * HOUR + 1])(
    'refuses a duration of %d ms',
    (durationMs) => {
      expect(() => open().add({ pattern: 'a', durationMs })).toThrow(
        /^duration: expected more than zero and at most 366 days/,
      );
    },
  );

  it('refuses a reason longer than 500 characters', () => {
    const silences = open();
    expect(silences.add({ pattern: 'a', durationMs: HOUR, reason: 'x'.repeat(500) }).reason).toHaveLength(
      500,
    );
    expect(() => silences.add({ pattern: 'a', durationMs: HOUR, reason: 'x'.repeat(501) })).toThrow(
      new RangeError('reason: expected at most 500 characters, got 501'),
    );
  });

  it('keeps working when deleting expired rows fails, and deletes them once it can', () => {
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
    silences.add({ pattern: 'a', durationMs: MINUTE });
    now = T + 2 * MINUTE;
    expect(silences.matching('a')).toBeUndefined();
    expect(String(errors[0])).toContain('disk I/O error');
    expect(store.silences.active(0)).toHaveLength(1);

    failing = false;
    now += 1000;
    expect(silences.list()).toEqual([]);
    expect(store.silences.active(0)).toEqual([]);
  });
});
