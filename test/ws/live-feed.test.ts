import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { HostJson } from '../../src/http/host-json.js';
import { Bus } from '../../src/lib/bus.js';
import type { HeartbeatNotice } from '../../src/model/events.js';
import { LiveFeed, type LiveFeedOptions } from '../../src/ws/live-feed.js';
import { eventually } from '../helpers/daemon.js';

interface Frame {
  type: string;
  [key: string]: unknown;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function startFeed(options: Partial<LiveFeedOptions> = {}) {
  const bus = new Bus();
  const feed = new LiveFeed({
    bus,
    snapshotNames: async () => [],
    hosts: { json: () => undefined, onHostError: () => {} },
    flushMs: 20,
    ...options,
  });
  const server = http.createServer();
  server.on('upgrade', (request, socket, head) => feed.handleUpgrade(request, socket, head));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  cleanups.push(() => {
    feed.close();
    server.closeAllConnections();
    server.close();
  });
  return { bus, feed, port };
}

async function connect(port: number) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  const frames: Frame[] = [];
  ws.on('message', (data) => frames.push(JSON.parse(String(data)) as Frame));
  await eventually(() => expect(frames[0]?.type).toBe('snapshot'));
  cleanups.push(() => ws.terminate());
  return { ws, frames };
}

const notice = (host: string, seq: number, msg: string | null = null): HeartbeatNotice => ({
  host,
  at: Date.now(),
  status: 'ok',
  msg,
  fields: {},
  addr: '127.0.0.1',
  ip4: null,
  ip6: null,
  signed: false,
  seq,
});

describe('LiveFeed (/ws)', () => {
  it('closes a client that sends a message of more than 1 KiB: clients have nothing to say', async () => {
    const { feed, port } = await startFeed();
    const { ws } = await connect(port);
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    // Unfinished fragments would otherwise be buffered until the message ends.
    ws.send(Buffer.alloc(2048), { fin: false });
    expect(await closed).toBe(1009);
    await eventually(() => expect(feed.clientCount).toBe(0));
  });

  it('says it is full at maxClients, and has room again when one leaves', async () => {
    const { feed, port } = await startFeed({ maxClients: 2 });
    const first = await connect(port);
    expect(feed.full).toBe(false);
    await connect(port);
    expect(feed.full).toBe(true);
    first.ws.close();
    await eventually(() => expect(feed.full).toBe(false));
  });

  it('merges the heartbeats of one host within a window: the latest wins', async () => {
    const { bus, port } = await startFeed();
    const { frames } = await connect(port);
    for (let seq = 1; seq <= 100; seq++) bus.emit('heartbeat', notice('web1', seq));
    bus.emit('heartbeat', notice('web2', 1));
    await eventually(() => expect(frames.filter((f) => f.type === 'heartbeat')).toHaveLength(2));
    expect(frames.filter((f) => f.host === 'web1')).toEqual([
      expect.objectContaining({ type: 'heartbeat', seq: 100 }),
    ]);
  });

  it('never merges events, and sends them after the heartbeats that came before them', async () => {
    const { bus, port } = await startFeed();
    const { frames } = await connect(port);
    bus.emit('heartbeat', notice('web1', 1));
    for (const to of ['late', 'down', 'up']) {
      bus.emit('event', { id: 1, at: Date.now(), host: 'web1', kind: 'state', from: null, to, reason: 'r' });
    }
    await eventually(() => expect(frames).toHaveLength(5));
    expect(frames.map((f) => `${f.type}:${f.to ?? ''}`)).toEqual([
      'snapshot:',
      'heartbeat:',
      'event:late',
      'event:down',
      'event:up',
    ]);
  });

  it('sends the snapshot in frames, the last saying done, and live frames only after it', async () => {
    const names = Array.from({ length: 300 }, (_, i) => `h${String(i).padStart(3, '0')}`);
    const { bus, port } = await startFeed({
      snapshotNames: async () => names,
      hosts: {
        json: (name) => ({ name, msg: 'x'.repeat(1000) }) as unknown as HostJson,
        onHostError: () => {},
      },
    });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    cleanups.push(() => ws.terminate());
    const frames: Frame[] = [];
    ws.on('message', (data) => frames.push(JSON.parse(String(data)) as Frame));
    await new Promise((resolve) => ws.on('open', resolve));
    bus.emit('heartbeat', notice('h001', 1));
    bus.emit('heartbeat', notice('h001', 2));
    await eventually(() => expect(frames.at(-1)?.type).toBe('heartbeat'));
    const snapshot = frames.filter((frame) => frame.type === 'snapshot');
    expect(snapshot.length).toBeGreaterThan(1);
    expect(snapshot.map((frame) => frame.done)).toEqual([...snapshot.slice(1).map(() => false), true]);
    expect(snapshot.flatMap((frame) => (frame.hosts as { name: string }[]).map((host) => host.name))).toEqual(
      names,
    );
    // Nothing between the snapshot's frames; the two heartbeats of one host merged into the latest.
    expect(frames.slice(0, snapshot.length).every((frame) => frame.type === 'snapshot')).toBe(true);
    expect(frames.slice(snapshot.length)).toEqual([expect.objectContaining({ type: 'heartbeat', seq: 2 })]);
  });

  it('drops a client that stops reading, and keeps serving the others', async () => {
    const { bus, feed, port } = await startFeed({
      limits: () => ({ client_buffer_bytes: 64 * 1024, client_stall_seconds: 30 }),
    });
    const { frames: healthy } = await connect(port);
    // A client that completes the handshake and then never reads a byte.
    const stalled = net.connect(port, '127.0.0.1');
    cleanups.push(() => stalled.destroy());
    stalled.write(
      'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    await eventually(() => expect(feed.clientCount).toBe(2));
    stalled.pause();
    const big = 'x'.repeat(1000);
    for (let round = 0; round < 200 && feed.clientCount === 2; round++) {
      for (let host = 0; host < 100; host++) bus.emit('heartbeat', notice(`h${host}`, round, big));
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await eventually(() => expect(feed.clientCount).toBe(1), 5000);
    expect(healthy.filter((f) => f.type === 'heartbeat').length).toBeGreaterThan(100);
  });
});
