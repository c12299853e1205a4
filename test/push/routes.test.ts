import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { pushOptionsOf } from '../../src/daemon/push-settings.js';
import { pushRoutes } from '../../src/http/push-routes.js';
import { PING_BODY_LIMIT_BYTES } from '../../src/push/body.js';
import { PushPings } from '../../src/push/ping.js';
import { RecentPings } from '../../src/push/recent-pings.js';
import { HostView } from '../../src/state/host-view.js';
import { PINGS_KEPT } from '../../src/store/ping-store.js';
import type { Store } from '../../src/store/store.js';
import { monitorHarness } from '../helpers/monitor-harness.js';
import { sqliteStore } from '../store/helpers.js';

const UUID = '5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278';
const KUMA = 'Ab3dE6gH9kLm';
const PING_KEY = 'fqOOd6-F4MMNuCEnzTU01w';

let store: Store | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

const T = Date.UTC(2026, 10, 25, 2, 0, 4);

/** The push routes mounted first, as app.ts does, before routes and a 404 of another kind. */
function setup() {
  const { table, monitor } = monitorHarness();
  store = sqliteStore();
  const recent = new RecentPings({ store: store.pings, onError: (error) => expect.fail(String(error)) });
  let now = T;
  const pings = new PushPings({
    hosts: new HostView(table, monitor),
    monitor,
    options: pushOptionsOf({
      push: { backup: { token: UUID }, nightly: { token: KUMA } },
      push_ping_key: PING_KEY,
      auth: 'optional',
      keys: {},
    }),
    recent,
    // A second between pings, so that each has its own time.
    now: () => (now += 1000),
  });
  const app = new Hono();
  app.route('/', pushRoutes(pings));
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.get('/api/hosts', (c) => c.json([]));
  app.get('/assets/:name', (c) => c.text(`asset ${c.req.param('name')}`));
  app.notFound((c) => c.json({ error: 'no such endpoint' }, 404));
  const send = async (path: string, init?: RequestInit) => {
    const response = await app.request(path, init);
    return { status: response.status, headers: response.headers, text: await response.text() };
  };
  const host = (name: string) => {
    const slot = table.find(name);
    return slot < 0 ? undefined : table.record(slot);
  };
  const counts = (protocol: string) => pings.counts.get(protocol);
  return { app, send, host, pings, monitor, table, recent, counts };
}

describe('Healthchecks.io-style pings', () => {
  it('answer 200 "OK" as text, with the body limit, for GET, POST and HEAD, with and without /ping', async () => {
    const { send, host } = setup();
    for (const path of [`/ping/${UUID}`, `/${UUID}`]) {
      for (const method of ['GET', 'POST', 'HEAD']) {
        const response = await send(path, { method });
        expect(response.status).toBe(200);
        expect(response.text).toBe(method === 'HEAD' ? '' : 'OK');
        expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
        expect(response.headers.get('ping-body-limit')).toBe(String(PING_BODY_LIMIT_BYTES));
      }
    }
    expect(host('backup')).toMatchObject({ state: 'up', status: 'ok' });
  });

  it('take the suffixes /start, /fail, /log and /{exit-code}', async () => {
    const { send, host, monitor } = setup();
    expect((await send(`/ping/${UUID}/start`)).text).toBe('OK');
    expect(monitor.currentRun('backup')).toBeDefined();
    expect((await send(`/${UUID}/0`)).status).toBe(200);
    expect(monitor.currentRun('backup')).toBeUndefined();
    await send(`/ping/${UUID}/log`, { method: 'POST', body: 'step 2' });
    expect(host('backup')).toMatchObject({ status: 'ok', msg: 'step 2' });
    await send(`/ping/${UUID}/fail`);
    expect(host('backup')?.status).toBe('fail');
    await send(`/ping/${UUID}/7`, { method: 'POST', body: 'tar: short read\n' });
    expect(host('backup')).toMatchObject({ status: 'fail', msg: 'exit code 7: tar: short read' });
  });

  it('make a POST body the message, cut at the limit', async () => {
    const { send, host } = setup();
    await send(`/ping/${UUID}`, { method: 'POST', body: 'x'.repeat(100_000) });
    expect(host('backup')?.msg).toBe('x'.repeat(PING_BODY_LIMIT_BYTES));
  });

  it('answer 404 "not found" for an unknown token, and never echo it', async () => {
    const { send, pings } = setup();
    const unknown = '0f6e7c4e-53a1-4c2e-9d11-7b1a6e0c9f20';
    for (const path of [
      `/ping/${unknown}`,
      `/${unknown}`,
      `/${unknown}/fail`,
      '/ping/short',
      `/ping/${UUID}/a/b`,
    ]) {
      const response = await send(path);
      expect([path, response.status, response.text]).toEqual([path, 404, 'not found']);
    }
    expect(pings.stats.unknown).toBe(5);
  });

  it('answer 400 for an exit code past 255 or a run id that is no UUID, and 404 for an unknown suffix', async () => {
    const { send, host } = setup();
    expect(await send(`/ping/${UUID}/999`)).toMatchObject({ status: 400, text: 'invalid url format' });
    expect(await send(`/ping/${UUID}?rid=run-1`)).toMatchObject({ status: 400, text: 'invalid uuid format' });
    expect(await send(`/ping/${UUID}/abc`)).toMatchObject({ status: 404, text: 'not found' });
    expect(host('backup')).toBeUndefined();
  });

  it('reach hosts by ping key and name, creating one only with ?create=1 (201 "Created")', async () => {
    const { send, host } = setup();
    expect(await send(`/ping/${PING_KEY}/backup/start`)).toMatchObject({ status: 200, text: 'OK' });
    expect(await send(`/ping/${PING_KEY}/cron-mail`)).toMatchObject({ status: 404, text: 'not found' });
    expect(await send(`/ping/${PING_KEY}/Cron-Mail?create=1`)).toMatchObject({
      status: 201,
      text: 'Created',
    });
    expect(await send(`/${PING_KEY}/cron-mail/1`)).toMatchObject({ status: 200, text: 'OK' });
    expect(host('cron-mail')).toMatchObject({ state: 'up', status: 'fail', msg: 'exit code 1' });
    expect(await send(`/ping/wrong-ping-key-0123456/backup`)).toMatchObject({
      status: 404,
      text: 'not found',
    });
  });

  it('pass every other path on to the routes after them', async () => {
    const { send } = setup();
    expect(await send('/healthz')).toMatchObject({ status: 200, text: '{"ok":true}' });
    expect(await send('/api/hosts')).toMatchObject({ status: 200, text: '[]' });
    expect(await send('/assets/index-abc123.js')).toMatchObject({
      status: 200,
      text: 'asset index-abc123.js',
    });
    expect(await send('/not-a-token-at-all')).toMatchObject({
      status: 404,
      text: '{"error":"no such endpoint"}',
    });
    expect(await send('/a/b/c')).toMatchObject({ status: 404, text: '{"error":"no such endpoint"}' });
  });
});

describe('Uptime Kuma-style pushes, read as Uptime Kuma 2.x reads them', () => {
  it('answer {"ok":true}; status up or nothing is ok, anything else fails; msg is the message, "OK" without one', async () => {
    const { send, host } = setup();
    expect(await send(`/api/push/${KUMA}?status=up&msg=OK&ping=`)).toMatchObject({
      status: 200,
      text: '{"ok":true}',
    });
    expect(host('nightly')).toMatchObject({ state: 'up', status: 'ok', msg: 'OK', fields: {} });
    await send(`/api/push/${KUMA}?status=down&msg=disk%20full`);
    expect(host('nightly')).toMatchObject({ status: 'fail', msg: 'disk full' });
    await send(`/api/push/${KUMA}`, { method: 'POST', body: 'a body Kuma does not read' });
    expect(host('nightly')).toMatchObject({ status: 'ok', msg: 'OK' });
    await send(`/api/push/${KUMA}?status=down&msg=`);
    expect(host('nightly')).toMatchObject({ status: 'fail', msg: 'OK' });
    await send(`/api/push/${KUMA}?status=&msg=backup+done`);
    expect(host('nightly')).toMatchObject({ status: 'ok', msg: 'backup done' });
    // The same token works in either style.
    expect((await send(`/api/push/${UUID}?status=up&msg=OK&ping=12`)).status).toBe(200);
  });

  it('compare status with "up" exactly: "UP", or status given twice, is down', async () => {
    const { send, host } = setup();
    await send(`/api/push/${KUMA}?status=UP`);
    expect(host('nightly')?.status).toBe('fail');
    await send(`/api/push/${KUMA}?status=up`);
    expect(host('nightly')?.status).toBe('ok');
    await send(`/api/push/${KUMA}?status=up&status=up&msg=a&msg=b`);
    expect(host('nightly')).toMatchObject({ status: 'fail', msg: 'a,b' });
  });

  it('read ping as parseFloat(ping) || null, keep it as the field "ping", and take ping=abc as no value', async () => {
    const { send, host } = setup();
    const pushWith = async (ping: string) => {
      const answer = await send(`/api/push/${KUMA}?status=up&msg=OK&ping=${ping}`);
      return { status: answer.status, text: answer.text, fields: host('nightly')?.fields };
    };
    expect(await pushWith('123')).toEqual({ status: 200, text: '{"ok":true}', fields: { ping: '123' } });
    expect(await pushWith('abc')).toEqual({ status: 200, text: '{"ok":true}', fields: {} });
    expect((await pushWith('12.5ms')).fields).toEqual({ ping: '12.5' });
    expect((await pushWith('%2012')).fields).toEqual({ ping: '12' });
    expect((await pushWith('1e3')).fields).toEqual({ ping: '1000' });
    expect((await pushWith('0')).fields).toEqual({});
    expect((await pushWith('100000000000')).fields).toEqual({ ping: '100000000000' });
  });

  it("answer a ping below 0 or past 100,000,000,000 ms with Kuma's 404, before looking at the token", async () => {
    const { send, host, counts } = setup();
    await send(`/api/push/${KUMA}?ping=5`);
    for (const path of [
      `/api/push/${KUMA}?status=down&ping=-1`,
      `/api/push/${KUMA}?status=down&ping=100000000001`,
      `/api/push/${KUMA}?status=down&ping=Infinity`,
      '/api/push/NoSuchToken1?ping=-5',
    ]) {
      const answer = await send(path);
      expect([path, answer.status, JSON.parse(answer.text)]).toEqual([
        path,
        404,
        { ok: false, msg: 'Invalid ping value. Must be between 0 and 100000000000 ms.' },
      ]);
    }
    expect(host('nightly')).toMatchObject({ status: 'ok', fields: { ping: '5' } });
    expect(counts('uptime-kuma')).toMatchObject({ ok: 1, bad: 4, not_found: 0 });
  });

  it('answer 404 {"ok":false,"msg":…} for an unknown token, without the token', async () => {
    const { send, pings } = setup();
    const unknown = await send('/api/push/NoSuchToken1?status=up&msg=OK&ping=');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text)).toEqual({ ok: false, msg: 'Monitor not found or not active.' });
    expect(unknown.text).not.toContain('NoSuchToken1');
    expect(pings.stats.unknown).toBe(1);
  });
});

describe('a trailing slash', () => {
  it('is taken on every push URL as if it were not there', async () => {
    const { send, host, monitor } = setup();
    expect(await send(`/ping/${UUID}/`)).toMatchObject({ status: 200, text: 'OK' });
    expect(await send(`/${UUID}/`)).toMatchObject({ status: 200, text: 'OK' });
    expect(await send(`/ping/${UUID}/start/`)).toMatchObject({ status: 200, text: 'OK' });
    expect(monitor.currentRun('backup')).toBeDefined();
    expect(await send(`/ping/${UUID}/3/`, { method: 'POST', body: 'tar failed' })).toMatchObject({
      status: 200,
    });
    expect(host('backup')).toMatchObject({ status: 'fail', msg: 'exit code 3: tar failed' });
    expect(await send(`/ping/${PING_KEY}/backup/`)).toMatchObject({ status: 200, text: 'OK' });
    expect(await send(`/ping/${PING_KEY}/cron-mail/start/?create=1`)).toMatchObject({ status: 201 });
    expect(await send(`/api/push/${KUMA}/?status=down&msg=late`)).toMatchObject({
      status: 200,
      text: '{"ok":true}',
    });
    expect(host('nightly')).toMatchObject({ status: 'fail', msg: 'late' });
    const consul = await send('/v1/agent/check/warn/backup/?note=slow', {
      method: 'PUT',
      headers: { 'x-consul-token': UUID },
    });
    expect(consul.status).toBe(200);
    expect(host('backup')).toMatchObject({ status: 'warn', msg: 'slow' });
  });

  it('only one: two slashes, or a slash before more, are no ping', async () => {
    const { send } = setup();
    expect(await send(`/ping/${UUID}//`)).toMatchObject({ status: 404, text: 'not found' });
    expect(await send(`/api/push/${KUMA}//`)).toMatchObject({
      status: 404,
      text: '{"error":"no such endpoint"}',
    });
    expect(await send('/not-a-token-at-all/')).toMatchObject({
      status: 404,
      text: '{"error":"no such endpoint"}',
    });
  });
});

describe('counts by protocol and outcome', () => {
  it('count what each ping said, and why the others were refused', async () => {
    const { send, counts } = setup();
    await send(`/ping/${UUID}`);
    await send(`/ping/${UUID}/start`);
    await send(`/ping/${UUID}/fail`);
    await send(`/ping/${UUID}/0`);
    await send(`/ping/${UUID}/log`, { method: 'POST', body: 'step 2' });
    await send(`/ping/${UUID}/abc`);
    await send('/ping/0f6e7c4e-53a1-4c2e-9d11-7b1a6e0c9f20');
    await send(`/ping/${UUID}/999`);
    await send(`/ping/${UUID}?rid=run-1`);
    expect(counts('healthchecks')).toEqual({
      ok: 2,
      warn: 0,
      fail: 1,
      start: 1,
      log: 1,
      not_found: 2,
      bad: 2,
    });
    const put = (path: string, init: RequestInit = {}) =>
      send(path, { method: 'PUT', headers: { 'x-consul-token': UUID }, ...init });
    await put('/v1/agent/check/warn/backup');
    await put('/v1/agent/check/pass/nightly');
    await put('/v1/agent/check/update/backup', { body: 'not json' });
    await send('/v1/agent/check/pass/backup', { method: 'POST' });
    expect(counts('consul')).toEqual({ ok: 0, warn: 1, fail: 0, start: 0, log: 0, not_found: 1, bad: 2 });
  });
});

describe('GET /api/hosts/{name}/pings', () => {
  it("lists a host's last pings, newest first: when, in which form, what it said, its body, from where", async () => {
    const { send } = setup();
    await send(`/ping/${UUID}/start?rid=3b1d9a52-8c1e-4f0a-9d7e-2a6c5b4e3f10`);
    await send(`/ping/${UUID}/2`, { method: 'POST', body: 'pg_dump: error\n' });
    await send(`/api/push/${UUID}?status=up&msg=fine%20again&ping=12`);
    await send('/v1/agent/check/warn/backup?note=disk%2091%25', {
      method: 'PUT',
      headers: { 'x-consul-token': UUID },
    });
    const answer = await send('/api/hosts/Backup/pings');
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({
      pings: [
        {
          at: '2026-11-25T02:00:08.000Z',
          protocol: 'consul',
          kind: 'warn',
          exit_code: null,
          body: 'disk 91%',
          addr: '',
          rid: null,
        },
        {
          at: '2026-11-25T02:00:07.000Z',
          protocol: 'uptime-kuma',
          kind: 'success',
          exit_code: null,
          body: 'fine again',
          addr: '',
          rid: null,
        },
        {
          at: '2026-11-25T02:00:06.000Z',
          protocol: 'healthchecks',
          kind: 'fail',
          exit_code: 2,
          body: 'pg_dump: error',
          addr: '',
          rid: null,
        },
        {
          at: '2026-11-25T02:00:05.000Z',
          protocol: 'healthchecks',
          kind: 'start',
          exit_code: null,
          body: null,
          addr: '',
          rid: '3b1d9a52-8c1e-4f0a-9d7e-2a6c5b4e3f10',
        },
      ],
    });
  });

  it(`keeps ${PINGS_KEPT}, also across a write to the store, and knows no host hbd does not know`, async () => {
    const { send, recent } = setup();
    for (let i = 0; i < 7; i++) await send(`/ping/${UUID}`, { method: 'POST', body: `run ${i}` });
    await recent.flush();
    for (let i = 7; i < 15; i++) await send(`/ping/${UUID}`, { method: 'POST', body: `run ${i}` });
    const { pings } = JSON.parse((await send('/api/hosts/backup/pings')).text) as {
      pings: { body: string }[];
    };
    expect(pings.map((ping) => ping.body)).toEqual(
      Array.from({ length: PINGS_KEPT }, (_, i) => `run ${14 - i}`),
    );
    expect(await send('/api/hosts/nobody/pings')).toMatchObject({
      status: 404,
      text: '{"error":"no host named \\"nobody\\""}',
    });
  });
});
