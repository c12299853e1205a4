import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { stringify } from 'yaml';
import { hashPassword, verifyPassword } from '../../src/auth/passwords.js';
import { parseConfig } from '../../src/config/load.js';
import { HBD, type RunResult, runHbd } from '../helpers/cli.js';
import { eventually, getJson, startTestDaemon, type TestConfig, type TestDaemon } from '../helpers/daemon.js';

const TOKEN = 'the-api-token-of-the-access-tests';
const ADMIN_PASSWORD = 'admin password, long enough';
const VIEWER_PASSWORD = 'viewer password, long enough';
const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
const ca = readFileSync(join(fixtures, 'tls-cert.pem'));

let users: Record<string, { password: string; role: 'admin' | 'viewer' }>;
beforeAll(async () => {
  const [admin, viewer] = await Promise.all([hashPassword(ADMIN_PASSWORD), hashPassword(VIEWER_PASSWORD)]);
  users = { alice: { password: admin, role: 'admin' }, victor: { password: viewer, role: 'viewer' } };
});

let hbd: TestDaemon | undefined;
afterEach(async () => {
  await hbd?.stop();
  hbd = undefined;
});

async function start(overrides: TestConfig = {}): Promise<TestDaemon> {
  hbd = await startTestDaemon({ api_token: TOKEN, auth_users: users, read_access: 'login', ...overrides });
  return hbd;
}

interface Login {
  status: number;
  body: { user?: string; role?: string; csrf?: string; error?: string };
  setCookie: string | null;
  retryAfter: string | null;
  /** The `cookie` request header that sends the session back. */
  cookie: string;
}

async function login(user: string, password: string): Promise<Login> {
  const response = await fetch(hbd!.url('/api/login'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password }),
  });
  const setCookie = response.headers.get('set-cookie');
  return {
    status: response.status,
    body: (await response.json()) as Login['body'],
    setCookie,
    retryAfter: response.headers.get('retry-after'),
    cookie: setCookie?.split(';')[0] ?? '',
  };
}

function call(
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
) {
  return getJson<{ error?: string; [key: string]: unknown }>(hbd!.url(path), {
    method: init.method ?? 'GET',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

const SILENCE = { pattern: 'web*', duration: '1h' };
const READS = ['/api/hosts', '/api/hosts/web1', '/api/events', '/api/silences', '/api/outbox', '/api/notify'];

async function hostKnown(): Promise<void> {
  await hbd!.send('host=web1');
  await eventually(() => expect(hbd!.daemon.hosts.has('web1')).toBe(true));
}

describe('reading', () => {
  it('says in /api/session when there is nobody to log in as, so the dashboard offers no login', async () => {
    await start({ auth_users: {}, read_access: 'public' });
    expect((await call('/api/session')).body).toMatchObject({
      user: null,
      read_access: 'public',
      logins: false,
    });
  });

  it('is public by default: no login needed, and /api/session says so', async () => {
    await start({ read_access: 'public' });
    await hostKnown();
    for (const path of [...READS, '/metrics'])
      expect({ path, status: (await fetch(hbd!.url(path))).status }).toEqual({ path, status: 200 });
    expect(await call('/api/session')).toEqual({
      status: 200,
      body: { user: null, role: null, csrf: null, read_access: 'public', logins: true },
    });
  });

  it('under read_access: login needs a session or the bearer token; health and login stay open', async () => {
    await start();
    await hostKnown();
    const viewer = await login('victor', VIEWER_PASSWORD);
    expect(viewer.status).toBe(200);
    for (const path of [...READS, '/metrics']) {
      const anonymous = await call(path);
      expect({ path, status: anonymous.status }).toEqual({ path, status: 401 });
      const withSession = await fetch(hbd!.url(path), { headers: { cookie: viewer.cookie } });
      expect({ path, status: withSession.status }).toEqual({ path, status: 200 });
      const withToken = await fetch(hbd!.url(path), { headers: { authorization: `Bearer ${TOKEN}` } });
      expect({ path, status: withToken.status }).toEqual({ path, status: 200 });
    }
    expect((await call('/api/hosts')).body.error).toMatch(/login/);
    expect((await call('/api/hosts', { headers: { authorization: 'Bearer not-the-token' } })).status).toBe(
      401,
    );
    expect((await call('/api/hosts', { headers: { cookie: 'hbd_session=made-up' } })).status).toBe(401);
    expect((await call('/healthz')).status).toBe(200);
    expect(await call('/api/session')).toEqual({
      status: 200,
      body: { user: null, role: null, csrf: null, read_access: 'login', logins: true },
    });
    expect(await call('/api/session', { headers: { cookie: viewer.cookie } })).toEqual({
      status: 200,
      body: { user: 'victor', role: 'viewer', csrf: viewer.body.csrf, read_access: 'login', logins: true },
    });
  });
});

describe('the read token', () => {
  const READ_TOKEN = 'the-read-token-of-the-access-tests';
  const reader = { authorization: `Bearer ${READ_TOKEN}` };

  it('reads the API and /metrics under read_access: login, and writes nothing', async () => {
    await start({ read_token: READ_TOKEN });
    await hostKnown();
    for (const path of [...READS, '/metrics']) {
      const response = await fetch(hbd!.url(path), { headers: reader });
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
    }
    const refused = 'the read token cannot write: this call needs api_token or an admin login';
    expect(await call('/api/silences', { method: 'POST', headers: reader, body: SILENCE })).toEqual({
      status: 403,
      body: { error: refused },
    });
    expect(await call('/api/hosts/web1', { method: 'DELETE', headers: reader })).toEqual({
      status: 403,
      body: { error: refused },
    });
    expect((await call('/api/dns/sync', { method: 'POST', headers: reader })).status).toBe(403);
    expect(hbd!.daemon.silences.list()).toEqual([]);
    expect(hbd!.daemon.hosts.has('web1')).toBe(true);
    // The api_token still does both.
    const written = await call('/api/silences', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: SILENCE,
    });
    expect(written.status).toBe(201);
  });

  it('is what `hbd hosts` reads with when the config has no api_token; `hbd silence` still needs one', async () => {
    await start({ api_token: null, read_token: READ_TOKEN });
    await hostKnown();
    const { port } = hbd!.daemon.http;
    const file = join(hbd!.dir, 'cli.yaml');
    writeFileSync(
      file,
      stringify({
        hbd_host: '127.0.0.1',
        hbd_port: port,
        read_access: 'login',
        auth_users: users,
        read_token: READ_TOKEN,
      }),
    );
    const hosts = await runHbd(['hosts', '-c', file, '--json']);
    expect(hosts.code).toBe(0);
    expect(JSON.parse(hosts.stdout)).toEqual([expect.objectContaining({ name: 'web1' })]);
    const silence = await runHbd(['silence', 'web1', '1h', '-c', file]);
    expect(silence.code).toBe(2);
    expect(silence.stderr).toMatch(/needs the API token/);
  });

  it('is refused once a reload removes it', async () => {
    await start({ read_token: READ_TOKEN });
    expect((await call('/api/hosts', { headers: reader })).status).toBe(200);
    hbd!.daemon.reload({ ...hbd!.config, read_token: null });
    expect(await call('/api/hosts', { headers: reader })).toEqual({
      status: 401,
      body: { error: 'wrong token' },
    });
  });
});

describe('writing', () => {
  it('a viewer cannot write', async () => {
    await start();
    await hostKnown();
    const { cookie, body } = await login('victor', VIEWER_PASSWORD);
    const headers = { cookie, 'x-csrf-token': body.csrf! };
    const silence = await call('/api/silences', { method: 'POST', headers, body: SILENCE });
    expect(silence).toEqual({ status: 403, body: { error: 'this call needs an admin' } });
    expect((await call('/api/hosts/web1', { method: 'DELETE', headers })).status).toBe(403);
    expect((await call('/api/dns/sync', { method: 'POST', headers })).status).toBe(403);
    expect(hbd!.daemon.silences.list()).toEqual([]);
    expect(hbd!.daemon.hosts.has('web1')).toBe(true);
  });

  it("an admin session writes only with the session's X-CSRF-Token", async () => {
    await start();
    await hostKnown();
    const { cookie, body } = await login('alice', ADMIN_PASSWORD);
    expect(body).toEqual({ user: 'alice', role: 'admin', csrf: expect.stringMatching(/^[\w-]{43}$/) });
    const without = await call('/api/silences', { method: 'POST', headers: { cookie }, body: SILENCE });
    expect(without.status).toBe(403);
    expect(without.body.error).toMatch(/X-CSRF-Token/);
    const other = await login('alice', ADMIN_PASSWORD);
    const wrong = await call('/api/silences', {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': other.body.csrf! },
      body: SILENCE,
    });
    expect(wrong.status).toBe(403);
    expect(hbd!.daemon.silences.list()).toEqual([]);

    const headers = { cookie, 'x-csrf-token': body.csrf! };
    expect((await call('/api/silences', { method: 'POST', headers, body: SILENCE })).status).toBe(201);
    expect((await call('/api/hosts/web1', { method: 'DELETE', headers })).status).toBe(200);
    expect(hbd!.daemon.hosts.has('web1')).toBe(false);
  });

  it('an admin session writes without any api_token configured; the bearer token still works', async () => {
    await start({ api_token: null, read_access: 'public' });
    const anonymous = await call('/api/silences', { method: 'POST', body: SILENCE });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toMatch(/admin login/);
    const { cookie, body } = await login('alice', ADMIN_PASSWORD);
    const headers = { cookie, 'x-csrf-token': body.csrf! };
    expect((await call('/api/silences', { method: 'POST', headers, body: SILENCE })).status).toBe(201);
    await hbd!.stop();

    await start({ read_access: 'public' });
    const bearer = await call('/api/silences', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: SILENCE,
    });
    expect(bearer.status).toBe(201);
  });

  it('a stolen push token reaches neither reads nor writes', async () => {
    const pushToken = 'push-token-of-web1-0123456789';
    await start({ push: { web1: { token: pushToken } } });
    // The token is live, and its endpoints need nothing else, even under read_access: login.
    expect((await fetch(hbd!.url(`/api/push/${pushToken}?status=up`))).status).toBe(200);
    expect((await fetch(hbd!.url(`/ping/${pushToken}`))).status).toBe(200);
    const attempts: { headers: Record<string, string> }[] = [
      { headers: { authorization: `Bearer ${pushToken}` } },
      { headers: { cookie: `hbd_session=${pushToken}` } },
      { headers: { cookie: `hbd_session=${pushToken}`, 'x-csrf-token': pushToken } },
    ];
    for (const { headers } of attempts) {
      for (const path of ['/api/hosts', `/api/hosts?token=${pushToken}`, '/metrics']) {
        expect({ path, headers, status: (await call(path, { headers })).status }).toEqual({
          path,
          headers,
          status: 401,
        });
      }
      const write = await call('/api/silences', { method: 'POST', headers, body: SILENCE });
      expect({ headers, status: write.status }).toEqual({ headers, status: 401 });
      expect((await call('/api/hosts/web1', { method: 'DELETE', headers })).status).toBe(401);
    }
    expect(hbd!.daemon.silences.list()).toEqual([]);
  });
});

describe('logging in', () => {
  it('keeps a session across a restart: the session is in the store, its id only in the cookie', async () => {
    await start();
    await hostKnown();
    const session = await login('victor', VIEWER_PASSWORD);
    expect(session.status).toBe(200);
    await hbd!.restart();
    expect((await call('/api/hosts/web1', { headers: { cookie: session.cookie } })).status).toBe(200);
    expect((await call('/api/session', { headers: { cookie: session.cookie } })).body).toMatchObject({
      user: 'victor',
      role: 'viewer',
    });
    // Logging out ends it in the store, so a restart does not bring it back.
    const logout = await call('/api/logout', {
      method: 'POST',
      headers: { cookie: session.cookie, 'x-csrf-token': String(session.body.csrf) },
    });
    expect(logout.status).toBe(200);
    await hbd!.restart();
    expect((await call('/api/hosts/web1', { headers: { cookie: session.cookie } })).status).toBe(401);
  });

  it('refuses a wrong password and an unknown user alike, then locks out, even the right password', async () => {
    await start();
    const unknown = await login('mallory', ADMIN_PASSWORD);
    const wrong = await login('alice', 'not the password at all');
    expect(unknown).toMatchObject({
      status: 401,
      body: { error: 'wrong user name or password' },
      setCookie: null,
    });
    expect(wrong).toMatchObject({
      status: 401,
      body: { error: 'wrong user name or password' },
      setCookie: null,
    });
    for (let i = 0; i < 3; i++) expect((await login('alice', `guess ${i} of many`)).status).toBe(401);
    const locked = await login('alice', ADMIN_PASSWORD);
    expect(locked).toMatchObject({ status: 429, setCookie: null, retryAfter: '1' });
    expect(locked.body.error).toMatch(/too many failed logins/);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await login('alice', ADMIN_PASSWORD)).status).toBe(200);
  });

  it('checks one login at a time per address: a batch sent at once is not a batch of guesses', async () => {
    await start();
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => login('alice', `wrong password number ${i}`)),
    );
    const checked = answers.filter((answer) => answer.status === 401);
    const refused = answers.filter((answer) => answer.status === 429);
    expect(checked.length + refused.length).toBe(8);
    // Never more wrong passwords checked than the lockout allows one after another.
    expect(checked.length).toBeLessThanOrEqual(5);
    expect(refused[0]?.retryAfter).toMatch(/^\d+$/);
  });

  it('answers 400 for a malformed body, 415 for another content type, 409 without auth_users', async () => {
    await start();
    for (const body of [
      '{"user": ',
      '[]',
      '{"user": "alice"}',
      '{"user": "alice", "password": 5}',
      '{"user": "alice", "password": "x", "otp": 1}',
    ]) {
      const response = await getJson<{ error: string }>(hbd!.url('/api/login'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect({ body, status: response.status }).toEqual({ body, status: 400 });
    }
    const form = await fetch(hbd!.url('/api/login'), {
      method: 'POST',
      body: new URLSearchParams({ user: 'alice', password: ADMIN_PASSWORD }),
    });
    expect(form.status).toBe(415);
    await hbd!.stop();

    hbd = await startTestDaemon();
    expect(await login('alice', ADMIN_PASSWORD)).toMatchObject({ status: 409, setCookie: null });
  });

  it('sets an HttpOnly, SameSite=Strict cookie for the whole site; logout ends the session', async () => {
    await start();
    const { setCookie, cookie, body } = await login('Alice', ADMIN_PASSWORD);
    expect(body.user).toBe('alice');
    const flags = setCookie!.split(/;\s*/);
    expect(flags[0]).toMatch(/^hbd_session=[\w-]{43}$/);
    expect(flags).toEqual(
      expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/', 'Max-Age=604800']),
    );
    expect(flags).not.toContain('Secure');
    expect((await call('/api/hosts', { headers: { cookie } })).status).toBe(200);

    const logout = await fetch(hbd!.url('/api/logout'), { method: 'POST', headers: { cookie } });
    expect(logout.status).toBe(200);
    expect(await logout.json()).toEqual({ ok: true });
    expect(logout.headers.get('set-cookie')).toMatch(
      /^hbd_session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Strict$/,
    );
    expect((await call('/api/hosts', { headers: { cookie } })).status).toBe(401);
    expect((await call('/api/session', { headers: { cookie } })).body.user).toBeNull();
  });

  it('marks the cookie Secure when hbd serves HTTPS', async () => {
    await start({ tls_cert: join(fixtures, 'tls-cert.pem'), tls_key: join(fixtures, 'tls-key.pem') });
    const setCookie = await new Promise<string[]>((resolve, reject) => {
      const request = https.request(
        hbd!.url('/api/login'),
        { method: 'POST', ca, headers: { 'content-type': 'application/json' } },
        (response) => {
          response.resume();
          expect(response.statusCode).toBe(200);
          resolve(response.headers['set-cookie'] ?? []);
        },
      );
      request.on('error', reject);
      request.end(JSON.stringify({ user: 'alice', password: ADMIN_PASSWORD }));
    });
    expect(setCookie).toHaveLength(1);
    expect(setCookie[0]!.split(/;\s*/)).toEqual(
      expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/', 'Secure']),
    );
  });

  it('a config reload that removes a user, or changes their role, ends their sessions', async () => {
    await start();
    const alice = await login('alice', ADMIN_PASSWORD);
    const victor = await login('victor', VIEWER_PASSWORD);
    hbd!.daemon.reload({ ...hbd!.config, auth_users: { victor: users.victor! } });
    expect((await call('/api/hosts', { headers: { cookie: alice.cookie } })).status).toBe(401);
    expect((await call('/api/hosts', { headers: { cookie: victor.cookie } })).status).toBe(200);
    expect((await login('alice', ADMIN_PASSWORD)).status).toBe(401);

    hbd!.daemon.reload({ ...hbd!.config, auth_users: { victor: { ...users.victor!, role: 'admin' } } });
    expect((await call('/api/hosts', { headers: { cookie: victor.cookie } })).status).toBe(401);
    const promoted = await login('victor', VIEWER_PASSWORD);
    expect(promoted.body.role).toBe('admin');
  });
});

describe('the live feed', () => {
  /** The HTTP status that refused the upgrade, or 'open' with the first frame's type. */
  function connect(headers: Record<string, string> = {}, origin?: string): Promise<number | string> {
    const ws = new WebSocket(hbd!.url('/ws').replace('http', 'ws'), { headers, origin });
    return new Promise((resolve, reject) => {
      ws.once('unexpected-response', (_request, response) => {
        resolve(response.statusCode ?? 0);
        ws.terminate();
      });
      ws.once('message', (data) => {
        resolve(`open: ${(JSON.parse(String(data)) as { type: string }).type}`);
        ws.close();
      });
      ws.once('error', reject);
    });
  }

  it('under read_access: login needs a session or the bearer token', async () => {
    await start();
    const { cookie } = await login('victor', VIEWER_PASSWORD);
    expect(await connect()).toBe(401);
    expect(await connect({ cookie: 'hbd_session=made-up' })).toBe(401);
    expect(await connect({ cookie })).toBe('open: snapshot');
    expect(await connect({ authorization: `Bearer ${TOKEN}` })).toBe('open: snapshot');
    await hbd!.stop();
    await start({ read_token: 'the-read-token-of-the-feed-test' });
    expect(await connect({ authorization: 'Bearer the-read-token-of-the-feed-test' })).toBe('open: snapshot');
    expect(await connect({ authorization: 'Bearer not-a-token-at-all' })).toBe(401);
  });

  it('refuses a page from another site, in either mode', async () => {
    await start({ read_access: 'public' });
    const self = hbd!.daemon.http.url;
    expect(await connect({}, 'https://evil.example')).toBe(403);
    expect(await connect({}, 'null')).toBe(403);
    expect(await connect({}, self)).toBe('open: snapshot');
    expect(await connect()).toBe('open: snapshot');
    await hbd!.stop();

    await start();
    const { cookie } = await login('victor', VIEWER_PASSWORD);
    expect(await connect({ cookie }, 'https://evil.example')).toBe(403);
    expect(await connect({ cookie }, hbd!.daemon.http.url)).toBe('open: snapshot');
  });

  it('closes a feed whose session ends, within a few seconds', async () => {
    await start();
    const { cookie, body } = await login('victor', VIEWER_PASSWORD);
    const ws = new WebSocket(hbd!.url('/ws').replace('http', 'ws'), { headers: { cookie } });
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
    );
    await new Promise((resolve) => ws.once('message', resolve));
    const logout = await call('/api/logout', {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': body.csrf ?? '' },
    });
    expect(logout.status).toBe(200);
    const { code, reason } = await closed;
    expect(code).toBe(1008);
    expect(reason).toMatch(/session has ended/);
  });
});

describe('hbd passwd', () => {
  function passwd(args: string[], input: string): Promise<RunResult> {
    return new Promise((resolve) => {
      const child = execFile(
        process.execPath,
        [HBD, 'passwd', ...args],
        { timeout: 15_000 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
      // hbd passwd may refuse before reading its input; its exit code says so, not a broken pipe.
      child.stdin!.on('error', () => {});
      child.stdin!.end(input);
    });
  }

  it('prints a line to paste under auth_users: it parses, verifies, and logs in', async () => {
    const password = 'a password for scripts';
    const result = await passwd(['ci-bot', '--role', 'admin', '--stdin'], `${password}\n`);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^ {2}ci-bot: \{password: "scrypt\$15\$8\$1\$[^"]+", role: admin\}\n$/);
    const { config } = parseConfig(`read_access: login\nauth_users:\n${result.stdout}`, {
      sourceName: 'hb.yaml',
      baseDir: '/',
      env: {},
      home: '/',
    });
    const entry = config.auth_users['ci-bot']!;
    expect(entry.role).toBe('admin');
    expect(await verifyPassword(password, entry.password)).toBe(true);
    expect(await verifyPassword(`${password}!`, entry.password)).toBe(false);

    hbd = await startTestDaemon({ read_access: 'login', auth_users: config.auth_users });
    expect((await login('ci-bot', password)).body.role).toBe('admin');
  });

  it('refuses a short password, a bad name or role, and a missing terminal, with exit code 2', async () => {
    const [short, name, role, noTerminal] = await Promise.all([
      passwd(['bob', '--stdin'], 'short\n'),
      passwd(['Bob', '--stdin'], 'long enough password\n'),
      passwd(['bob', '--role', 'root', '--stdin'], 'long enough password\n'),
      passwd(['bob'], ''),
    ]);
    expect(short).toEqual({ code: 2, stdout: '', stderr: expect.stringMatching(/at least 10 characters/) });
    expect(name).toEqual({ code: 2, stdout: '', stderr: expect.stringMatching(/user name "Bob": expected/) });
    expect(role).toEqual({
      code: 2,
      stdout: '',
      stderr: expect.stringMatching(/--role: expected viewer or admin/),
    });
    expect(noTerminal).toEqual({ code: 2, stdout: '', stderr: expect.stringMatching(/--stdin/) });
  });
});
