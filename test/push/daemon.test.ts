import { execFile } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/passwords.js';
import { eventually, getJson, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

// The push endpoints of a real hbd, as the jobs' own curl commands reach them.

const BACKUP = '5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278';
const KUMA = 'kUm4PushT0kenOf32CharactersXyZ01';
const RID = '3b1d9a52-8c1e-4f0a-9d7e-2a6c5b4e3f10';

const PUSH = {
  push: {
    backup: { token: BACKUP, interval: 86_400, grace: 3600 },
    'kuma-job': { token: KUMA, interval: 300 },
  },
};

interface HostBody {
  name: string;
  status: string;
  msg: string | null;
  fields: Record<string, string>;
  run: { started: string; id: string | null; deadline: string } | null;
}

interface PingBody {
  at: string;
  protocol: string;
  kind: string;
  exit_code: number | null;
  body: string | null;
  addr: string;
  rid: string | null;
}

let hbd: TestDaemon | undefined;
afterEach(async () => {
  await hbd?.stop();
  hbd = undefined;
});

/** The real curl binary; resolves with its exit code and output, whatever they are. */
function curl(...args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '-m', '10', ...args], { timeout: 15_000 }, (error, stdout) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout });
    });
  });
}

async function host(name: string): Promise<HostBody> {
  const { status, body } = await getJson<HostBody>(hbd!.url(`/api/hosts/${name}`));
  expect(status).toBe(200);
  return body;
}

async function pings(name: string): Promise<PingBody[]> {
  const { status, body } = await getJson<{ pings: PingBody[] }>(hbd!.url(`/api/hosts/${name}/pings`));
  expect(status).toBe(200);
  return body.pings;
}

describe('Uptime Kuma 2.x push jobs, with curl -f', () => {
  it('pass with ping=abc as they do against Kuma, and keep a ping value as the field "ping"', async () => {
    hbd = await startTestDaemon(PUSH);
    const url = (query: string) => hbd!.url(`/api/push/${KUMA}?${query}`);
    expect(await curl('-f', url('status=up&msg=OK&ping=abc'))).toEqual({ code: 0, stdout: '{"ok":true}' });
    expect(await host('kuma-job')).toMatchObject({ status: 'ok', msg: 'OK', fields: {} });
    expect((await curl('-f', url('status=up&msg=OK&ping=42.5'))).code).toBe(0);
    expect((await host('kuma-job')).fields).toEqual({ ping: '42.5' });
    // No msg is Kuma's "OK"; any status but "up" is down.
    expect((await curl('-f', '-X', 'POST', url('status=down'))).code).toBe(0);
    expect(await host('kuma-job')).toMatchObject({ status: 'fail', msg: 'OK', fields: {} });
    // Out of Kuma's range: its own 404, so curl -f fails as it would against Kuma.
    const refused = await curl('-f', url('status=up&ping=-1'));
    expect(refused.code).toBe(22);
    expect((await host('kuma-job')).status).toBe('fail');
  });
});

describe('a trailing slash, as people write push URLs', () => {
  it('is the same ping on every form, the fast GET and HEAD /ping/{uuid}/ included', async () => {
    hbd = await startTestDaemon(PUSH);
    expect(await curl('-f', hbd.url(`/ping/${BACKUP}/`))).toEqual({ code: 0, stdout: 'OK' });
    expect((await curl('-f', '-I', hbd.url(`/ping/${BACKUP}/`))).stdout).toMatch(/^HTTP\/1\.1 200 OK\r$/m);
    expect((await curl('-f', '--data-raw', 'copied', hbd.url(`/ping/${BACKUP}/1/`))).stdout).toBe('OK');
    expect(await host('backup')).toMatchObject({ status: 'fail', msg: 'exit code 1: copied' });
    expect((await curl('-f', hbd.url(`/api/push/${KUMA}/?status=up&msg=fine`))).stdout).toBe('{"ok":true}');
    const consul = await curl(
      '-f',
      '-X',
      'PUT',
      '-H',
      `X-Consul-Token: ${BACKUP}`,
      hbd.url('/v1/agent/check/pass/backup/?note=back'),
    );
    expect(consul).toEqual({ code: 0, stdout: '' });
    expect(await host('backup')).toMatchObject({ status: 'ok', msg: 'back' });
    expect((await curl('-f', hbd.url(`/ping/${BACKUP}//`))).code).toBe(22);
  });
});

describe('the last pings of a host', () => {
  it('are listed newest first with their bodies, and kept across a restart', async () => {
    hbd = await startTestDaemon(PUSH);
    const base = hbd.url(`/ping/${BACKUP}`);
    await curl('-f', `${base}/start?rid=${RID}`);
    await curl('-f', '--data-raw', 'rsync: connection refused\n', `${base}/23?rid=${RID}`);
    await curl('-f', '--data-raw', 'retrying', `${base}/log`);
    for (let i = 1; i <= 9; i++) await curl('-f', '--data-raw', `attempt ${i}`, base);
    const before = await pings('backup');
    expect(before.map((ping) => ping.body)).toEqual([
      'attempt 9',
      'attempt 8',
      'attempt 7',
      'attempt 6',
      'attempt 5',
      'attempt 4',
      'attempt 3',
      'attempt 2',
      'attempt 1',
      'retrying',
    ]);
    expect(before[0]).toMatchObject({
      protocol: 'healthchecks',
      kind: 'success',
      addr: '127.0.0.1',
      rid: null,
    });
    expect(before.at(-1)).toMatchObject({ kind: 'log', exit_code: null });
    await hbd.restart();
    expect(await pings('backup')).toEqual(before);
    // On the restarted hbd's own port.
    const failed = await curl(
      '-f',
      '--data-raw',
      'rsync: connection refused',
      hbd.url(`/ping/${BACKUP}/23?rid=${RID}`),
    );
    expect(failed).toEqual({ code: 0, stdout: 'OK' });
    expect((await pings('backup'))[0]).toMatchObject({
      kind: 'fail',
      exit_code: 23,
      body: 'rsync: connection refused',
      rid: RID,
    });
    const unknown = await getJson(hbd.url('/api/hosts/nobody/pings'));
    expect(unknown.status).toBe(404);
  });
});

describe('reading the last pings', () => {
  it('needs read access (under read_access: login, a login or token), while pinging needs only the token', async () => {
    const admin = await hashPassword('a password long enough', { log2N: 15, r: 8, p: 1 });
    hbd = await startTestDaemon({
      ...PUSH,
      api_token: 'the-api-token-of-the-push-tests',
      auth_users: { alice: { password: admin, role: 'admin' } },
      read_access: 'login',
    });
    expect(await curl('-f', '--data-raw', 'secret output', hbd.url(`/ping/${BACKUP}`))).toEqual({
      code: 0,
      stdout: 'OK',
    });
    const refused = await fetch(hbd.url('/api/hosts/backup/pings'));
    expect(refused.status).toBe(401);
    expect(await refused.text()).not.toContain('secret output');
    const { status, body } = await getJson<{ pings: PingBody[] }>(hbd.url('/api/hosts/backup/pings'), {
      headers: { authorization: 'Bearer the-api-token-of-the-push-tests' },
    });
    expect(status).toBe(200);
    expect(body.pings.map((ping) => ping.body)).toEqual(['secret output']);
  });
});

describe('an open run', () => {
  it('shows in the host and the host list from /start to its finish', async () => {
    hbd = await startTestDaemon(PUSH);
    const base = hbd.url(`/ping/${BACKUP}`);
    await curl('-f', base);
    const before = Date.now();
    await curl('-f', `${base}/start?rid=${RID}`);
    const { run } = await host('backup');
    expect(run).toMatchObject({ id: RID });
    const started = Date.parse(run!.started);
    expect(started).toBeGreaterThanOrEqual(before - 1000);
    // Down at its start + the host's grace (3600 s) unless it finishes first.
    expect(Date.parse(run!.deadline) - started).toBe(3_600_000);
    const { body: list } = await getJson<HostBody[]>(hbd.url('/api/hosts'));
    expect(list.find((h) => h.name === 'backup')?.run).toEqual(run);
    await curl('-f', `${base}/0?rid=${RID}`);
    expect((await host('backup')).run).toBeNull();
  });
});

describe('hbd_pings_total', () => {
  it('counts pings by protocol and outcome, every pair written from the first scrape', async () => {
    hbd = await startTestDaemon(PUSH);
    const metrics = async () => {
      const response = await fetch(hbd!.url('/metrics'));
      return response.text();
    };
    expect(await metrics()).toMatch(/^hbd_pings_total\{protocol="consul",outcome="bad"\} 0$/m);
    await curl(hbd.url(`/ping/${BACKUP}`));
    await curl(hbd.url(`/ping/${BACKUP}/`));
    await curl(hbd.url(`/ping/${BACKUP}/start`));
    await curl(hbd.url('/ping/0f6e7c4e-53a1-4c2e-9d11-7b1a6e0c9f20'));
    await curl(hbd.url(`/ping/${BACKUP}/256`));
    await curl(hbd.url(`/api/push/${KUMA}?status=down`));
    const text = await eventually(async () => {
      const scraped = await metrics();
      expect(scraped).toMatch(/^hbd_pings_total\{protocol="healthchecks",outcome="ok"\} 2$/m);
      return scraped;
    });
    expect(text).toMatch(/^# TYPE hbd_pings_total counter$/m);
    for (const [protocol, outcome, count] of [
      ['healthchecks', 'start', 1],
      ['healthchecks', 'not_found', 1],
      ['healthchecks', 'bad', 1],
      ['uptime-kuma', 'fail', 1],
      ['uptime-kuma', 'ok', 0],
    ] as const) {
      expect(text).toMatch(
        new RegExp(`^hbd_pings_total\\{protocol="${protocol}",outcome="${outcome}"\\} ${count}$`, 'm'),
      );
    }
    expect(text.match(/^hbd_pings_total\{/gm)).toHaveLength(3 * 7);
  });
});
