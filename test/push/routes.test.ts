import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { pushOptionsOf } from '../../src/daemon/push-settings.js';
import { pushRoutes } from '../../src/http/push-routes.js';
import { PING_BODY_LIMIT_BYTES } from '../../src/push/body.js';
import { PushPings } from '../../src/push/ping.js';
import { HostView } from '../../src/state/host-view.js';
import { monitorHarness } from '../helpers/monitor-harness.js';

const UUID = '5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278';
const KUMA = 'Ab3dE6gH9kLm';
const PING_KEY = 'fqOOd6-F4MMNuCEnzTU01w';

/** The push routes mounted first, as app.ts does, before routes and a 404 of another kind. */
function setup() {
  const { table, monitor } = monitorHarness();
  const pings = new PushPings({
    hosts: new HostView(table, monitor),
    monitor,
    options: pushOptionsOf({
      push: { backup: { token: UUID }, nightly: { token: KUMA } },
      push_ping_key: PING_KEY,
      auth: 'optional',
      keys: {},
    }),
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
  return { app, send, host, pings, monitor, table };
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

describe('Uptime Kuma-style pushes', () => {
  it('answer {"ok":true}; status up or nothing is ok, anything else fails; msg is the message', async () => {
    const { send, host } = setup();
    expect(await send(`/api/push/${KUMA}?status=up&msg=OK&ping=`)).toMatchObject({
      status: 200,
      text: '{"ok":true}',
    });
    expect(host('nightly')).toMatchObject({ state: 'up', status: 'ok', msg: 'OK' });
    await send(`/api/push/${KUMA}?status=down&msg=disk%20full`);
    expect(host('nightly')).toMatchObject({ status: 'fail', msg: 'disk full' });
    await send(`/api/push/${KUMA}`, { method: 'POST' });
    expect(host('nightly')).toMatchObject({ status: 'ok', msg: null });
    // The same token works in either style.
    expect((await send(`/api/push/${UUID}?status=up&msg=OK&ping=12`)).status).toBe(200);
  });

  it('answer 404 {"ok":false,"msg":…} for an unknown token, and 400 for a bad ping value', async () => {
    const { send } = setup();
    const unknown = await send('/api/push/NoSuchToken1?status=up&msg=OK&ping=');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text)).toEqual({ ok: false, msg: 'Monitor not found or not active.' });
    expect(unknown.text).not.toContain('NoSuchToken1');
    const bad = await send(`/api/push/${KUMA}?ping=fast`);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({ ok: false });
  });
});
