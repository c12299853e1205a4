import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/passwords.js';
import { eventually, getJson, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

const BACKUP = '5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278';
const NIGHTLY = '0f6e7c4e-53a1-4c2e-9d11-7b1a6e0c9f20';
const KUMA = 'kUm4PushT0kenOf32CharactersXyZ01';
const PING_KEY = 'fqOOd6-F4MMNuCEnzTU01w';
const UNKNOWN = '9d3f1c2a-0b4e-4f6a-8c7d-1e2f3a4b5c6d';

interface HostBody {
  name: string;
  state: string;
  status: string;
  msg: string | null;
  addr: string;
  interval: number;
  grace: number;
  events?: { kind: string; from: string | null; to: string | null; reason: string }[];
}

const PUSH = {
  push: {
    backup: { token: BACKUP, interval: 86_400, grace: 3600 },
    nightly: { token: NIGHTLY, interval: 86_400, grace: 1 },
    'kuma-job': { token: KUMA, interval: 300 },
  },
  push_ping_key: PING_KEY,
};

let hbd: TestDaemon | undefined;
afterEach(async () => {
  await hbd?.stop();
  hbd = undefined;
});

/** Runs the real curl binary; resolves with its exit code and output, whatever they are. */
function curl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', args, { timeout: 15_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `curl -s` printing the body, then the status code on a line of its own. */
async function curlStatus(...args: string[]): Promise<{ status: number; body: string }> {
  const { stdout } = await curl('-s', '-m', '10', '-w', '\n%{http_code}', ...args);
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
}

async function host(name: string, init?: RequestInit): Promise<HostBody> {
  const { status, body } = await getJson<HostBody>(hbd!.url(`/api/hosts/${name}`), init);
  expect(status).toBe(200);
  return body;
}

describe('Healthchecks.io clients, unchanged but for the host in the URL', () => {
  it('curl -fsS -m 10 --retry 5 …/ping/UUID: OK, and the host is up, seen from the client address', async () => {
    hbd = await startTestDaemon(PUSH);
    const result = await curl('-fsS', '-m', '10', '--retry', '5', hbd.url(`/ping/${BACKUP}`));
    expect(result).toEqual({ code: 0, stdout: 'OK', stderr: '' });
    expect(await host('backup')).toMatchObject({
      state: 'up',
      status: 'ok',
      addr: '127.0.0.1',
      interval: 86_400,
      grace: 3600,
    });
    const { body: hosts } = await getJson<HostBody[]>(hbd.url('/api/hosts'));
    expect(hosts.map((h) => h.name)).toEqual(['backup']);
  });

  it('the fast answer to GET and HEAD /ping/UUID is the same as the full routes give, and counts the same', async () => {
    hbd = await startTestDaemon(PUSH);
    const compare = async (method: string) => {
      // A query sends the same ping through the full routes.
      const [fast, full] = await Promise.all([
        fetch(hbd!.url(`/ping/${BACKUP}`), { method }),
        fetch(hbd!.url(`/ping/${BACKUP}?from=test`), { method }),
      ]);
      const shape = async (response: Response) => ({
        status: response.status,
        body: await response.text(),
        type: response.headers.get('content-type'),
        limit: response.headers.get('ping-body-limit'),
        origin: response.headers.get('access-control-allow-origin'),
      });
      const [fastShape, fullShape] = await Promise.all([shape(fast), shape(full)]);
      expect(fastShape).toEqual(fullShape);
      return fastShape;
    };
    expect(await compare('GET')).toMatchObject({ status: 200, body: 'OK' });
    expect(await compare('HEAD')).toMatchObject({ status: 200, body: '' });
    expect(hbd.daemon.push.stats).toMatchObject({ applied: 4 });
  });

  it('runitor-style: /start then /0 is a success, /start then /1 a failure naming the exit code', async () => {
    hbd = await startTestDaemon(PUSH);
    const base = hbd.url(`/ping/${BACKUP}`);
    // runitor sends a run id of its own with each start and finish.
    const rid = '3b1d9a52-8c1e-4f0a-9d7e-2a6c5b4e3f10';
    expect((await curl('-fsS', '-m', '10', `${base}/start?rid=${rid}`)).stdout).toBe('OK');
    const finished = await curl(
      '-fsS',
      '-m',
      '10',
      '--data-raw',
      'all 3 volumes copied',
      `${base}/0?rid=${rid}`,
    );
    expect(finished.stdout).toBe('OK');
    expect(hbd.daemon.monitor.currentRun('backup')).toBeUndefined();
    expect(await host('backup')).toMatchObject({ state: 'up', status: 'ok', msg: 'all 3 volumes copied' });
    await curl('-fsS', '-m', '10', `${base}/start`);
    expect(
      (await curl('-fsS', '-m', '10', '--data-raw', 'rsync: connection refused', `${base}/1`)).code,
    ).toBe(0);
    const backup = await host('backup');
    expect(backup).toMatchObject({
      state: 'up',
      status: 'fail',
      msg: 'exit code 1: rsync: connection refused',
    });
    expect(backup.events?.[0]).toMatchObject({
      kind: 'status',
      from: 'ok',
      to: 'fail',
      reason: 'reported: exit code 1: rsync: connection refused',
    });
  });

  it('curl --data-raw "log text" …/log records the message and changes nothing else', async () => {
    hbd = await startTestDaemon(PUSH);
    await curl('-fsS', '-m', '10', '--data-raw', 'disk 91% full', hbd.url(`/ping/${BACKUP}/fail`));
    const before = await host('backup');
    const result = await curl('-fsS', '-m', '10', '--data-raw', 'log text', hbd.url(`/ping/${BACKUP}/log`));
    expect(result.stdout).toBe('OK');
    const after = await host('backup');
    expect(after).toMatchObject({ state: 'up', status: 'fail', msg: 'log text' });
    expect((after as unknown as { last_seen: string }).last_seen).toBe(
      (before as unknown as { last_seen: string }).last_seen,
    );
  });

  it('a POST body is the message; a body past the limit is cut, as Healthchecks.io does', async () => {
    hbd = await startTestDaemon(PUSH);
    await curl('-fsS', '-m', '10', '--data-raw', 'nightly dump: 2.1 GB', hbd.url(`/ping/${BACKUP}`));
    expect((await host('backup')).msg).toBe('nightly dump: 2.1 GB');
    const big = join(hbd.dir, 'output.log');
    writeFileSync(big, `${'certbot renew: ok\n'.repeat(20_000)}`);
    const result = await curl(
      '-fsS',
      '-m',
      '10',
      '-D',
      '-',
      '--data-binary',
      `@${big}`,
      hbd.url(`/ping/${BACKUP}`),
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ping-body-limit: 1024\r$/im);
    const msg = (await host('backup')).msg!;
    expect(msg.startsWith('certbot renew: ok\ncertbot renew: ok\n')).toBe(true);
    expect(Buffer.byteLength(msg)).toBeLessThanOrEqual(1024);
  });

  it('HEAD pings too, and so does the bare /UUID form of the hosted service', async () => {
    hbd = await startTestDaemon(PUSH);
    const head = await curl('-fsS', '-m', '10', '-I', hbd.url(`/ping/${BACKUP}`));
    expect(head.code).toBe(0);
    expect(head.stdout).toMatch(/^HTTP\/1\.1 200 OK\r$/m);
    expect((await curl('-fsS', '-m', '10', hbd.url(`/${NIGHTLY}`))).stdout).toBe('OK');
    expect((await curl('-fsS', '-m', '10', hbd.url(`/${NIGHTLY}/fail`))).stdout).toBe('OK');
    expect(await host('backup')).toMatchObject({ state: 'up' });
    expect(await host('nightly')).toMatchObject({ state: 'up', status: 'fail' });
  });

  it('/ping/{ping_key}/{host}: a known host; an unknown one only with ?create=1', async () => {
    hbd = await startTestDaemon(PUSH);
    expect((await curl('-fsS', '-m', '10', hbd.url(`/ping/${PING_KEY}/backup`))).stdout).toBe('OK');
    expect(await curlStatus(hbd.url(`/ping/${PING_KEY}/db-vacuum`))).toEqual({
      status: 404,
      body: 'not found',
    });
    expect(await curlStatus(hbd.url(`/ping/${PING_KEY}/db-vacuum/start?create=1`))).toEqual({
      status: 201,
      body: 'Created',
    });
    expect((await curl('-fsS', '-m', '10', hbd.url(`/${PING_KEY}/db-vacuum/0`))).stdout).toBe('OK');
    // A created host gets the top-level interval and grace.
    expect(await host('db-vacuum')).toMatchObject({ state: 'up', status: 'ok', interval: 60, grace: 30 });
  });

  it('answers 404 "not found" for an unknown UUID (curl -f fails), 400 for a bad exit code', async () => {
    hbd = await startTestDaemon(PUSH);
    expect(await curlStatus(hbd.url(`/ping/${UNKNOWN}`))).toEqual({ status: 404, body: 'not found' });
    expect(await curlStatus(hbd.url(`/${UNKNOWN}`))).toEqual({ status: 404, body: 'not found' });
    const failing = await curl('-fsS', '-m', '10', hbd.url(`/ping/${UNKNOWN}`));
    expect(failing.code).toBe(22);
    expect(await curlStatus(hbd.url(`/ping/${BACKUP}/999`))).toEqual({
      status: 400,
      body: 'invalid url format',
    });
    expect(await curlStatus(hbd.url(`/ping/${BACKUP}/abc`))).toEqual({ status: 404, body: 'not found' });
    const { body: hosts } = await getJson<HostBody[]>(hbd.url('/api/hosts'));
    expect(hosts).toEqual([]);
  });

  it('never repeats a token in an answer, even for a method it does not serve', async () => {
    hbd = await startTestDaemon(PUSH);
    // (Kuma's /api/push/{token} takes any method, as Kuma does.)
    for (const path of [`/ping/${BACKUP}`, `/${BACKUP}`, `/ping/${BACKUP}/start`, `/api/push/${KUMA}/x`]) {
      const answer = await curlStatus('-X', 'PUT', hbd.url(path));
      expect(answer.status).toBe(404);
      expect(answer.body).not.toContain(path.split('/').at(-1));
    }
    expect(await curlStatus('-X', 'PUT', hbd.url('/api/hosts'))).toEqual({
      status: 404,
      body: '{"error":"no such endpoint: PUT /api/hosts"}',
    });
  });

  it('a run that never finishes is down once its grace has passed, and the API says why', async () => {
    hbd = await startTestDaemon(PUSH);
    await curl('-fsS', '-m', '10', hbd.url(`/ping/${NIGHTLY}/start`));
    const nightly = await eventually(async () => {
      const body = await host('nightly');
      expect(body.state).toBe('down');
      return body;
    }, 5000);
    // The start made it up; asked right away on a busy machine, its 1 s grace may already be over.
    expect(nightly.events?.map((event) => event.to)).toEqual(['down', 'up']);
    expect(nightly.events?.[0]).toMatchObject({ kind: 'state', from: 'up', to: 'down' });
    expect(nightly.events?.[0]?.reason).toMatch(
      /^run started at \d{4}-\d\d-\d\dT[\d:.]+Z and did not finish within its grace of 1 s$/,
    );
    const { body: hosts } = await getJson<HostBody[]>(hbd.url('/api/hosts'));
    expect(hosts).toContainEqual(expect.objectContaining({ name: 'nightly', state: 'down' }));
  });

  it('takes the address from the connection, not from X-Forwarded-For', async () => {
    hbd = await startTestDaemon(PUSH);
    await curl('-fsS', '-m', '10', '-H', 'X-Forwarded-For: 203.0.113.9', hbd.url(`/ping/${BACKUP}`));
    expect((await host('backup')).addr).toBe('127.0.0.1');
  });
});

describe('Uptime Kuma push clients', () => {
  it('curl "…/api/push/TOKEN?status=up&msg=OK&ping=": {"ok":true}; status=down fails the host', async () => {
    hbd = await startTestDaemon(PUSH);
    const up = await curl('-fsS', '-m', '10', hbd.url(`/api/push/${KUMA}?status=up&msg=OK&ping=`));
    expect(up).toEqual({ code: 0, stdout: '{"ok":true}', stderr: '' });
    expect(await host('kuma-job')).toMatchObject({ state: 'up', status: 'ok', msg: 'OK', interval: 300 });
    const down = await curl(
      '-fsS',
      '-m',
      '10',
      hbd.url(`/api/push/${KUMA}?status=down&msg=backup%20failed&ping=`),
    );
    expect(down.stdout).toBe('{"ok":true}');
    expect(await host('kuma-job')).toMatchObject({ state: 'up', status: 'fail', msg: 'backup failed' });
  });

  it('an unknown token gets 404 {"ok":false,"msg":…}, without the token', async () => {
    hbd = await startTestDaemon(PUSH);
    const { status, body } = await curlStatus(hbd.url('/api/push/NoSuchPushToken123?status=up&msg=OK&ping='));
    expect(status).toBe(404);
    expect(JSON.parse(body)).toEqual({ ok: false, msg: 'Monitor not found or not active.' });
    expect(body).not.toContain('NoSuchPushToken123');
  });
});

describe('Consul TTL check clients', () => {
  it('curl -X PUT …/v1/agent/check/{pass,warn,fail}/HOST with X-Consul-Token: 200, empty; ?note= is the message', async () => {
    hbd = await startTestDaemon(PUSH);
    const consul = (path: string, ...args: string[]) =>
      curlStatus('-X', 'PUT', '-H', `X-Consul-Token: ${BACKUP}`, ...args, hbd!.url(path));
    expect(await consul('/v1/agent/check/pass/backup')).toEqual({ status: 200, body: '' });
    expect(await host('backup')).toMatchObject({ state: 'up', status: 'ok', interval: 86_400 });
    expect(await consul('/v1/agent/check/warn/backup?note=disk%2091%25%20full')).toEqual({
      status: 200,
      body: '',
    });
    expect(await host('backup')).toMatchObject({ status: 'warn', msg: 'disk 91% full' });
    expect(await consul('/v1/agent/check/fail/backup')).toEqual({ status: 200, body: '' });
    expect(await host('backup')).toMatchObject({ status: 'fail', msg: null });
  });

  it('curl -X PUT --data \'{"Status":…,"Output":…}\' …/v1/agent/check/update/HOST?token=…', async () => {
    hbd = await startTestDaemon(PUSH);
    const url = hbd.url(`/v1/agent/check/update/backup?token=${BACKUP}`);
    const body = JSON.stringify({ Status: 'warning', Output: 'replication lag 40 s\n' });
    expect(await curlStatus('-X', 'PUT', '--data', body, url)).toEqual({ status: 200, body: '' });
    expect(await host('backup')).toMatchObject({ status: 'warn', msg: 'replication lag 40 s' });
    const bad = await curlStatus('-X', 'PUT', '--data', '{"Status":"maintenance"}', url);
    expect(bad).toEqual({ status: 400, body: "Invalid check status: 'maintenance'" });
  });

  it("answers Consul's 403 and 404, never repeating a token, and needs no API login", async () => {
    const admin = await hashPassword('a password long enough', { log2N: 15, r: 8, p: 1 });
    hbd = await startTestDaemon({
      ...PUSH,
      auth_users: { alice: { password: admin, role: 'admin' } },
      read_access: 'login',
    });
    const put = (path: string, token: string) =>
      curlStatus('-X', 'PUT', '-H', `X-Consul-Token: ${token}`, hbd!.url(path));
    expect(await put('/v1/agent/check/pass/backup', UNKNOWN)).toEqual({ status: 403, body: 'ACL not found' });
    expect(await put('/v1/agent/check/pass/backup', NIGHTLY)).toEqual({
      status: 403,
      body: 'Permission denied',
    });
    const unknown = await put(`/v1/agent/check/pass/${UNKNOWN}`, PING_KEY);
    expect(unknown.status).toBe(404);
    expect(unknown.body).not.toContain(UNKNOWN);
    expect(await put('/v1/agent/check/pass/Backup', PING_KEY)).toEqual({ status: 200, body: '' });
    expect(hbd.daemon.push.stats).toMatchObject({ applied: 1, unknown: 3 });
  });
});

describe('push endpoints and access control', () => {
  it('need neither the API token nor a session, where reading the API needs them', async () => {
    const admin = await hashPassword('a password long enough', { log2N: 15, r: 8, p: 1 });
    hbd = await startTestDaemon({
      ...PUSH,
      api_token: 'the-api-token-of-the-push-tests',
      auth_users: { alice: { password: admin, role: 'admin' } },
      read_access: 'login',
    });
    expect((await curl('-fsS', '-m', '10', hbd.url(`/ping/${BACKUP}`))).stdout).toBe('OK');
    expect((await curl('-fsS', '-m', '10', hbd.url(`/api/push/${KUMA}?status=up`))).stdout).toBe(
      '{"ok":true}',
    );
    expect((await fetch(hbd.url('/api/hosts'))).status).toBe(401);
    const bearer = { headers: { authorization: 'Bearer the-api-token-of-the-push-tests' } };
    expect(await host('backup', bearer)).toMatchObject({ state: 'up' });
    expect(await host('kuma-job', bearer)).toMatchObject({ state: 'up' });
  });

  it('a reload brings new tokens at once', async () => {
    hbd = await startTestDaemon(PUSH);
    hbd.daemon.reload({ ...hbd.config, push: { fresh: { token: UNKNOWN } } });
    expect(await curlStatus(hbd.url(`/ping/${BACKUP}`))).toEqual({ status: 404, body: 'not found' });
    expect(await curlStatus(hbd.url(`/ping/${UNKNOWN}`))).toEqual({ status: 200, body: 'OK' });
    expect(await host('fresh')).toMatchObject({ state: 'up' });
  });
});

describe('fetch, as a script in another language would send it', () => {
  it('POSTs a message and reads the plain-text answer', async () => {
    hbd = await startTestDaemon(PUSH);
    const response = await fetch(hbd.url(`/ping/${BACKUP}/2`), { method: 'POST', body: 'pg_dump: error' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await response.text()).toBe('OK');
    expect(await host('backup')).toMatchObject({ status: 'fail', msg: 'exit code 2: pg_dump: error' });
    expect(hbd.daemon.push.stats).toEqual({ applied: 1, created: 0, unknown: 0 });
  });
});
