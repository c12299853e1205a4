import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  chownSync,
  constants,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';
import { freePort } from './server-process.js';

/**
 * A real PostgreSQL server for tests, on 127.0.0.1 and a free port, in a temp dir of its own:
 *
 *     const server = await startPostgres();          // beforeAll
 *     const url = await server.createDatabase();     // a fresh, empty database per test
 *     …
 *     await server.destroy();                        // afterAll
 *
 * `stop()` and `start()` take the same server down and up again with its data, for outages.
 * Every server still running when the test process exits is stopped and its dir removed.
 * Wrap the tests in `describe.skipIf(postgresMissing())`: outside CI they are skipped, with the
 * reason, where PostgreSQL is not installed; under CI=true that is a failure.
 */
export interface PgServer {
  readonly port: number;
  /** The superuser's URL (user `postgres`, with its password) for `database`. */
  url(database?: string): string;
  /**
   * Creates an empty database owned by the password user `hbd` (not a superuser) and returns
   * its URL: `postgresql://hbd:<password>@127.0.0.1:<port>/<name>`.
   */
  createDatabase(): Promise<string>;
  /** Drops the database of a URL from createDatabase, ending whatever is still connected to it. */
  dropDatabase(url: string): Promise<void>;
  /** Runs SQL (several statements when without `values`) as the superuser, in the database `url` names. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    url: string,
    sql: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
  /** Stops the server (pg_ctl stop -m fast) and keeps its data. */
  stop(): Promise<void>;
  /** Starts the stopped server again, with the same data, on the same port. */
  start(): Promise<void>;
  /** Stops the server and deletes its data. */
  destroy(): Promise<void>;
}

/** The password user every database from createDatabase belongs to. */
export const PG_TEST_USER = 'hbd';

const START_TIMEOUT_S = 30;
const PORT_ATTEMPTS = 3;

/**
 * Why PostgreSQL tests cannot run here, or undefined when they can. Under CI=true a missing
 * server is a failure (this throws), never a skip.
 */
export function postgresMissing(): string | undefined {
  if (findBinDir()) return undefined;
  const reason =
    'PostgreSQL server binaries (initdb, pg_ctl) were not found in /usr/lib/postgresql/*/bin or on PATH: ' +
    'run scripts/install-test-deps.sh (or apt-get install postgresql)';
  if (process.env.CI === 'true') throw new Error(reason);
  return reason;
}

function findBinDir(): string | undefined {
  const debian = '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = readdirSync(debian).sort((a, b) => Number(b) - Number(a));
  } catch {}
  const dirs = [
    ...versions.map((version) => join(debian, version, 'bin')),
    ...(process.env.PATH ?? '').split(delimiter).filter(Boolean),
  ];
  return dirs.find((dir) => {
    try {
      accessSync(join(dir, 'initdb'), constants.X_OK);
      accessSync(join(dir, 'pg_ctl'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

// PostgreSQL refuses to run as root: as root, every server program runs as the `postgres` user.
const asRoot = userInfo().uid === 0;

function serverUser(): { uid: number; gid: number } | undefined {
  if (!asRoot) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error(
      'running as root, PostgreSQL needs the "postgres" user: apt-get install postgresql creates it',
    );
  }
  return { uid: Number(uid), gid: Number(gid) };
}

function commandFor(program: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', program, ...args]] : [program, args];
}

function run(program: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const [file, argv] = commandFor(program, args);
  return new Promise((resolve, reject) => {
    execFile(file, argv, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error)
        reject(new Error(`${program} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

// Servers that must not outlive the test process, should a test never get to destroy().
const live = new Map<string, string>();
let reaperInstalled = false;

function installReaper(): void {
  if (reaperInstalled) return;
  reaperInstalled = true;
  const stopAll = () => {
    for (const [dir, pgCtl] of live) {
      try {
        const [file, argv] = commandFor(pgCtl, ['stop', '-D', join(dir, 'data'), '-m', 'immediate', '-w']);
        execFileSync(file, argv, { stdio: 'ignore', timeout: 10_000 });
      } catch {}
      rmSync(dir, { recursive: true, force: true });
    }
    live.clear();
  };
  process.on('exit', stopAll);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(signal, () => {
      stopAll();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/** Creates a fresh cluster (initdb) and starts it. */
export async function startPostgres(): Promise<PgServer> {
  const reason = postgresMissing();
  if (reason) throw new Error(reason);
  const bin = findBinDir()!;
  const owner = serverUser();
  installReaper();
  const dir = mkdtempSync(join(tmpdir(), 'hbd-pg-'));
  const pgCtl = join(bin, 'pg_ctl');
  live.set(dir, pgCtl);
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const superPassword = randomBytes(12).toString('hex');
  // Characters that must be escaped in a URL: what an operator's real password may hold.
  const userPassword = `pw/${randomBytes(9).toString('hex')}:@`;
  try {
    if (owner) chownSync(dir, owner.uid, owner.gid);
    const pwfile = join(dir, 'pwfile');
    writeFileSync(pwfile, `${superPassword}\n`, { mode: 0o600 });
    if (owner) chownSync(pwfile, owner.uid, owner.gid);
    await run(join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      'postgres',
      `--pwfile=${pwfile}`,
      '--auth=scram-sha-256',
      '--no-sync',
      '--encoding=UTF8',
      '--locale=C',
    ]);
    rmSync(pwfile);
    // Fast and small: a test server keeps nothing worth an fsync.
    writeFileSync(
      join(data, 'postgresql.conf'),
      [
        '',
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${dir}'`,
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        'shared_buffers = 16MB',
        'max_connections = 200',
        "log_min_messages = 'warning'",
        '',
      ].join('\n'),
      { flag: 'a' },
    );
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await pgCtlStart(pgCtl, data, log, port);
        break;
      } catch (error) {
        const couldNotBind = /could not bind|address already in use/i.test(readLog(log));
        if (!couldNotBind || attempt >= PORT_ATTEMPTS) throw error;
      }
    }
    const server = new TestPostgres(dir, pgCtl, port, superPassword, userPassword);
    await server.query(
      server.url(),
      `CREATE ROLE ${PG_TEST_USER} LOGIN PASSWORD '${userPassword.replaceAll("'", "''")}'`,
    );
    return server;
  } catch (error) {
    try {
      await run(pgCtl, ['stop', '-D', data, '-m', 'immediate', '-w']);
    } catch {}
    rmSync(dir, { recursive: true, force: true });
    live.delete(dir);
    throw new Error(`${(error as Error).message}\nserver log:\n${readLog(log)}`);
  }
}

function readLog(log: string): string {
  try {
    return readFileSync(log, 'utf8');
  } catch {
    return '';
  }
}

function pgCtlStart(pgCtl: string, data: string, log: string, port: number): Promise<string> {
  return run(pgCtl, [
    'start',
    '-D',
    data,
    '-l',
    log,
    '-w',
    '-t',
    String(START_TIMEOUT_S),
    '-o',
    `-p ${port}`,
  ]);
}

class TestPostgres implements PgServer {
  #databases = 0;
  #running = true;
  readonly #dir: string;
  readonly #pgCtl: string;
  readonly #superPassword: string;
  readonly #userPassword: string;
  readonly port: number;

  constructor(dir: string, pgCtl: string, port: number, superPassword: string, userPassword: string) {
    this.port = port;
    this.#dir = dir;
    this.#pgCtl = pgCtl;
    this.#superPassword = superPassword;
    this.#userPassword = userPassword;
  }

  url(database = 'postgres'): string {
    return `postgresql://postgres:${this.#superPassword}@127.0.0.1:${this.port}/${database}`;
  }

  async createDatabase(): Promise<string> {
    const name = `hbd_${process.pid}_${++this.#databases}`;
    await this.query(this.url(), `CREATE DATABASE ${name} OWNER ${PG_TEST_USER}`);
    const password = encodeURIComponent(this.#userPassword);
    return `postgresql://${PG_TEST_USER}:${password}@127.0.0.1:${this.port}/${name}`;
  }

  async dropDatabase(url: string): Promise<void> {
    const name = new URL(url).pathname.slice(1);
    await this.query(this.url(), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    url: string,
    sql: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    // Always as the superuser, whoever the URL names.
    const database = new URL(url).pathname.slice(1) || 'postgres';
    const client = new pg.Client({ connectionString: this.url(database), connectionTimeoutMillis: 10_000 });
    await client.connect();
    try {
      return await client.query<R>(sql, values);
    } finally {
      await client.end();
    }
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    await run(this.#pgCtl, ['stop', '-D', join(this.#dir, 'data'), '-m', 'fast', '-w']);
    this.#running = false;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    await pgCtlStart(this.#pgCtl, join(this.#dir, 'data'), join(this.#dir, 'server.log'), this.port);
    this.#running = true;
  }

  async destroy(): Promise<void> {
    if (!live.has(this.#dir)) return;
    try {
      await run(this.#pgCtl, ['stop', '-D', join(this.#dir, 'data'), '-m', 'immediate', '-w']);
    } catch {}
    this.#running = false;
    rmSync(this.#dir, { recursive: true, force: true });
    live.delete(this.#dir);
  }
}
