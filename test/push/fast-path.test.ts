import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { pushOptionsOf } from '../../src/daemon/push-settings.js';
import { withPingFastPath } from '../../src/http/ping-fast-path.js';
import { PushPings } from '../../src/push/ping.js';
import { HostView } from '../../src/state/host-view.js';
import { monitorHarness } from '../helpers/monitor-harness.js';

const UUID = '5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278';

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

/** The fast path in front of a stand-in for the full routes that says it was reached. */
async function setup() {
  const { table, monitor } = monitorHarness();
  const pings = new PushPings({
    hosts: new HostView(table, monitor),
    monitor,
    options: pushOptionsOf({
      push: { backup: { token: UUID } },
      push_ping_key: null,
      auth: 'optional',
      keys: {},
    }),
  });
  server = createServer(
    withPingFastPath(pings, (_request, response) => {
      response.writeHead(299, { 'content-type': 'text/plain' });
      response.end('full routes');
    }),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const send = async (path: string, method = 'GET') => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { method });
    return { status: response.status, text: await response.text() };
  };
  const host = (name: string) => {
    const slot = table.find(name);
    return slot < 0 ? undefined : table.record(slot);
  };
  return { send, pings, host };
}

describe('the ping fast path', () => {
  it('answers GET and HEAD /ping/{token}, with or without a trailing slash, and counts them', async () => {
    const { send, pings, host } = await setup();
    expect(await send(`/ping/${UUID}`)).toEqual({ status: 200, text: 'OK' });
    expect(await send(`/ping/${UUID}/`)).toEqual({ status: 200, text: 'OK' });
    expect(await send(`/ping/${UUID}/`, 'HEAD')).toEqual({ status: 200, text: '' });
    expect(host('backup')).toMatchObject({ state: 'up', status: 'ok', addr: '127.0.0.1' });
    expect(pings.counts.get('healthchecks')).toMatchObject({ ok: 3 });
  });

  it('leaves everything else to the full routes: a suffix, two slashes, a query, an unknown token', async () => {
    const { send, pings } = await setup();
    for (const path of [
      `/ping/${UUID}/start`,
      `/ping/${UUID}//`,
      `/ping/${UUID}/?rid=x`,
      '/ping/0f6e7c4e-53a1-4c2e-9d11-7b1a6e0c9f20/',
      '/ping/',
    ]) {
      expect([path, await send(path)]).toEqual([path, { status: 299, text: 'full routes' }]);
    }
    expect(pings.counts.get('healthchecks')).toBeUndefined();
  });
});
