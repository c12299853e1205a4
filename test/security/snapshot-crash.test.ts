/**
 * Finding 1: the `/ws` snapshot and `GET /api/hosts` were each built as one string of the whole
 * fleet. ~9,000 unsigned hosts with 32 fields of 2,000 characters made that string longer than
 * V8 allows: `JSON.stringify` threw `RangeError: Invalid string length` inside the upgrade
 * handler, uncaught, and the process exited (after a restart, the next `/ws` killed it again);
 * `/api/hosts` answered 500.
 *
 * A fleet past V8's string limit (~512 MB) would make this test slow, so it proves the two
 * things that make the crash impossible: no frame of the feed and no chunk of the HTTP body is
 * ever the whole fleet (each is bounded, whatever the fleet's size), and a host whose JSON
 * throws (what the RangeError was) is left out and logged while everything else carries on.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeHeartbeat } from '../../src/protocol/encode.js';
import { eventually, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

const HOSTS = 2500;
/** 14 fields of 250 characters: ~3.7 KB of JSON a host, ~9 MB for the fleet. */
const FIELDS = Object.fromEntries(
  Array.from({ length: 14 }, (_, i) => [`f${i}`, String(i % 10).repeat(250)]),
);
/** A piece is closed at 64 KiB; one host more and the frame's own keys fit in the rest. */
const LARGEST_PIECE = 80 * 1024;
const nameOf = (index: number) => `big${String(index).padStart(5, '0')}`;

let hbd: TestDaemon;

beforeAll(async () => {
  hbd = await startTestDaemon({
    interval: 600,
    grace: 600,
    limits: { new_hosts_per_minute: 100_000, snapshots_per_minute: 1000, client_stall_seconds: 1 },
  });
  const { hosts } = hbd.daemon;
  for (let round = 0; round < 5 && hosts.count < HOSTS; round++) {
    for (let index = 0; index < HOSTS; index++) {
      if (hosts.has(nameOf(index))) continue;
      await hbd.send(encodeHeartbeat({ host: nameOf(index), fields: FIELDS }));
      // The daemon reads its socket on this same event loop: let it, so the kernel buffer never fills.
      if (index % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
    }
    await eventually(() => expect(hosts.count).toBeGreaterThan(0));
  }
  await eventually(() => expect(hosts.count).toBe(HOSTS), 10_000);
}, 60_000);

afterAll(async () => {
  await hbd?.stop();
});

interface FeedSnapshot {
  hosts: string[];
  largestFrame: number;
  frames: number;
}

/** Opens `/ws` and reads its snapshot to the end: the frame that says `done`, or a single old-style one. */
function readSnapshot(): Promise<FeedSnapshot> {
  const ws = new WebSocket(hbd.url('/ws').replace('http', 'ws'));
  const snapshot: FeedSnapshot = { hosts: [], largestFrame: 0, frames: 0 };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no complete snapshot within 10 s: ${snapshot.hosts.length} hosts`));
    }, 10_000);
    ws.on('error', reject);
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(String(data)) as { type: string; done?: boolean; hosts?: { name: string }[] };
      if (frame.type !== 'snapshot') return;
      snapshot.frames++;
      snapshot.largestFrame = Math.max(snapshot.largestFrame, data.length);
      snapshot.hosts.push(...(frame.hosts ?? []).map((host) => host.name));
      if (frame.done !== false) {
        clearTimeout(timer);
        ws.close();
        resolve(snapshot);
      }
    });
  });
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  /** The body as it was framed: one piece per HTTP chunk, or one for a Content-Length body. */
  pieces: Buffer[];
}

/** `GET path` over a plain socket, so that the chunks hbd wrote can be seen as it wrote them. */
function rawGet(path: string): Promise<RawResponse> {
  const { hostname, port } = new URL(hbd.url('/'));
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const received: Buffer[] = [];
    socket.on('data', (data) => received.push(data));
    socket.on('error', reject);
    socket.on('end', () => {
      try {
        resolve(parseResponse(Buffer.concat(received)));
      } catch (error) {
        reject(error);
      }
    });
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`);
  });
}

function parseResponse(raw: Buffer): RawResponse {
  const headEnd = raw.indexOf('\r\n\r\n');
  const [statusLine, ...lines] = raw.subarray(0, headEnd).toString().split('\r\n');
  const headers = Object.fromEntries(
    lines.map((line) => [
      line.slice(0, line.indexOf(':')).toLowerCase(),
      line.slice(line.indexOf(':') + 1).trim(),
    ]),
  );
  let body = raw.subarray(headEnd + 4);
  const pieces: Buffer[] = [];
  if (headers['transfer-encoding'] === 'chunked') {
    for (;;) {
      const lineEnd = body.indexOf('\r\n');
      const size = Number.parseInt(body.subarray(0, lineEnd).toString(), 16);
      if (size === 0) break;
      pieces.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
      body = body.subarray(lineEnd + 2 + size + 2);
    }
  } else {
    pieces.push(body);
  }
  return { status: Number(statusLine!.split(' ')[1]), headers, pieces };
}

describe('a fleet whose JSON is large', () => {
  it('/ws sends the snapshot in bounded frames, and every host arrives', async () => {
    const snapshot = await readSnapshot();
    expect(snapshot.hosts).toHaveLength(HOSTS);
    expect(new Set(snapshot.hosts).size).toBe(HOSTS);
    expect(snapshot.frames).toBeGreaterThan(1);
    expect(snapshot.largestFrame).toBeLessThanOrEqual(LARGEST_PIECE);
  });

  it('GET /api/hosts streams a JSON array in bounded chunks, sorted by name', async () => {
    const response = await rawGet('/api/hosts');
    expect(response.status).toBe(200);
    expect(response.headers['transfer-encoding']).toBe('chunked');
    expect(Math.max(...response.pieces.map((piece) => piece.length))).toBeLessThanOrEqual(LARGEST_PIECE);
    const names = (JSON.parse(Buffer.concat(response.pieces).toString()) as { name: string }[]).map(
      (h) => h.name,
    );
    expect(names).toEqual(Array.from({ length: HOSTS }, (_, index) => nameOf(index)));
  });

  it('a client that stops reading a streamed answer is cut off after client_stall_seconds', async () => {
    const { hostname, port } = new URL(hbd.url('/'));
    const socket = net.connect(Number(port), hostname);
    socket.on('error', () => {});
    socket.pause();
    socket.write(`GET /api/hosts HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
    // The kernel's buffers fill, hbd's piece waits, and a second later the connection is cut.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    let received = 0;
    const closed = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5000);
      socket.on('data', (data: Buffer) => {
        received += data.length;
      });
      socket.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    socket.resume();
    expect(await closed).toBe(true);
    socket.destroy();
    // Cut short: far from the whole ~9 MB list (the kernel buffers a few MB at most).
    expect(received).toBeLessThan(7 * 1024 * 1024);
    expect((await fetch(hbd.url('/healthz'))).status).toBe(200);
  });

  it('a host whose JSON throws is left out and logged with its stack; hbd carries on', async () => {
    const table = hbd.daemon.monitor.table;
    const slot = table.find(nameOf(7));
    const extras = table.extras[slot]!;
    // Only JSON.stringify calls toJSON: what threw `RangeError: Invalid string length` in the review.
    const poisoned = { ...extras.fields };
    Object.defineProperty(poisoned, 'toJSON', {
      enumerable: false,
      value: () => {
        throw new RangeError('Invalid string length');
      },
    });
    table.extras[slot] = { ...extras, fields: poisoned };
    try {
      const snapshot = await readSnapshot();
      expect(snapshot.hosts).toHaveLength(HOSTS - 1);
      expect(snapshot.hosts).not.toContain(nameOf(7));

      const response = await rawGet('/api/hosts');
      expect(response.status).toBe(200);
      const listed = JSON.parse(Buffer.concat(response.pieces).toString()) as { name: string }[];
      expect(listed).toHaveLength(HOSTS - 1);

      const health = await fetch(hbd.url('/healthz'));
      expect(await health.json()).toMatchObject({ ok: true, hosts: HOSTS });
      const logged = hbd.logs.find((line) => line.host === nameOf(7) && line.level === 50);
      expect(logged).toBeDefined();
      expect(String((logged!.err as { stack?: string }).stack)).toContain(
        'RangeError: Invalid string length',
      );
    } finally {
      table.extras[slot] = extras;
    }
  });
});
