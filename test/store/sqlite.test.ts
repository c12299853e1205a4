import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import createSqliteStore from '../../src/store/sqlite.js';
import { hostRecord } from '../helpers/host-record.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hbd-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const event = (hostName: string, at: number, to = 'up') => ({
  at,
  host: hostName,
  kind: 'state' as const,
  from: null,
  to,
  reason: 'test',
});

describe('the SQLite store', () => {
  it('keeps hosts exactly as written, across a reopen', () => {
    const path = join(dir, 'nested', 'state.sqlite');
    const full = hostRecord('web1', {
      state: 'late',
      status: 'fail',
      msg: 'disk "full"\n',
      fields: { rack: 'r7', load: '0.42' },
      ip4: '198.51.100.4',
      ip6: '2001:db8::4',
      signed: true,
      lastTs: 1_764_080_000.123,
      every: 30,
      lastSeq: 2 ** 40,
      received: 10,
      lost: 2,
    });
    const store = createSqliteStore({ path });
    store.commit({ deletes: [], upserts: [full, hostRecord('web2')], timings: [], events: [] });
    store.commit({ deletes: ['web2'], upserts: [{ ...full, lastSeen: 3_000 }], timings: [], events: [] });
    const { name, lastSeen, lastTs, lastSeq, every, received, lost, signed } = {
      ...full,
      lastSeen: 4_000,
      received: 11,
    };
    store.commit({
      deletes: [],
      upserts: [],
      timings: [{ name, lastSeen, lastTs, lastSeq, every, received, lost, signed }],
      events: [],
    });
    store.close();
    const reopened = createSqliteStore({ path });
    expect(reopened.loadHosts()).toEqual([{ ...full, lastSeen: 4_000, received: 11 }]);
    reopened.close();
  });

  it('numbers events in order and lists them newest first, by host and time', () => {
    const store = createSqliteStore({ path: join(dir, 's.sqlite') });
    const stored = store.commit({
      deletes: [],
      upserts: [],
      timings: [],
      events: [event('a', 1), event('b', 2), event('a', 3)],
    });
    expect(stored.map((e) => e.id)).toEqual([1, 2, 3]);
    expect(store.events({ limit: 10 }).map((e) => e.id)).toEqual([3, 2, 1]);
    expect(store.events({ host: 'a', limit: 10 }).map((e) => e.at)).toEqual([3, 1]);
    expect(store.events({ since: 2, limit: 10 }).map((e) => e.id)).toEqual([3, 2]);
    expect(store.events({ afterId: 2, limit: 10 }).map((e) => e.id)).toEqual([3]);
    expect(store.events({ limit: 1 }).map((e) => e.id)).toEqual([3]);
    store.close();
  });

  it('a commit is all or nothing: a failing hook rolls back hosts and events', () => {
    const store = createSqliteStore({ path: join(dir, 's.sqlite') });
    expect(() =>
      store.commit(
        { deletes: [], upserts: [hostRecord('web1')], timings: [], events: [event('web1', 1)] },
        () => {
          throw new Error('outbox full');
        },
      ),
    ).toThrow('outbox full');
    expect(store.loadHosts()).toEqual([]);
    expect(store.events({ limit: 10 })).toEqual([]);
    store.close();
  });

  it('prunes events by age and by count, and never reuses an id', () => {
    const store = createSqliteStore({ path: join(dir, 's.sqlite') });
    store.commit({
      deletes: [],
      upserts: [],
      timings: [],
      events: [1, 2, 3, 4, 5].map((at) => event('a', at)),
    });
    expect(store.prune({ olderThan: 2, maxEvents: 1000 })).toBe(1);
    expect(store.prune({ olderThan: 0, maxEvents: 2 })).toBe(2);
    expect(store.events({ limit: 10 }).map((e) => e.id)).toEqual([5, 4]);
    store.prune({ olderThan: 10, maxEvents: 1000 });
    expect(store.commit({ deletes: [], upserts: [], timings: [], events: [event('a', 11)] })[0]?.id).toBe(6);
    store.close();
  });

  it('keeps events within their limits as they are written: per host, then the oldest of all', () => {
    let limits = { maxEvents: 10, perHost: 4 };
    const store = createSqliteStore({ path: join(dir, 's.sqlite'), eventLimits: () => limits });
    const write = (host: string, count: number) =>
      store.commit({
        deletes: [],
        upserts: [],
        timings: [],
        events: Array.from({ length: count }, (_, i) => event(host, i)),
      });
    write('quiet', 2);
    write('flood', 50);
    const hosts = () => store.events({ limit: 100 }).map((e) => e.host);
    expect(hosts().filter((h) => h === 'flood')).toHaveLength(4);
    expect(hosts().filter((h) => h === 'quiet')).toHaveLength(2);
    for (const host of ['a', 'b', 'c']) write(host, 3);
    // 2 + 4 + 9 = 15 written: the 5 oldest go, the quiet host's two among them.
    expect(hosts()).toHaveLength(10);
    expect(hosts()).not.toContain('quiet');
    // A limit lowered by a reload is reached by the next commits, each trimming a batch.
    limits = { maxEvents: 3, perHost: 4 };
    write('d', 1);
    expect(hosts()).toHaveLength(3);
    store.close();
    // The counts come back from the file.
    const reopened = createSqliteStore({ path: join(dir, 's.sqlite'), eventLimits: () => limits });
    reopened.commit({ deletes: [], upserts: [], timings: [], events: [event('e', 1)] });
    expect(reopened.events({ limit: 100 }).map((e) => e.host)).toEqual(['e', 'd', 'c']);
    reopened.close();
  });

  it('a commit that rolls back leaves the event counts as they were', () => {
    const store = createSqliteStore({
      path: join(dir, 's.sqlite'),
      eventLimits: () => ({ maxEvents: 100, perHost: 2 }),
    });
    const fail = () => {
      throw new Error('no');
    };
    for (let i = 0; i < 3; i++) {
      expect(() =>
        store.commit({ deletes: [], upserts: [], timings: [], events: [event('a', i)] }, fail),
      ).toThrow();
    }
    store.commit({ deletes: [], upserts: [], timings: [], events: [event('a', 10), event('a', 11)] });
    expect(store.events({ limit: 10 }).map((e) => e.at)).toEqual([11, 10]);
    store.close();
  });

  it('skips an outbox row it cannot read, says which, and keeps the others', () => {
    const path = join(dir, 's.sqlite');
    const warnings: string[] = [];
    const store = createSqliteStore({ path, onWarning: (message) => warnings.push(message) });
    for (const key of ['first', 'second']) {
      store.outbox.decide({
        consumed: [],
        notified: [],
        messages: [
          {
            channel: 'webhook',
            notification: {
              dedupKey: key,
              kind: 'down',
              title: key,
              body: key,
              hosts: [],
              at: 1,
              resolves: false,
            },
            createdAt: 1,
            deadlineAt: 2,
          },
        ],
      });
    }
    store.close();
    const db = new Database(path);
    db.prepare("UPDATE outbox SET notification = '{' WHERE dedup_key = 'first'").run();
    db.close();
    const reopened = createSqliteStore({ path, onWarning: (message) => warnings.push(message) });
    expect(reopened.outbox.pendingMessages().map((m) => m.notification.title)).toEqual(['second']);
    expect(warnings).toEqual([
      expect.stringMatching(`state file ${path}, table outbox, row 1: column notification is not valid JSON`),
    ]);
    reopened.close();
  });

  it('upgrades a file of an older hbd in place: its pending messages keep their order', () => {
    const path = join(dir, 's.sqlite');
    const created = createSqliteStore({ path });
    for (const key of ['first', 'second']) {
      created.outbox.decide({
        consumed: [],
        notified: [],
        messages: [
          {
            channel: 'webhook',
            notification: {
              dedupKey: key,
              kind: 'down',
              title: key,
              body: key,
              hosts: [],
              at: 1,
              resolves: false,
            },
            createdAt: 1,
            deadlineAt: 2,
          },
        ],
      });
    }
    created.close();
    // As schema 3 left it: no place of its own for a message.
    const db = new Database(path);
    db.exec('ALTER TABLE outbox DROP COLUMN position');
    db.pragma('user_version = 3');
    db.close();
    const upgraded = createSqliteStore({ path });
    expect(upgraded.outbox.pendingMessages().map((m) => [m.notification.title, m.position])).toEqual([
      ['first', 1],
      ['second', 2],
    ]);
    upgraded.close();
    const reopened = new Database(path);
    expect(reopened.pragma('user_version', { simple: true })).toBe(4);
    reopened.close();
  });

  it('refuses a file written by a newer hbd rather than guessing', () => {
    const path = join(dir, 's.sqlite');
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    expect(() => createSqliteStore({ path })).toThrow(/newer hbd/);
  });

  it('says which file it could not open', () => {
    writeFileSync(join(dir, 'not-a-dir'), '');
    expect(() => createSqliteStore({ path: join(dir, 'not-a-dir', 'state.sqlite') })).toThrow(
      /sqlite store: cannot open .*not-a-dir\/state\.sqlite/,
    );
  });
});
