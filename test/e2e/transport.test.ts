import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { eventually, getJson, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
const ca = readFileSync(join(fixtures, 'tls-cert.pem'));

let hbd: TestDaemon | undefined;
afterEach(async () => {
  await hbd?.stop();
  hbd = undefined;
});

function sendFrom(type: 'udp4' | 'udp6', address: string, port: number, text: string): Promise<void> {
  const socket = dgram.createSocket(type);
  return new Promise((resolve, reject) =>
    socket.send(text, port, address, (error) => {
      socket.close();
      if (error) reject(error);
      else resolve();
    }),
  );
}

describe('transports', () => {
  it('the default dual-stack socket hears IPv4 and IPv6, and reports IPv4 sources in plain form', async () => {
    hbd = await startTestDaemon({ hb_host: '::' });
    await sendFrom('udp4', '127.0.0.1', hbd.daemon.udp.port, 'host=v4 ip6=2001:db8::4');
    await sendFrom('udp6', '::1', hbd.daemon.udp.port, 'host=v6');
    const hosts = await eventually(async () => {
      const { body } = await getJson<{ name: string; addr: string; publish: object }[]>(
        hbd!.url('/api/hosts'),
      );
      expect(body).toHaveLength(2);
      return body;
    });
    expect(hosts).toEqual([
      expect.objectContaining({
        name: 'v4',
        addr: '127.0.0.1',
        publish: { ip4: '127.0.0.1', ip6: '2001:db8::4' },
      }),
      expect.objectContaining({ name: 'v6', addr: '::1', publish: { ip4: null, ip6: '::1' } }),
    ]);
  });

  it('serves HTTPS and WSS when tls_cert and tls_key are set', async () => {
    hbd = await startTestDaemon({
      tls_cert: join(fixtures, 'tls-cert.pem'),
      tls_key: join(fixtures, 'tls-key.pem'),
    });
    expect(hbd.daemon.http.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get(hbd!.url('/healthz'), { ca }, (response) => {
          let text = '';
          response.on('data', (chunk) => {
            text += chunk;
          });
          response.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    expect(JSON.parse(body)).toMatchObject({ ok: true });
    const ws = new WebSocket(hbd.url('/ws').replace('https', 'wss'), { ca });
    const first = await new Promise<{ type: string }>((resolve, reject) => {
      ws.once('message', (data) => resolve(JSON.parse(String(data))));
      ws.once('error', reject);
    });
    expect(first.type).toBe('snapshot');
    ws.close();
    await expect(fetch(hbd.url('/healthz').replace('https', 'http'))).rejects.toThrow();
  });

  it('journals every accepted heartbeat, and nothing that was dropped', async () => {
    hbd = await startTestDaemon({ journal: 'journal.jsonl' });
    await hbd.send('host=web1 seq=1 msg="hello" rack=r1');
    await hbd.send('host=-bad-');
    await hbd.send('host=web2');
    const lines = await eventually(() => {
      const text = readFileSync(join(hbd!.dir, 'journal.jsonl'), 'utf8');
      const parsed = text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(parsed).toHaveLength(2);
      return parsed;
    });
    expect(lines[0]).toMatchObject({
      host: 'web1',
      status: 'ok',
      msg: 'hello',
      fields: { rack: 'r1' },
      seq: 1,
    });
    expect(lines[1]).toMatchObject({ host: 'web2', addr: '127.0.0.1', signed: false });
  });
});
