import { once } from 'node:events';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { pushOptionsOf } from '../../src/daemon/push-settings.js';
import { withPingFastPath } from '../../src/http/ping-fast-path.js';
import { pushRoutes } from '../../src/http/push-routes.js';
import { PushPings } from '../../src/push/ping.js';
import { CONSUL_BODY_LIMIT_BYTES } from '../../src/push/protocols/consul.js';
import { HostView } from '../../src/state/host-view.js';
import { monitorHarness } from '../helpers/monitor-harness.js';

const BACKUP = '5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278';
const WEB = 'kUm4PushT0kenOf32CharactersXyZ01';
const PING_KEY = 'fqOOd6-F4MMNuCEnzTU01w';

/** The push routes mounted first, as app.ts does, before another route and hbd's own 404. */
function setup(keys: Record<string, string> = {}) {
  const { table, monitor, sink } = monitorHarness();
  const pings = new PushPings({
    hosts: new HostView(table, monitor),
    monitor,
    options: pushOptionsOf({
      push: { backup: { token: BACKUP }, web: { token: WEB } },
      push_ping_key: PING_KEY,
      auth: 'optional',
      keys,
    }),
  });
  const app = new Hono();
  app.route('/', pushRoutes(pings));
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.notFound((c) => c.json({ error: 'no such endpoint' }, 404));
  const send = async (path: string, init: RequestInit = {}) => {
    const response = await app.request(path, { method: 'PUT', ...init });
    return { status: response.status, headers: response.headers, text: await response.text() };
  };
  const host = (name: string) => {
    const slot = table.find(name);
    return slot < 0 ? undefined : table.record(slot);
  };
  return { app, send, host, pings, monitor, table, sink };
}

const withToken = (token: string) => ({ headers: { 'X-Consul-Token': token } });
const update = (body: unknown, token = BACKUP) => ({
  headers: { 'X-Consul-Token': token, 'Content-Type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

describe('Consul TTL checks: /v1/agent/check/{pass,warn,fail}/{id}', () => {
  it('answer 200 with an empty body, and set the status: pass ok, warn warn, fail fail', async () => {
    const { send, host } = setup();
    const pass = await send('/v1/agent/check/pass/backup', withToken(BACKUP));
    expect(pass).toMatchObject({ status: 200, text: '' });
    expect(pass.headers.get('content-type')).toBeNull();
    expect(host('backup')).toMatchObject({ state: 'up', status: 'ok', msg: null, signed: false });
    expect(await send('/v1/agent/check/warn/backup', withToken(BACKUP))).toMatchObject({
      status: 200,
      text: '',
    });
    expect(host('backup')?.status).toBe('warn');
    expect(await send('/v1/agent/check/fail/backup', withToken(BACKUP))).toMatchObject({
      status: 200,
      text: '',
    });
    expect(host('backup')?.status).toBe('fail');
    await send('/v1/agent/check/pass/backup', withToken(BACKUP));
    expect(host('backup')?.status).toBe('ok');
  });

  it('make ?note= the message, its final newline dropped; no note clears it', async () => {
    const { send, host, sink } = setup();
    await send(
      `/v1/agent/check/warn/backup?note=${encodeURIComponent('disk 91% full\n')}`,
      withToken(BACKUP),
    );
    expect(host('backup')).toMatchObject({ status: 'warn', msg: 'disk 91% full' });
    expect(sink.events.at(-1)).toMatchObject({
      kind: 'status',
      to: 'warn',
      reason: 'reported: disk 91% full',
    });
    await send('/v1/agent/check/pass/backup', withToken(BACKUP));
    expect(host('backup')?.msg).toBeNull();
  });

  it('take the token from ?token=, X-Consul-Token or Authorization: Bearer, the query first', async () => {
    const { send, host } = setup();
    expect((await send(`/v1/agent/check/pass/backup?token=${BACKUP}`)).status).toBe(200);
    expect((await send('/v1/agent/check/pass/web', withToken(WEB))).status).toBe(200);
    expect(
      (await send('/v1/agent/check/fail/web', { headers: { Authorization: `Bearer ${WEB}` } })).status,
    ).toBe(200);
    expect(host('web')?.status).toBe('fail');
    // As Consul reads them: a token in the query wins over the header.
    expect((await send(`/v1/agent/check/pass/web?token=${BACKUP}`, withToken(WEB))).status).toBe(403);
  });

  it('take the ping key for any host it reaches, by name (case ignored), creating none', async () => {
    const { send, host, pings } = setup({ signed: 'secret-of-signed-host' });
    expect((await send('/v1/agent/check/pass/Backup', withToken(PING_KEY))).status).toBe(200);
    expect(host('backup')?.status).toBe('ok');
    const unknown = await send('/v1/agent/check/pass/cron-mail', withToken(PING_KEY));
    expect(unknown).toMatchObject({
      status: 404,
      text: 'Unknown check ID. Ensure that the check ID is passed, not the check name.',
    });
    expect(host('cron-mail')).toBeUndefined();
    // A host that must sign is not reached by a ping, whatever the key.
    expect((await send('/v1/agent/check/pass/signed', withToken(PING_KEY))).status).toBe(404);
    expect(pings.stats).toMatchObject({ applied: 1, unknown: 2 });
  });

  it('refuse a bad token with 403 "ACL not found", another host\'s token and none with 403 "Permission denied"', async () => {
    const { send, host, pings } = setup();
    expect(
      await send('/v1/agent/check/pass/backup', withToken('0f6e7c4e-53a1-4c2e-9d11-7b1a6e0c9f20')),
    ).toMatchObject({ status: 403, text: 'ACL not found' });
    expect(await send('/v1/agent/check/pass/backup', withToken(WEB))).toMatchObject({
      status: 403,
      text: 'Permission denied',
    });
    expect(await send('/v1/agent/check/pass/backup')).toMatchObject({
      status: 403,
      text: 'Permission denied',
    });
    // A host's token names that host alone: any other id is refused, known to hbd or not.
    expect((await send('/v1/agent/check/pass/nowhere', withToken(BACKUP))).status).toBe(403);
    expect(host('backup')).toBeUndefined();
    expect(pings.stats).toMatchObject({ applied: 0, unknown: 4 });
  });

  it('answer 405 with Allow: PUT for any other method, as Consul does', async () => {
    const { send, host } = setup();
    for (const method of ['GET', 'POST', 'DELETE']) {
      const answer = await send(`/v1/agent/check/pass/backup?token=${BACKUP}`, { method });
      expect([method, answer.status, answer.headers.get('allow')]).toEqual([method, 405, 'PUT']);
      expect(answer.text).toBe(`method ${method} not allowed`);
    }
    expect(host('backup')).toBeUndefined();
  });

  it("leave Consul's other endpoints to the rest of hbd, and never repeat the token in a refusal", async () => {
    const { send } = setup();
    expect(await send('/v1/agent/check/register', withToken(BACKUP))).toMatchObject({ status: 404 });
    expect(await send(`/v1/agent/check/deregister/${BACKUP}`)).toMatchObject({
      status: 404,
      text: '{"error":"no such endpoint"}',
    });
    const pasted = await send(`/v1/agent/check/pass/${BACKUP}`, withToken(PING_KEY));
    expect(pasted.status).toBe(404);
    expect(pasted.text).not.toContain(BACKUP);
  });
});

describe('Consul TTL checks: PUT /v1/agent/check/update/{id}', () => {
  it('take {"Status","Output"}: passing, warning, critical; Output is the message', async () => {
    const { send, host } = setup();
    expect(
      await send('/v1/agent/check/update/backup', update({ Status: 'passing', Output: 'all good\n' })),
    ).toEqual(expect.objectContaining({ status: 200, text: '' }));
    expect(host('backup')).toMatchObject({ status: 'ok', msg: 'all good' });
    await send('/v1/agent/check/update/backup', update({ Status: 'warning', Output: 'slow' }));
    expect(host('backup')).toMatchObject({ status: 'warn', msg: 'slow' });
    await send('/v1/agent/check/update/backup', update({ Status: 'critical' }));
    expect(host('backup')).toMatchObject({ status: 'fail', msg: null });
    // Go reads field names without regard to case, so Consul does too.
    await send('/v1/agent/check/update/backup', update({ status: 'passing', output: 'lower-case keys' }));
    expect(host('backup')).toMatchObject({ status: 'ok', msg: 'lower-case keys' });
  });

  it('answer 400 as Consul does for a body that is not JSON, empty, or with a bad status', async () => {
    const { send, host } = setup();
    expect(await send('/v1/agent/check/update/backup', update('{"Status": '))).toMatchObject({ status: 400 });
    expect((await send('/v1/agent/check/update/backup', update('{"Status": '))).text).toMatch(
      /^Request decode failed: /,
    );
    expect(await send('/v1/agent/check/update/backup', update(''))).toMatchObject({
      status: 400,
      text: 'Request decode failed: EOF',
    });
    expect(await send('/v1/agent/check/update/backup', update({ Status: 'maintenance' }))).toMatchObject({
      status: 400,
      text: "Invalid check status: 'maintenance'",
    });
    expect(await send('/v1/agent/check/update/backup', update({ Output: 'no status' }))).toMatchObject({
      status: 400,
      text: "Invalid check status: ''",
    });
    expect(await send('/v1/agent/check/update/backup', update({ Status: 3 }))).toMatchObject({ status: 400 });
    expect(await send('/v1/agent/check/update/backup', update('[]'))).toMatchObject({ status: 400 });
    expect(host('backup')).toBeUndefined();
  });

  it('read the body before the token, as Consul does, and refuse a body past the bound with 413', async () => {
    const { send, host } = setup();
    expect(await send('/v1/agent/check/update/backup', update('nope', 'not-a-known-token'))).toMatchObject({
      status: 400,
    });
    expect(
      await send('/v1/agent/check/update/backup', update({ Status: 'passing' }, 'not-a-known-token')),
    ).toMatchObject({ status: 403, text: 'ACL not found' });
    const huge = JSON.stringify({ Status: 'passing', Output: 'x'.repeat(CONSUL_BODY_LIMIT_BYTES) });
    expect(await send('/v1/agent/check/update/backup', update(huge))).toMatchObject({ status: 413 });
    expect(host('backup')).toBeUndefined();
  });

  it('cut a long Output to the length of a heartbeat message', async () => {
    const { send, host } = setup();
    await send('/v1/agent/check/update/backup', update({ Status: 'critical', Output: 'y'.repeat(5000) }));
    expect(host('backup')?.msg).toBe('y'.repeat(1024));
  });
});

describe('Consul TTL checks over a real socket, through the fast path', () => {
  let close: (() => void) | undefined;
  afterEach(() => close?.());

  it('answer 200 with Content-Length 0, and the client address is the host address', async () => {
    const { app, host } = setup();
    const server = createServer(withPingFastPath(undefined as never, getRequestListener(app.fetch), []));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    close = () => server.close();
    const { port } = server.address() as AddressInfo;
    const answer = await new Promise<{ status: number; length: string | undefined; body: string }>(
      (resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port, method: 'PUT', path: `/v1/agent/check/warn/backup?note=hot` },
          (res) => {
            let body = '';
            res.on('data', (chunk) => (body += chunk));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, length: res.headers['content-length'], body }),
            );
          },
        );
        req.on('error', reject);
        req.setHeader('X-Consul-Token', BACKUP);
        req.end();
      },
    );
    expect(answer).toEqual({ status: 200, length: '0', body: '' });
    expect(host('backup')).toMatchObject({ status: 'warn', msg: 'hot', addr: '127.0.0.1' });
  });
});
