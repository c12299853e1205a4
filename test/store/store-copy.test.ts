import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../src/model/notification.js';
import { openStore } from '../../src/store/drivers.js';
import { sqliteDriver } from '../../src/store/sqlite/driver.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import type { Store } from '../../src/store/store.js';
import { TRANSFER_KINDS } from '../../src/store/transfer.js';
import { runHbd, useHbdSandbox } from '../helpers/cli.js';
import { hostRecord } from '../helpers/host-record.js';
import { type PgServer, postgresMissing, startPostgres } from '../helpers/postgres.js';
import { storeContext } from './helpers.js';

const T = Date.UTC(2026, 10, 25, 12, 0, 0);

const notification = (key: string): Notification => ({
  dedupKey: key,
  kind: 'down',
  title: `${key} is down`,
  body: `${key} is down (…) "quoted" é`,
  hosts: [{ name: 'web1', state: 'down', status: 'ok', msg: null, addr: '192.0.2.7', previousFor: 60_000.5 }],
  at: T,
  resolves: false,
});

/** A node's state with something of every kind, in every state a row can be in. */
async function fillWithEverything(store: Store): Promise<void> {
  await store.hosts.write({
    deletes: [],
    upserts: [
      hostRecord('web1', {
        state: 'down',
        status: 'fail',
        msg: 'disk "full"\n',
        fields: { rack: 'r7' },
        ip4: '198.51.100.4',
        ip6: '2001:db8::4',
        signed: true,
        lastTs: 1_764_080_000.123,
        every: 30,
        lastSeq: 2 ** 40,
        received: 10,
        lost: 2,
      }),
      hostRecord('db1'),
      hostRecord('gone'),
    ],
    timings: [],
  });
  await store.hosts.write({ deletes: ['gone'], upserts: [hostRecord('mail')], timings: [] });
  const events = await store.events.append(
    ['web1', 'db1', 'web1', 'mail', 'web1'].map((host, i) => ({
      at: T + i,
      host,
      kind: 'state' as const,
      from: i === 0 ? null : 'up',
      to: 'down',
      reason: `event ${i}`,
    })),
  );
  await store.events.prune({ olderThan: 0, maxEvents: 4 });
  await store.dns.save({
    host: 'web1',
    name: 'web1.dyn.example',
    A: '192.0.2.7',
    AAAA: null,
    lastSuccess: T,
    lastError: 'REFUSED',
    lastErrorAt: T + 0.5,
  });
  const [kept] = await store.outbox.addTriggers([
    {
      eventId: events[2]!.id,
      at: T + 2,
      host: 'web1',
      kind: 'down',
      detail: {
        from: 'up',
        to: 'down',
        reason: 'silent',
        status: 'ok',
        msg: null,
        addr: '192.0.2.7',
        group: 'fra',
        previousFor: 3_600_000.5,
      },
    },
    {
      eventId: events[3]!.id,
      at: T + 3,
      host: 'mail',
      kind: 'up',
      detail: {
        from: 'down',
        to: 'up',
        reason: 'back',
        status: 'ok',
        msg: null,
        addr: '192.0.2.8',
        group: '',
        previousFor: null,
      },
    },
  ]);
  const queued = await store.outbox.decide({
    consumed: [kept!.id],
    messages: ['pending', 'retried', 'sent', 'failed', 'merged-a', 'merged-b', 'late'].map((key) => ({
      channel: key === 'late' ? 'email' : 'webhook',
      notification: notification(key),
      createdAt: T,
      deadlineAt: T + 86_400_000,
    })),
    notified: [
      { host: 'web1', downAt: T, status: 'fail', remindedAt: T + 10 },
      { host: 'db1', downAt: null, status: 'warn', remindedAt: null },
    ],
  });
  const [, retried, sent, failed, mergedA, mergedB] = queued;
  await store.outbox.markRetry(retried!.id, 2, T + 5000, 'webhook: HTTP 503');
  await store.outbox.markSent(sent!.id, T + 6, 'delivered (HTTP 204)');
  await store.outbox.markFailed(failed!.id, 3, T + 7, 'webhook: HTTP 400');
  await store.outbox.merge([mergedA!.id, mergedB!.id], {
    channel: 'webhook',
    notification: { ...notification('digest:merged-a+1'), kind: 'digest' },
    createdAt: T + 8,
    deadlineAt: T + 86_400_000,
  });
  const removed = await store.silences.add({ pattern: 'old*', until: T + 1, reason: null, createdAt: T });
  await store.silences.add({ pattern: 'web*', until: T + 7_200_000, reason: 'deploy', createdAt: T });
  await store.silences.remove(removed.id);
  for (const [key, user] of [
    ['k2', 'bob'],
    ['k1', 'alice'],
  ]) {
    await store.sessions.add({
      key: key!,
      user: user!,
      role: key === 'k1' ? 'admin' : 'viewer',
      csrf: `csrf-${key}`,
      credential: `cred-${user}`,
      created: T,
      lastSeen: T + 1,
    });
  }
  // More pings than a host keeps: its ring has gone round.
  await store.pings.add(
    Array.from({ length: 13 }, (_, i) => ({
      host: 'backup',
      at: T + i,
      protocol: 'healthchecks',
      kind: i === 12 ? ('fail' as const) : ('success' as const),
      exitCode: i === 12 ? 3 : null,
      body: i === 12 ? 'tar: short read' : null,
      addr: '192.0.2.9',
      runId: null,
    })),
  );
}

/** Everything a SQLite file holds, row by row, and the ids it goes on from. */
async function everythingIn(path: string) {
  const transfer = await sqliteDriver.transfer!({ path }, storeContext());
  try {
    const rows: Record<string, unknown[]> = {};
    for (const kind of TRANSFER_KINDS) {
      rows[kind] = [];
      for await (const page of transfer.rows(kind)) rows[kind].push(...page);
    }
    return { rows, lastIds: await transfer.lastIds() };
  } finally {
    await transfer.close();
  }
}

let server: PgServer;

describe.skipIf(postgresMissing())('hbd store copy', () => {
  const sandbox = useHbdSandbox('hbd-store-copy-');
  let url: string;
  let password: string;
  let source: string;

  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.destroy();
  });
  beforeEach(async () => {
    url = await server.createDatabase();
    password = decodeURIComponent(new URL(url).password);
    source = join(sandbox.dir, 'hbd.sqlite');
    const store = openSqliteStore({ path: source }, storeContext());
    await fillWithEverything(store);
    await store.close();
    // The newest event is gone (a host's trim, say): its id must still never be handed out again.
    const db = new Database(source);
    db.prepare('DELETE FROM events WHERE id = 5').run();
    db.close();
  });
  afterEach(async () => {
    await server.dropDatabase(url);
  });

  const copy = async (...args: string[]) => {
    const result = await runHbd(['store', 'copy', ...args]);
    expect(result.stdout + result.stderr).not.toContain(password);
    return result;
  };

  it('copies a SQLite file into PostgreSQL and back, and gives back the same state', async () => {
    const there = await copy('--from', source, '--to', url);
    expect(there.stderr).toBe('');
    expect(there.code).toBe(0);
    const location = `postgresql://hbd@127.0.0.1:${server.port}${new URL(url).pathname}`;
    expect(there.stdout).toBe(
      [
        `copied ${source} to ${location}:`,
        '  hosts      3',
        '  events     3',
        '  dns        1',
        '  triggers   1',
        '  messages   8',
        '  announced  2',
        '  silences   1',
        '  sessions   2',
        '  pings      10',
        '',
      ].join('\n'),
    );

    // What hbd on PostgreSQL finds is what it had on SQLite.
    const before = openSqliteStore({ path: source }, storeContext());
    const pg = await openStore({ driver: 'postgresql', options: { url } }, storeContext());
    try {
      for (const read of [
        (s: Store) => s.hosts.load(),
        (s: Store) => s.events.list({ limit: 100 }),
        (s: Store) => s.dns.load(),
        (s: Store) => s.outbox.pendingTriggers(),
        (s: Store) => s.outbox.pendingMessages(),
        (s: Store) => s.outbox.list({ limit: 100 }),
        (s: Store) => s.outbox.announcedHosts(),
        (s: Store) => s.silences.active(0),
        (s: Store) => s.sessions.list(),
        (s: Store) => s.pings.recent('backup'),
      ]) {
        expect(await read(pg)).toEqual(await read(before));
      }
      // Ids go on after the last one the source handed out, the pruned one included.
      const [next] = await pg.events.append([
        { at: T + 9, host: 'web1', kind: 'state', from: 'down', to: 'up', reason: 'back' },
      ]);
      const [nextInSqlite] = await before.events.append([
        { at: T + 9, host: 'web1', kind: 'state', from: 'down', to: 'up', reason: 'back' },
      ]);
      expect(next!.id).toBe(6);
      expect(nextInSqlite!.id).toBe(6);
    } finally {
      await pg.close();
      await before.close();
    }

    const back = join(sandbox.dir, 'back.sqlite');
    const returned = await copy('--from', url, '--to', back);
    expect(returned.stderr).toBe('');
    expect(returned.code).toBe(0);
    expect(returned.stdout).toContain(`copied ${location} to ${back}:`);
    const original = await everythingIn(source);
    const roundTrip = await everythingIn(back);
    expect(roundTrip).toEqual(original);
    expect(original.rows.messages).toHaveLength(8);
    // Both got one event more above, numbered 6 by each.
    expect(original.lastIds).toEqual({ events: 6, triggers: 2, messages: 8, silences: 2 });
  });

  it('refuses a target that holds anything, and replaces it with --force', async () => {
    expect((await copy('--from', source, '--to', url)).code).toBe(0);
    const other = join(sandbox.dir, 'other.sqlite');
    const small = openSqliteStore({ path: other }, storeContext());
    await small.hosts.write({ deletes: [], upserts: [hostRecord('only')], timings: [] });
    await small.close();

    const refused = await copy('--from', other, '--to', url);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      /^hbd: store copy: the target postgresql:\/\/hbd@127\.0\.0\.1:\d+\/\w+ is not empty \(3 hosts, 3 events, .*10 pings\): a copy goes into an empty store; --force replaces what it holds\n$/,
    );

    const forced = await copy('--from', other, '--to', url, '--force');
    expect(forced.code).toBe(0);
    const pg = await openStore({ driver: 'postgresql', options: { url } }, storeContext());
    try {
      expect((await pg.hosts.load()).map((h) => h.name)).toEqual(['only']);
      expect(await pg.outbox.list({ limit: 10 })).toEqual([]);
      expect(await pg.pings.recent('backup')).toEqual([]);
    } finally {
      await pg.close();
    }
  });

  it('writes nothing when the copy fails part of the way: one transaction', async () => {
    // The last kind copied cannot be written: everything before it must go too.
    const pg = await openStore({ driver: 'postgresql', options: { url } }, storeContext());
    await pg.close();
    await server.query(
      url,
      `CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no pings today'; END $$;
       CREATE TRIGGER refuse BEFORE INSERT ON pings FOR EACH ROW EXECUTE FUNCTION refuse()`,
    );
    const failed = await copy('--from', source, '--to', url);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toBe('hbd: store copy: no pings today\n');
    const counts = await server.query(
      url,
      'SELECT (SELECT count(*) FROM hosts) AS hosts, (SELECT count(*) FROM outbox) AS messages',
    );
    expect(counts.rows).toEqual([{ hosts: '0', messages: '0' }]);
  });

  it('refuses to copy from a state file hbd is running on', async () => {
    writeFileSync(`${source}.beats`, '');
    const refused = await copy('--from', source, '--to', url);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`hbd: store copy: the source ${source}: hbd is running on it`);
    expect((await server.query(url, 'SELECT count(*) AS n FROM hosts')).rows).toEqual([{ n: '0' }]);
  });

  it('refuses to copy into a database a cluster node reported to moments ago', async () => {
    const pg = await openStore({ driver: 'postgresql', options: { url } }, storeContext());
    await pg.close();
    await server.query(
      url,
      `INSERT INTO hbd_nodes (name, started_at, role, api, version, last_seen)
       VALUES ('node-a', 0, 'leader', 'http://127.0.0.1:1', 'test', now())`,
    );
    const refused = await copy('--from', source, '--to', url);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /the target postgresql:\/\/hbd@.*: hbd is running on it: node node-a reported/,
    );
  });

  it('says what is wrong with what it was given', async () => {
    const missing = join(sandbox.dir, 'missing.sqlite');
    expect(await copy('--from', missing, '--to', url)).toMatchObject({
      code: 1,
      stderr: `hbd: store copy: --from: there is no state file ${missing}\n`,
    });
    expect(await copy('--from', source, '--to', 'mysql://root:hunter2@127.0.0.1/hbd')).toMatchObject({
      code: 2,
      stderr:
        'hbd: store copy: --to: mysql://root@127.0.0.1/hbd is no store URL (expected postgresql:// or postgres://, or a file)\n',
    });
    expect(await copy('--from', source, '--to', source)).toMatchObject({
      code: 1,
      stderr: `hbd: store copy: ${source} is both the source and the target\n`,
    });
    expect((await copy('--from', source)).code).toBe(2);
  });
});
