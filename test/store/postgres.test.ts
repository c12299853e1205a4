import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Bus } from '../../src/lib/bus.js';
import type { PublishedRecords } from '../../src/model/dns.js';
import { HostTable } from '../../src/state/host-table.js';
import { openStore } from '../../src/store/drivers.js';
import { type Fence, NotLeaderError } from '../../src/store/fencing.js';
import { postgresDriver } from '../../src/store/postgres/driver.js';
import { PG_MIGRATIONS } from '../../src/store/postgres/migrations.js';
import type { Store, StoreContext } from '../../src/store/store.js';
import { eventually } from '../helpers/eventually.js';
import { hostRecord } from '../helpers/host-record.js';
import { type PgServer, postgresMissing, startPostgres } from '../helpers/postgres.js';
import { testStore } from './contract.js';
import { storeContext } from './helpers.js';

let server: PgServer;

/** Opens the PostgreSQL store on `url` as the config would: options checked, defaults filled. */
function openPg(url: string, context: Partial<StoreContext> = {}, options: Record<string, unknown> = {}) {
  return openStore({ driver: 'postgresql', options: { url, ...options } }, storeContext(context));
}

const passwordOf = (url: string) => decodeURIComponent(new URL(url).password);

describe.skipIf(postgresMissing())('PostgreSQL', () => {
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.destroy();
  });

  // Each test on a database of its own.
  testStore('postgresql', async () => {
    const url = await server.createDatabase();
    return {
      open: (context) => postgresDriver.open(postgresDriver.schema.parse({ url }), context),
      destroy: () => server.dropDatabase(url),
    };
  });

  describe('the PostgreSQL store', () => {
    let url: string;
    const opened: Store[] = [];
    const open = async (...args: Parameters<typeof openPg>) => {
      const store = await openPg(...args);
      opened.push(store);
      return store;
    };
    beforeEach(async () => {
      url = await server.createDatabase();
    });
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
      await server.dropDatabase(url);
    });

    it('names its server, user and database as its location, never the password', async () => {
      const context = storeContext();
      const store = await openStore({ driver: 'postgresql', options: { url } }, context);
      opened.push(store);
      const { port, pathname } = new URL(url);
      expect(store.driver).toBe('postgresql');
      expect(store.location).toBe(`postgresql://hbd@127.0.0.1:${port}${pathname}`);
      expect(JSON.stringify(store)).not.toContain(passwordOf(url));
      expect(context.warnings).toEqual([]);
    });

    it('migrates an empty database exactly once when three nodes start at the same moment', async () => {
      const stores = await Promise.all([open(url), open(url), open(url)]);
      const versions = await server.query(url, 'SELECT version FROM hbd_schema_version');
      expect(versions.rows).toEqual([{ version: PG_MIGRATIONS.length }]);
      // Each of them works on the one schema.
      await stores[0]!.silences.add({ pattern: 'a', until: 10, reason: null, createdAt: 1 });
      expect(await stores[2]!.silences.active(0)).toHaveLength(1);
      // The cluster's tables are part of it, with the lease's one row.
      const lease = await server.query(url, 'SELECT id, holder, token FROM hbd_lease');
      expect(lease.rows).toEqual([{ id: 1, holder: null, token: '0' }]);
    });

    it('refuses a database written by a newer hbd rather than guessing', async () => {
      await (await open(url)).close();
      await server.query(url, 'INSERT INTO hbd_schema_version (version) VALUES (99)');
      await expect(openPg(url)).rejects.toThrow(
        /cannot open: the database was written by a newer hbd \(schema 99/,
      );
    });

    it('stores text with the NUL character, which PostgreSQL cannot hold, as U+FFFD', async () => {
      const store = await open(url);
      const hostile = hostRecord('web1', { msg: 'a\0b', fields: { note: '\0' } });
      await store.hosts.write({ deletes: [], upserts: [hostile], timings: [] });
      await store.pings.add([
        {
          host: 'web1',
          at: 1,
          protocol: 'healthchecks',
          kind: 'log',
          exitCode: null,
          body: 'x\0',
          addr: '192.0.2.9',
          runId: null,
        },
      ]);
      expect((await store.hosts.load())[0]).toMatchObject({ msg: 'a\uFFFDb', fields: { note: '\uFFFD' } });
      expect((await store.pings.recent('web1'))[0]?.body).toBe('x\uFFFD');
    });

    it('stores the timing a writer is told about within about a second, and may open a writer again', async () => {
      const store = await open(url);
      const table = new HostTable();
      const writer = await store.openWriter({ table, bus: new Bus(), onError: () => {} });
      expect(writer.unstoredTimings).toEqual([]);
      const slot = table.add('web1', 1_000, 1);
      writer.hostChanged(slot, true, true);
      await writer.commitPending();
      table.lastSeen[slot] = 5_000;
      writer.hostChanged(slot, false, false);
      await eventually(async () => expect((await store.hosts.load())[0]?.lastSeen).toBe(5_000), 5_000);
      await writer.close();
      // A cluster node opens a writer each time it becomes the leader.
      const again = await store.openWriter({ table, bus: new Bus(), onError: () => {} });
      await again.close();
    });

    it('cancels a statement that runs past statement_timeout, and goes on', async () => {
      const store = await open(url, {}, { statement_timeout: 0.3 });
      // Another session holds the table: the store's read waits for it until its timeout.
      const holder = new (await import('pg')).default.Client({
        connectionString: server.url(new URL(url).pathname.slice(1)),
      });
      await holder.connect();
      try {
        await holder.query('BEGIN; LOCK TABLE silences IN ACCESS EXCLUSIVE MODE');
        await expect(store.silences.active(0)).rejects.toThrow(/statement timeout/);
        await holder.query('ROLLBACK');
        expect(await store.silences.active(0)).toEqual([]);
      } finally {
        await holder.end();
      }
    });

    it('takes writes again once the server is back after an outage', async () => {
      const context = storeContext();
      const store = await open(url, context);
      await store.silences.add({ pattern: 'before', until: 10, reason: null, createdAt: 1 });
      await server.stop();
      try {
        await expect(
          store.silences.add({ pattern: 'during', until: 10, reason: null, createdAt: 1 }),
        ).rejects.toThrow();
      } finally {
        await server.start();
      }
      await eventually(async () => {
        await store.silences.add({ pattern: 'after', until: 10, reason: null, createdAt: 1 });
      }, 10_000);
      expect((await store.silences.active(0)).map((s) => s.pattern)).toEqual(['before', 'after']);
      for (const warning of context.warnings) expect(warning).not.toContain(passwordOf(url));
    });

    it('refuses every call once closed, saying so', async () => {
      const store = await openPg(url);
      await store.close();
      await expect(store.sessions.list()).rejects.toThrow(
        /the postgresql store postgresql:\/\/hbd@.* is closed/,
      );
      await expect(store.transaction(async () => {})).rejects.toThrow(/is closed/);
    });

    describe('when it cannot be opened, says where and what to do in one line, without the password', () => {
      const refusal = async (target: string, options: Record<string, unknown> = {}) => {
        const error = (await openPg(target, {}, options).then(
          () => {
            throw new Error('expected the store not to open');
          },
          (thrown: unknown) => thrown,
        )) as Error;
        expect(error.message).not.toContain(passwordOf(target));
        expect(error.message).not.toContain('\n');
        expect(error.stack).not.toContain('    at ');
        return error.message;
      };

      it('a server that is not there', async () => {
        const closed = await new Promise<number>((resolve) => {
          const probe = net.createServer().listen(0, '127.0.0.1', () => {
            const { port } = probe.address() as net.AddressInfo;
            probe.close(() => resolve(port));
          });
        });
        const target = `postgresql://hbd:s3cret-pass@127.0.0.1:${closed}/hbd`;
        expect(await refusal(target)).toMatch(
          new RegExp(
            `^postgresql store postgresql://hbd@127\\.0\\.0\\.1:${closed}/hbd: cannot open: .*ECONNREFUSED.*is PostgreSQL running there`,
          ),
        );
      });

      it('a server that never answers, within connect_timeout', async () => {
        const sockets: net.Socket[] = [];
        const silent = net.createServer((socket) => sockets.push(socket));
        await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
        const { port } = silent.address() as net.AddressInfo;
        try {
          const message = await refusal(`postgresql://hbd:s3cret-pass@127.0.0.1:${port}/hbd`, {
            connect_timeout: 0.5,
          });
          expect(message).toMatch(/cannot open: no answer within 0\.5 s \(store\.connect_timeout\)/);
        } finally {
          for (const socket of sockets) socket.destroy();
          silent.close();
        }
      });

      it('a wrong password', async () => {
        const wrong = new URL(url);
        wrong.password = 'not-the-password';
        expect(await refusal(wrong.href)).toMatch(
          /cannot open: password authentication failed for user "hbd": check the user and password in store\.url/,
        );
      });

      it('a database that does not exist', async () => {
        const missing = new URL(url);
        missing.pathname = '/no_such_database';
        expect(await refusal(missing.href)).toMatch(
          /postgresql:\/\/hbd@127\.0\.0\.1:\d+\/no_such_database: cannot open: database "no_such_database" does not exist: create it/,
        );
      });
    });

    describe('over TLS', () => {
      const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
      let dir: string;
      beforeAll(async () => {
        // The server's certificate is the test fixture for 127.0.0.1, which is its own CA.
        dir = mkdtempSync(join(tmpdir(), 'hbd-pg-tls-'));
        for (const [from, to] of [
          ['tls-cert.pem', 'server.pem'],
          ['tls-key.pem', 'server.key'],
        ]) {
          copyFileSync(fixture(from!), join(dir, to!));
        }
        chmodSync(join(dir, 'server.key'), 0o600);
        if (userInfo().uid === 0) {
          // As root the server runs as `postgres`, which must own its key.
          const [uid, gid] = ['-u', '-g'].map((flag) =>
            Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' })),
          );
          for (const file of ['', 'server.pem', 'server.key']) chownSync(join(dir, file), uid!, gid!);
        }
        await server.query(server.url(), `ALTER SYSTEM SET ssl_cert_file = '${join(dir, 'server.pem')}'`);
        await server.query(server.url(), `ALTER SYSTEM SET ssl_key_file = '${join(dir, 'server.key')}'`);
        await server.query(server.url(), 'ALTER SYSTEM SET ssl = on');
        await server.query(server.url(), 'SELECT pg_reload_conf()');
        await eventually(async () => {
          const { rows } = await server.query(server.url(), 'SHOW ssl');
          expect(rows[0]).toEqual({ ssl: 'on' });
        }, 10_000);
      });
      afterAll(async () => {
        await server.query(server.url(), 'ALTER SYSTEM RESET ALL');
        await server.query(server.url(), 'SELECT pg_reload_conf()');
        rmSync(dir, { recursive: true, force: true });
      });
      const encryptedConnections = async () => {
        const { rows } = await server.query<{ n: string }>(
          server.url(),
          `SELECT count(*) AS n FROM pg_stat_ssl JOIN pg_stat_activity USING (pid)
           WHERE ssl AND usename = 'hbd' AND datname = $1`,
          [new URL(url).pathname.slice(1)],
        );
        return Number(rows[0]!.n);
      };

      it('verifies the server against the CA of tls.ca and talks to it encrypted', async () => {
        const store = await open(url, {}, { tls: { ca: fixture('tls-cert.pem') } });
        await store.sessions.list();
        expect(await encryptedConnections()).toBeGreaterThan(0);
      });

      it('refuses a server whose certificate does not chain to tls.ca, unless told to accept any', async () => {
        await expect(openPg(url, {}, { tls: { ca: fixture('tls-rsa-cert.pem') } })).rejects.toThrow(
          /^postgresql store postgresql:\/\/hbd@127\.0\.0\.1:\d+\/\w+: cannot open: self[- ]signed certificate/,
        );
        const store = await open(
          url,
          {},
          { tls: { ca: fixture('tls-rsa-cert.pem'), reject_unauthorized: false } },
        );
        await store.sessions.list();
        expect(await encryptedConnections()).toBeGreaterThan(0);
      });

      it('says which TLS file it cannot read', async () => {
        await expect(openPg(url, {}, { tls: { ca: join(dir, 'missing.pem') } })).rejects.toThrow(
          `store.tls.ca: cannot read ${join(dir, 'missing.pem')}: ENOENT`,
        );
      });
    });

    describe('fenced on a cluster node', () => {
      const NODE = 'node-a';
      let token: number | undefined;
      const fence: Fence = { node: NODE, token: () => token };
      let store: Store;

      const setLease = (holder: string | null, leaseToken: number, expiresIn: string) =>
        server.query(
          url,
          `UPDATE hbd_lease SET holder = $1, token = $2, expires_at = now() + $3::interval WHERE id = 1`,
          [holder, leaseToken, expiresIn],
        );
      /** Every row of every table the fenced writes touch. */
      const everything = async () => {
        const tables = ['hosts', 'events', 'dns_records', 'notify_triggers', 'outbox', 'notified'];
        const rows: Record<string, unknown[]> = {};
        for (const table of tables) {
          rows[table] = (
            await server.query(url, `SELECT to_jsonb(t) AS row FROM ${table} t ORDER BY to_jsonb(t)::text`)
          ).rows;
        }
        return rows;
      };
      const records: PublishedRecords = {
        host: 'web1',
        name: 'web1.dyn.example',
        A: '192.0.2.7',
        AAAA: null,
        lastSuccess: 1,
        lastError: null,
        lastErrorAt: null,
      };
      const message = (key: string) => ({
        channel: 'webhook',
        notification: {
          dedupKey: key,
          kind: 'down' as const,
          title: key,
          body: key,
          hosts: [],
          at: 1,
          resolves: false,
        },
        createdAt: 1,
        deadlineAt: 2,
      });
      const trigger = {
        eventId: 1,
        at: 1,
        host: 'web1',
        kind: 'down' as const,
        detail: {
          from: 'up',
          to: 'down',
          reason: 'silent',
          status: 'ok',
          msg: null,
          addr: '192.0.2.7',
          group: '',
          previousFor: null,
        },
      };

      beforeEach(async () => {
        token = 7;
        store = await open(url, { fence });
        await setLease(NODE, 7, '1 minute');
      });

      /** Every leader-only write, against a pending message `id`. */
      const fencedWrites = (id: number): [string, () => Promise<unknown>][] => [
        ['transaction', () => store.transaction(async (tx) => tx.sessions.list())],
        ['hosts.write', () => store.hosts.write({ deletes: [], upserts: [hostRecord('web2')], timings: [] })],
        ['hosts.write (delete)', () => store.hosts.write({ deletes: ['web1'], upserts: [], timings: [] })],
        [
          'events.append',
          () =>
            store.events.append([{ at: 2, host: 'web1', kind: 'state', from: null, to: 'up', reason: 'x' }]),
        ],
        ['events.prune', () => store.events.prune({ olderThan: 100, maxEvents: 0 })],
        ['dns.save', () => store.dns.save({ ...records, A: '192.0.2.8' })],
        ['outbox.addTriggers', () => store.outbox.addTriggers([trigger])],
        [
          'outbox.decide',
          () => store.outbox.decide({ consumed: [], messages: [message('other')], notified: [] }),
        ],
        ['outbox.claim', () => store.outbox.claim(id)],
        ['outbox.markSent', () => store.outbox.markSent(id, 3, 'ok')],
        ['outbox.markRetry', () => store.outbox.markRetry(id, 1, 3, 'no')],
        ['outbox.markFailed', () => store.outbox.markFailed(id, 1, 3, 'no')],
        ['outbox.merge', () => store.outbox.merge([id], message('digest'))],
        ['outbox.prune', () => store.outbox.prune(Number.MAX_SAFE_INTEGER)],
      ];

      /** What the leader wrote before it lost the lease; returns a pending message's id. */
      const leaderWrites = async () => {
        await store.hosts.write({ deletes: [], upserts: [hostRecord('web1')], timings: [] });
        await store.events.append([
          { at: 1, host: 'web1', kind: 'state', from: null, to: 'up', reason: 'x' },
        ]);
        await store.dns.save(records);
        await store.outbox.addTriggers([trigger]);
        const [queued] = await store.outbox.decide({ consumed: [], messages: [message('k1')], notified: [] });
        return queued!.id;
      };

      for (const [lost, loseIt] of [
        [
          'while it holds no token',
          async () => {
            token = undefined;
          },
        ],
        [
          'with another token than the lease',
          async () => {
            token = 6;
          },
        ],
        ['once the lease expired', async () => setLease(NODE, 7, '-1 second')],
        ['once another node holds the lease', async () => setLease('node-b', 8, '1 minute')],
      ] as const) {
        it(`refuses every leader-only write ${lost}, and changes nothing`, async () => {
          const id = await leaderWrites();
          await loseIt();
          const before = await everything();
          for (const [name, write] of fencedWrites(id)) {
            const error = await write().then(
              () => new Error(`${name} was not refused`),
              (thrown: unknown) => thrown,
            );
            expect([name, error]).toEqual([name, expect.any(NotLeaderError)]);
          }
          expect(await everything()).toEqual(before);
        });
      }

      it('makes every leader-only write with the token of the lease it holds', async () => {
        const id = await leaderWrites();
        const results: Record<string, unknown> = {};
        for (const [name, write] of fencedWrites(id)) results[name] = await write();
        expect(results['outbox.claim']).toBe(true);
        expect((await store.hosts.load()).map((h) => h.name)).toEqual(['web2']);
        expect((await store.dns.load())[0]?.A).toBe('192.0.2.8');
      });

      it('never holds the lease row for long: a node frozen in a transaction is cut off, and the lease can move', async () => {
        const frozen = await open(url, { fence }, { statement_timeout: 0.5 });
        let thaw: () => void = () => {};
        const ice = new Promise<void>((resolve) => {
          thaw = resolve;
        });
        let started: () => void = () => {};
        const inside = new Promise<void>((resolve) => {
          started = resolve;
        });
        const stuck = frozen.transaction(async (tx) => {
          await tx.hosts.write({ deletes: [], upserts: [hostRecord('web9')], timings: [] });
          started();
          await ice;
        });
        await inside;
        // Another node takes the lease over: it waits for the frozen transaction's hold only so long.
        await setLease('node-b', 8, '1 minute');
        thaw();
        await expect(stuck).rejects.toThrow();
        expect(await frozen.hosts.load()).toEqual([]);
      });

      it('lets any node read, log people in, silence hosts and keep pings, leader or not', async () => {
        token = undefined;
        await setLease('node-b', 8, '1 minute');
        await store.sessions.add({
          key: 'k',
          user: 'alice',
          role: 'admin',
          csrf: 'c',
          credential: 'd',
          created: 1,
          lastSeen: 1,
        });
        await store.sessions.touch('k', 2);
        const silence = await store.silences.add({ pattern: 'web*', until: 10, reason: null, createdAt: 1 });
        await store.silences.remove(silence.id);
        await store.silences.pruneExpired(0);
        await store.pings.add([
          {
            host: 'web1',
            at: 1,
            protocol: 'healthchecks',
            kind: 'success',
            exitCode: null,
            body: null,
            addr: '192.0.2.9',
            runId: null,
          },
        ]);
        expect(await store.sessions.remove(['k'])).toBe(1);
        expect(await store.pings.recent('web1')).toHaveLength(1);
        expect(await store.hosts.load()).toEqual([]);
        expect(await store.outbox.pendingMessages()).toEqual([]);
        expect(await store.events.list({ limit: 1 })).toEqual([]);
      });

      it('counts the events again under a new token: another leader wrote meanwhile', async () => {
        const event = (host: string) => ({
          at: 1,
          host,
          kind: 'state' as const,
          from: null,
          to: 'up',
          reason: 'x',
        });
        const limits = { maxEvents: 3, perHost: 100 };
        const bounded = await open(url, { fence, eventLimits: () => limits });
        await bounded.events.append([event('a'), event('a')]);
        // Another node led with token 8 and wrote two events this store never saw.
        await server.query(
          url,
          `INSERT INTO events (at, host, kind, reason) VALUES (1, 'b', 'state', 'x'), (1, 'b', 'state', 'x')`,
        );
        token = 9;
        await setLease(NODE, 9, '1 minute');
        await bounded.events.append([event('c')]);
        expect((await bounded.events.list({ limit: 10 })).map((e) => e.host)).toEqual(['c', 'b', 'b']);
      });
    });
  });
});
