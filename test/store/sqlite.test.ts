import fs, { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Bus } from '../../src/lib/bus.js';
import { HostTable } from '../../src/state/host-table.js';
import { openStore } from '../../src/store/drivers.js';
import { DamagedStateError } from '../../src/store/sqlite/damage.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import type { Store } from '../../src/store/store.js';
import { testStore } from './contract.js';
import { storeContext } from './helpers.js';

testStore('sqlite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hbd-contract-'));
  return {
    open: async (context) => openSqliteStore({ path: join(dir, 'state.sqlite') }, context),
    destroy: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hbd-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const modeOf = (path: string) => (fs.statSync(path).mode & 0o777).toString(8);

function queueMessage(store: Store, key: string) {
  return store.outbox.decide({
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

describe('the SQLite store', () => {
  it('is the default driver, on pickfile unless the config names a path', async () => {
    const pickfile = join(dir, 'nested', 'state.sqlite');
    const byDefault = await openStore({ driver: 'sqlite', options: {} }, storeContext({ pickfile }));
    expect([byDefault.driver, byDefault.location]).toEqual(['sqlite', pickfile]);
    await byDefault.close();
    const elsewhere = join(dir, 'other.sqlite');
    const named = await openStore(
      { driver: 'sqlite', options: { path: elsewhere } },
      storeContext({ pickfile }),
    );
    expect(named.location).toBe(elsewhere);
    await named.close();
    await expect(openStore({ driver: 'mysql', options: {} }, storeContext())).rejects.toThrow(
      'store: unknown driver "mysql"; expected one of sqlite',
    );
    await expect(openStore({ driver: 'sqlite', options: { file: 'x' } }, storeContext())).rejects.toThrow(
      /store\.: .*"file"/,
    );
  });

  it('keeps its file, WAL and shared memory private (0600), and tightens a file others could read', async () => {
    const path = join(dir, 'state.sqlite');
    const store = openSqliteStore({ path }, storeContext());
    await store.events.append([{ at: 1, host: 'a', kind: 'state', from: null, to: 'up', reason: 't' }]);
    for (const file of [path, `${path}-wal`, `${path}-shm`])
      expect([file, modeOf(file)]).toEqual([file, '600']);
    await store.close();
    fs.chmodSync(path, 0o644);
    const context = storeContext();
    await openSqliteStore({ path }, context).close();
    expect(modeOf(path)).toBe('600');
    expect(context.warnings).toEqual([`${path} could be read by other users; its mode is now 0600`]);
  });

  it('warns about an empty state file rather than silently starting afresh', async () => {
    const path = join(dir, 'state.sqlite');
    writeFileSync(path, '', { mode: 0o600 });
    const context = storeContext();
    await openSqliteStore({ path }, context).close();
    expect(context.warnings).toEqual([expect.stringContaining(`the state file ${path} is empty (0 bytes)`)]);
  });

  it('skips an outbox row it cannot read, says which, and keeps the others', async () => {
    const path = join(dir, 's.sqlite');
    const store = openSqliteStore({ path }, storeContext());
    for (const key of ['first', 'second']) await queueMessage(store, key);
    await store.close();
    const db = new Database(path);
    db.prepare("UPDATE outbox SET notification = '{' WHERE dedup_key = 'first'").run();
    db.close();
    const context = storeContext();
    const reopened = openSqliteStore({ path }, context);
    expect((await reopened.outbox.pendingMessages()).map((m) => m.notification.title)).toEqual(['second']);
    expect(context.warnings).toEqual([
      expect.stringMatching(`state file ${path}, table outbox, row 1: column notification is not valid JSON`),
    ]);
    await reopened.close();
  });

  it('skips a host or a session row it cannot trust, says which, and keeps the others', async () => {
    const path = join(dir, 's.sqlite');
    const store = openSqliteStore({ path }, storeContext());
    await store.sessions.add({
      key: 'k',
      user: 'alice',
      role: 'admin',
      csrf: 'c',
      credential: 'd',
      created: 1,
      lastSeen: 1,
    });
    await store.close();
    const db = new Database(path);
    db.prepare("UPDATE sessions SET role = 'root'").run();
    db.close();
    const context = storeContext();
    const reopened = openSqliteStore({ path }, context);
    expect(await reopened.sessions.get('k')).toBeUndefined();
    expect(await reopened.sessions.list()).toEqual([]);
    expect(context.warnings[0]).toMatch(`state file ${path}, table sessions, row 1: column role is "root"`);
    await reopened.close();
  });

  it('upgrades a file of an older hbd in place: its pending messages keep their order', async () => {
    const path = join(dir, 's.sqlite');
    const created = openSqliteStore({ path }, storeContext());
    for (const key of ['first', 'second']) await queueMessage(created, key);
    await created.close();
    // As schema 3 left it: no place of its own for a message, no sessions, no pings.
    const db = new Database(path);
    db.exec('ALTER TABLE outbox DROP COLUMN position; DROP TABLE sessions; DROP TABLE pings');
    db.pragma('user_version = 3');
    db.close();
    const upgraded = openSqliteStore({ path }, storeContext());
    expect((await upgraded.outbox.pendingMessages()).map((m) => [m.notification.title, m.position])).toEqual([
      ['first', 1],
      ['second', 2],
    ]);
    await upgraded.close();
    const reopened = new Database(path);
    expect(reopened.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    reopened.close();
  });

  it('refuses a file written by a newer hbd rather than guessing', () => {
    const path = join(dir, 's.sqlite');
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    expect(() => openSqliteStore({ path }, storeContext())).toThrow(/newer hbd/);
  });

  it('says which file it could not open', () => {
    writeFileSync(join(dir, 'not-a-dir'), '');
    expect(() => openSqliteStore({ path: join(dir, 'not-a-dir', 'state.sqlite') }, storeContext())).toThrow(
      /sqlite store: cannot open .*not-a-dir\/state\.sqlite/,
    );
  });

  it('calls a file that is no database damaged, naming it and how to recover', () => {
    const path = join(dir, 's.sqlite');
    writeFileSync(path, 'this is not a database, but it is long enough to have a header. '.repeat(20));
    let thrown: unknown;
    try {
      openSqliteStore({ path }, storeContext());
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DamagedStateError);
    expect((thrown as DamagedStateError).path).toBe(path);
    expect((thrown as Error).message).toContain(`mv ${path} ${path}.damaged`);
  });

  it('a database in memory has no beat log', async () => {
    const store = openSqliteStore({ path: ':memory:' }, storeContext());
    const writer = await store.openWriter({ table: new HostTable(), bus: new Bus(), onError: () => {} });
    expect(writer.unstoredTimings).toEqual([]);
    await writer.close();
    await store.close();
  });
});

describe("the SQLite store's writer", () => {
  it('keeps a beat log at <path>.beats, and gives back at the next open what a crash left in it', async () => {
    const path = join(dir, 'state.sqlite');
    const beats = `${path}.beats`;
    const store = openSqliteStore({ path }, storeContext());
    const table = new HostTable();
    const writer = await store.openWriter({ table, bus: new Bus(), onError: () => {} });
    const slot = table.add('web1', 1, 1);
    writer.hostChanged(slot, true, true);
    await writer.commitPending();
    table.lastSeen[slot] = 5_000;
    table.lastTs[slot] = 1_764_080_000.5;
    writer.hostChanged(slot, false, false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(modeOf(beats)).toBe('600');
    // A second writer would share the log and the pending changes: refused.
    await expect(store.openWriter({ table, bus: new Bus(), onError: () => {} })).rejects.toThrow(
      'already has a writer',
    );
    // kill -9: no close. The next start finds the timing in the log, and the old one in the file.
    const next = openSqliteStore({ path }, storeContext());
    expect((await next.hosts.load())[0]).toMatchObject({ lastSeen: 1, lastTs: null });
    const restarted = await next.openWriter({ table: new HostTable(), bus: new Bus(), onError: () => {} });
    expect(restarted.unstoredTimings).toEqual([
      expect.objectContaining({ name: 'web1', lastSeen: 5_000, lastTs: 1_764_080_000.5 }),
    ]);
    await restarted.close();
    await next.close();
  });

  it('names the store and the beat log in its problems, and tells onFileError about the log', async () => {
    const path = join(dir, 'state.sqlite');
    const store = openSqliteStore({ path }, storeContext());
    const fileErrors: string[] = [];
    const table = new HostTable();
    const writer = await store.openWriter({
      table,
      bus: new Bus(),
      onError: () => {},
      onFileError: (what, file) => fileErrors.push(`${what} ${file}`),
    });
    expect(writer.problems()).toEqual([]);
    // The log's directory goes away: its next write fails.
    const original = fs.writeSync;
    fs.writeSync = (() => {
      throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    }) as typeof fs.writeSync;
    try {
      writer.hostChanged(table.add('web1', 1, 1), false, false);
      await new Promise((resolve) => setImmediate(resolve));
      await writer.commitPending();
    } finally {
      fs.writeSync = original;
    }
    expect(fileErrors).toEqual([`beat log ${path}.beats`]);
    expect(writer.problems()).toEqual([
      { what: 'beat log', failure: expect.objectContaining({ attempts: 1 }) },
    ]);
    await writer.close();
    expect(existsSync(`${path}.beats`)).toBe(false);
    await store.close();
  });
});
