import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/drivers.js';
import { PG_MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { hostRecord } from '../helpers/host-record.js';
import { type PgServer, postgresMissing, startPostgres } from '../helpers/postgres.js';
import { storeContext } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hbd-migrations-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const T = Date.UTC(2026, 10, 25, 12, 0, 0);
const notification = JSON.stringify({
  dedupKey: 'k1',
  kind: 'down',
  title: 'web1 is down',
  body: 'web1 is down',
  hosts: [],
  at: T,
  resolves: false,
});
const detail = {
  from: 'up',
  to: 'down',
  reason: 'silent',
  status: 'ok',
  msg: null,
  addr: '192.0.2.7',
  group: '',
  previousFor: null,
};

/**
 * Rows for every table that exists at `version`, written as that version's hbd wrote them
 * (raw SQL: the current code must not help).
 */
function seed(db: Database.Database, version: number): void {
  if (version >= 1) {
    db.prepare(
      `INSERT INTO hosts (name, state, status, msg, fields, addr, ip4, ip6, signed, first_seen, last_seen,
                          last_ts, every, last_seq, received, lost)
       VALUES ('web1', 'up', 'ok', NULL, '{"rack":"r7"}', '192.0.2.7', NULL, NULL, 1, 1000, 2000, 1.5, 30, 7, 3, 1)`,
    ).run();
    db.prepare(
      `INSERT INTO events (at, host, kind, from_value, to_value, reason)
       VALUES (${T}, 'web1', 'state', 'up', 'down', 'silent')`,
    ).run();
  }
  if (version >= 2) {
    db.prepare(
      `INSERT INTO dns_records (host, name, a, aaaa, last_success, last_error, last_error_at)
       VALUES ('web1', 'web1.dyn.example', '192.0.2.7', NULL, ${T}, NULL, NULL)`,
    ).run();
  }
  if (version >= 3) {
    db.prepare(
      `INSERT INTO notify_triggers (event_id, at, host, kind, detail) VALUES (1, ${T}, 'web1', 'down', ?)`,
    ).run(JSON.stringify(detail));
    db.prepare(
      `INSERT INTO outbox (channel, dedup_key, kind, notification, state, created_at, attempts,
                           next_attempt_at, deadline_at)
       VALUES ('webhook', 'k1', 'down', ?, 'pending', ${T}, 0, ${T}, ${T + 1000})`,
    ).run(notification);
    db.prepare(
      `INSERT INTO notified (host, down_at, status, reminded_at) VALUES ('web1', ${T}, NULL, NULL)`,
    ).run();
    db.prepare(
      `INSERT INTO silences (pattern, until, reason, created_at) VALUES ('db*', ${T + 60_000}, 'deploy', ${T})`,
    ).run();
  }
  if (version >= 5) {
    db.prepare(
      `INSERT INTO sessions (key, user, role, csrf, credential, created, last_seen)
       VALUES ('key1', 'alice', 'admin', 'csrf1', 'cred1', ${T}, ${T})`,
    ).run();
  }
  if (version >= 6) {
    db.prepare(
      `INSERT INTO pings (host, slot, n, at, protocol, kind, exit_code, body, addr, run_id)
       VALUES ('web1', 1, 1, ${T}, 'healthchecks', 'fail', 3, 'tar: short read', '192.0.2.9', NULL)`,
    ).run();
  }
}

describe('the SQLite schema', () => {
  // Version k is what an hbd that knew the first k migrations left behind.
  for (let version = 1; version <= MIGRATIONS.length; version++) {
    it(`upgrades a file at schema ${version} to schema ${MIGRATIONS.length} with its rows intact`, async () => {
      const path = join(dir, 'state.sqlite');
      const old = new Database(path);
      for (const migration of MIGRATIONS.slice(0, version)) old.exec(migration);
      old.pragma(`user_version = ${version}`);
      seed(old, version);
      old.close();
      // As hbd made it: private (a looser mode would only add a warning).
      chmodSync(path, 0o600);

      const context = storeContext();
      const store = openSqliteStore({ path }, context);
      expect(context.warnings).toEqual([]);
      expect(await store.hosts.load()).toEqual([
        hostRecord('web1', {
          fields: { rack: 'r7' },
          signed: true,
          lastTs: 1.5,
          every: 30,
          lastSeq: 7,
          received: 3,
          lost: 1,
        }),
      ]);
      expect(await store.events.list({ limit: 10 })).toEqual([
        { id: 1, at: T, host: 'web1', kind: 'state', from: 'up', to: 'down', reason: 'silent' },
      ]);
      if (version >= 2)
        expect((await store.dns.load()).map((r) => [r.host, r.A])).toEqual([['web1', '192.0.2.7']]);
      if (version >= 3) {
        expect(await store.outbox.pendingTriggers()).toEqual([
          { id: 1, eventId: 1, at: T, host: 'web1', kind: 'down', detail },
        ]);
        expect(
          (await store.outbox.pendingMessages()).map((m) => [m.id, m.position, m.notification.title]),
        ).toEqual([[1, 1, 'web1 is down']]);
        expect(await store.outbox.announcedHosts()).toEqual([
          { host: 'web1', downAt: T, status: null, remindedAt: null },
        ]);
        expect((await store.silences.active(T)).map((s) => s.pattern)).toEqual(['db*']);
      }
      if (version >= 5) expect((await store.sessions.list()).map((s) => s.user)).toEqual(['alice']);
      if (version >= 6) {
        expect(await store.pings.recent('web1')).toEqual([
          {
            host: 'web1',
            at: T,
            protocol: 'healthchecks',
            kind: 'fail',
            exitCode: 3,
            body: 'tar: short read',
            addr: '192.0.2.9',
            runId: null,
          },
        ]);
      }
      // Every table of the current schema takes rows, and the ids go on from the old ones.
      await store.sessions.add({
        key: 'new',
        user: 'bob',
        role: 'viewer',
        csrf: 'c',
        credential: 'd',
        created: T,
        lastSeen: T,
      });
      await store.pings.add([
        {
          host: 'web1',
          at: T + 1,
          protocol: 'consul',
          kind: 'warn',
          exitCode: null,
          body: null,
          addr: '192.0.2.9',
          runId: null,
        },
      ]);
      expect((await store.pings.recent('web1')).map((p) => p.protocol)[0]).toBe('consul');
      const [next] = await store.events.append([
        { at: T + 1, host: 'web1', kind: 'state', from: 'down', to: 'up', reason: 'back' },
      ]);
      expect(next?.id).toBe(2);
      await store.close();

      const upgraded = new Database(path);
      expect(upgraded.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      upgraded.close();
    });
  }

  it('starts a new file at the current schema', async () => {
    const path = join(dir, 'state.sqlite');
    await openSqliteStore({ path }, storeContext()).close();
    const db = new Database(path);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    db.close();
  });
});

describe.skipIf(postgresMissing())('the PostgreSQL schema', () => {
  let server: PgServer;
  let url: string;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.destroy();
  });
  beforeEach(async () => {
    url = await server.createDatabase();
  });
  afterEach(async () => {
    await server.dropDatabase(url);
  });

  async function asHbd(sql: string): Promise<void> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }

  /** Rows for every table that exists at `version`, as that version's hbd wrote them (raw SQL). */
  async function seedPg(version: number): Promise<void> {
    if (version >= 1) {
      await server.query(
        url,
        `INSERT INTO hosts (name, state, status, msg, fields, addr, ip4, ip6, signed, first_seen, last_seen,
                            last_ts, every, last_seq, received, lost)
         VALUES ('web1', 'up', 'ok', NULL, '{"rack":"r7"}', '192.0.2.7', NULL, NULL, true, 1000, 2000, 1.5, 30, 7, 3, 1);
         INSERT INTO events (at, host, kind, from_value, to_value, reason)
         VALUES (${T}, 'web1', 'state', 'up', 'down', 'silent');
         INSERT INTO dns_records (host, name, a, aaaa, last_success, last_error, last_error_at)
         VALUES ('web1', 'web1.dyn.example', '192.0.2.7', NULL, ${T}, NULL, NULL);
         INSERT INTO notified (host, down_at, status, reminded_at) VALUES ('web1', ${T}, NULL, NULL);
         INSERT INTO silences (pattern, until, reason, created_at) VALUES ('db*', ${T + 60_000}, 'deploy', ${T});
         INSERT INTO sessions (key, user_name, role, csrf, credential, created, last_seen)
         VALUES ('key1', 'alice', 'admin', 'csrf1', 'cred1', ${T}, ${T});
         INSERT INTO pings (host, slot, n, at, protocol, kind, exit_code, body, addr, run_id)
         VALUES ('web1', 1, 1, ${T}, 'healthchecks', 'fail', 3, 'tar: short read', '192.0.2.9', NULL)`,
      );
      await server.query(
        url,
        'INSERT INTO notify_triggers (event_id, at, host, kind, detail) VALUES (1, $1, $2, $3, $4)',
        [T, 'web1', 'down', JSON.stringify(detail)],
      );
      await server.query(
        url,
        `INSERT INTO outbox (channel, dedup_key, kind, notification, state, created_at, attempts,
                             next_attempt_at, deadline_at)
         VALUES ('webhook', 'k1', 'down', $1, 'pending', ${T}, 0, ${T}, ${T + 1000})`,
        [notification],
      );
    }
  }

  for (let version = 1; version <= PG_MIGRATIONS.length; version++) {
    it(`upgrades a database at schema ${version} to schema ${PG_MIGRATIONS.length} with its rows intact`, async () => {
      // As that version's hbd left it, with the version table it kept, as hbd's own user.
      await asHbd(
        `CREATE TABLE hbd_schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
         ${PG_MIGRATIONS.slice(0, version).join(';\n')};
         INSERT INTO hbd_schema_version (version) SELECT generate_series(1, ${version})`,
      );
      await seedPg(version);

      const context = storeContext();
      const store = await openStore({ driver: 'postgresql', options: { url } }, context);
      try {
        expect(context.warnings).toEqual([]);
        expect(await store.hosts.load()).toEqual([
          hostRecord('web1', {
            fields: { rack: 'r7' },
            signed: true,
            lastTs: 1.5,
            every: 30,
            lastSeq: 7,
            received: 3,
            lost: 1,
          }),
        ]);
        expect(await store.events.list({ limit: 10 })).toEqual([
          { id: 1, at: T, host: 'web1', kind: 'state', from: 'up', to: 'down', reason: 'silent' },
        ]);
        expect((await store.dns.load()).map((r) => [r.host, r.A])).toEqual([['web1', '192.0.2.7']]);
        expect(await store.outbox.pendingTriggers()).toEqual([
          { id: 1, eventId: 1, at: T, host: 'web1', kind: 'down', detail },
        ]);
        expect(
          (await store.outbox.pendingMessages()).map((m) => [m.id, m.position, m.notification.title]),
        ).toEqual([[1, 1, 'web1 is down']]);
        expect(await store.outbox.announcedHosts()).toEqual([
          { host: 'web1', downAt: T, status: null, remindedAt: null },
        ]);
        expect((await store.silences.active(T)).map((s) => s.pattern)).toEqual(['db*']);
        expect((await store.sessions.list()).map((s) => s.user)).toEqual(['alice']);
        expect((await store.pings.recent('web1')).map((p) => [p.kind, p.exitCode])).toEqual([['fail', 3]]);
        // Every table of the current schema takes rows, and the ids go on from the old ones.
        const [next] = await store.events.append([
          { at: T + 1, host: 'web1', kind: 'state', from: 'down', to: 'up', reason: 'back' },
        ]);
        expect(next?.id).toBe(2);
        const versions = await server.query(url, 'SELECT version FROM hbd_schema_version ORDER BY version');
        expect(versions.rows.map((row) => row.version)).toEqual(
          Array.from({ length: PG_MIGRATIONS.length }, (_, i) => i + 1),
        );
      } finally {
        await store.close();
      }
    });
  }

  it('starts an empty database at the current schema', async () => {
    await (await openStore({ driver: 'postgresql', options: { url } }, storeContext())).close();
    const versions = await server.query(url, 'SELECT max(version) AS version FROM hbd_schema_version');
    expect(versions.rows).toEqual([{ version: PG_MIGRATIONS.length }]);
  });
});
