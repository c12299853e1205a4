/**
 * Finding 6: the read side starved ingest. With a 10k-host fleet at 2,000 heartbeats/s, four
 * clients looping connect → snapshot → close dropped 48 % of heartbeats, and 50 `/ws` clients
 * that never read dropped 32 % and left RSS at 390 MB: every snapshot was built in one go on the
 * event loop, and a client that did not read had up to 8 MiB buffered for it.
 *
 * Here the daemon runs as its own process with a small UDP receive buffer, so a daemon that holds
 * its event loop drops heartbeats as the kernel's buffer overflows, and the drops are counted
 * against a control run without those clients. Then the budget: snapshots a minute per address.
 */
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { stringify } from 'yaml';
import { encodeHeartbeat } from '../../src/protocol/encode.js';
import { type ServingHbd, serveHbd } from '../helpers/cli.js';
import { eventually, getJson, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ingest while clients read the fleet', () => {
  /** ~3.7 KB of JSON a host, ~15 MB for the fleet: a snapshot the old code built in one go. */
  const FLEET = 4000;
  const FIELDS = Object.fromEntries(
    Array.from({ length: 14 }, (_, i) => [`f${i}`, String(i % 10).repeat(250)]),
  );
  /** The hosts that beat while it is measured; a message long enough that a backlog of them passes 64 KiB. */
  const LIVE = 500;
  const LIVE_MSG = 'm'.repeat(200);
  const BEATS_PER_SECOND = 1000;
  const WINDOW_MS = 2000;
  const STALLED_CLIENTS = 20;
  const MIB = 1024 * 1024;

  const udp = dgram.createSocket('udp4');
  let dir: string;
  let hbd: ServingHbd;
  let seq = 0;

  const send = (datagram: Uint8Array) =>
    new Promise<void>((resolve, reject) =>
      udp.send(datagram, hbd.udpPort, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
    );
  const knownHosts = async () => (await getJson<{ hosts: number }>(`${hbd.httpUrl}/healthz`)).body.hosts;
  const accepted = async () => {
    const text = await (await fetch(`${hbd.httpUrl}/metrics`)).text();
    return Number(/^hbd_heartbeats_accepted_total (\d+)/m.exec(text)![1]);
  };

  /** Sends datagrams a few at a time, each batch once the ones before it are known (the buffer is small). */
  async function createHosts(datagrams: Uint8Array[], batch: number): Promise<void> {
    const start = await knownHosts();
    for (let from = 0; from < datagrams.length; from += batch) {
      const target = start + Math.min(from + batch, datagrams.length);
      for (let attempt = 0; (await knownHosts()) < target; attempt++) {
        if (attempt % 50 === 0)
          for (const datagram of datagrams.slice(from, from + batch)) await send(datagram);
        await sleep(5);
      }
    }
  }

  /**
   * Beats the live hosts at BEATS_PER_SECOND for WINDOW_MS while `during` runs; the share of
   * what was sent that hbd accepted.
   */
  async function acceptedShare(
    during: (until: number) => Promise<unknown> = async () => {},
  ): Promise<number> {
    const before = await accepted();
    const until = Date.now() + WINDOW_MS;
    let sent = 0;
    const beating = (async () => {
      const perTick = BEATS_PER_SECOND / 100;
      while (Date.now() < until) {
        for (let i = 0; i < perTick; i++) {
          seq++;
          await send(encodeHeartbeat({ host: `live${seq % LIVE}`, seq, msg: LIVE_MSG }));
          sent++;
        }
        await sleep(10);
      }
    })();
    await Promise.all([beating, during(until)]);
    // What is still in the socket's buffer is not lost: let hbd read it.
    await eventually(async () => expect(await accepted()).toBeGreaterThanOrEqual(before + sent), 1000).catch(
      () => {},
    );
    return ((await accepted()) - before) / sent;
  }

  /**
   * Opens /ws and reads until the snapshot's last frame, then hangs up; again and again. Counts
   * the snapshots read whole, and the ones hbd cut short (which a client that reads must never see).
   */
  async function loopFeed(until: number): Promise<{ whole: number; cut: number }> {
    const counts = { whole: 0, cut: 0 };
    while (Date.now() < until) {
      const whole = await new Promise<boolean>((resolve, reject) => {
        const ws = new WebSocket(`${hbd.httpUrl.replace('http', 'ws')}/ws`);
        ws.on('error', reject);
        ws.on('close', () => resolve(false));
        ws.on('message', (data: Buffer) => {
          const head = data.subarray(0, 80).toString();
          if (head.startsWith('{"type":"snapshot"') && !head.includes('"done":false')) {
            ws.terminate();
            resolve(true);
          }
        });
      });
      counts[whole ? 'whole' : 'cut']++;
    }
    return counts;
  }

  async function loopHosts(until: number): Promise<number> {
    let reads = 0;
    while (Date.now() < until) {
      const response = await fetch(`${hbd.httpUrl}/api/hosts`);
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      reads++;
    }
    return reads;
  }

  /** Asks for /ws and never reads a byte, not even the answer. */
  async function stalledFeed(): Promise<net.Socket> {
    const { hostname, port } = new URL(hbd.httpUrl);
    const socket = net.connect(Number(port), hostname);
    socket.pause();
    socket.on('error', () => {});
    socket.write(
      `GET /ws HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    return socket;
  }

  /** The daemon's peak resident memory so far, in MB. */
  const peakRssMb = () =>
    Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${hbd.process.pid}/status`, 'utf8'))![1]) / 1024;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hbd-read-side-'));
    const path = join(dir, 'hb.yaml');
    writeFileSync(
      path,
      stringify({
        hb_host: '127.0.0.1',
        hb_port: 0,
        hbd_port: 0,
        pickfile: 'state.sqlite',
        logfmt: 'json',
        interval: 600,
        grace: 600,
        // 128 KiB once the kernel has doubled it: a loop held for ~100 ms overflows it.
        udp_rcvbuf: 65_536,
        limits: {
          new_hosts_per_minute: 100_000,
          // The budget would turn most of these clients away; here the read side must hold without it.
          snapshots_per_minute: 100_000,
          // Above what the live hosts' heartbeats can add up to (merged by host, ~190 KB), so a
          // client that reads is never cut off; the big hosts' heartbeats pass it.
          client_buffer_bytes: MIB,
          client_stall_seconds: 30,
        },
      }),
    );
    hbd = await serveHbd(['serve', '-c', path]);
    await createHosts(
      Array.from({ length: FLEET }, (_, i) => encodeHeartbeat({ host: `big${i}`, fields: FIELDS })),
      20,
    );
    await createHosts(
      Array.from({ length: LIVE }, (_, i) => encodeHeartbeat({ host: `live${i}`, msg: LIVE_MSG })),
      50,
    );
    expect(await knownHosts()).toBe(FLEET + LIVE);
  }, 60_000);

  afterAll(async () => {
    udp.close();
    if (hbd && hbd.process.exitCode === null) {
      hbd.process.kill('SIGKILL');
      await hbd.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts as many heartbeats while four clients loop snapshots (/ws and /api/hosts) as without them', {
    timeout: 30_000,
  }, async () => {
    const control = await acceptedShare();
    let feeds: { whole: number; cut: number }[] = [];
    let reads: number[] = [];
    const loaded = await acceptedShare(async (until) => {
      [feeds, reads] = await Promise.all([
        Promise.all([loopFeed(until), loopFeed(until)]),
        Promise.all([loopHosts(until), loopHosts(until)]),
      ]);
    });
    console.log(
      `read side: accepted ${control} alone, ${loaded} while looping; ${JSON.stringify({ feeds, reads })}`,
    );
    expect(control).toBeGreaterThan(0.9);
    expect(loaded / control).toBeGreaterThanOrEqual(0.98);
    // Each looping client did read the whole fleet, and none was cut off: the load was there.
    for (const count of [...reads, ...feeds.map((feed) => feed.whole)]) expect(count).toBeGreaterThan(0);
    for (const feed of feeds) expect(feed.cut).toBe(0);
  });

  it('cuts off clients that never read at client_buffer_bytes, holds no memory for them, and ingest carries on', {
    timeout: 30_000,
  }, async () => {
    const control = await acceptedShare();
    const peakBefore = peakRssMb();
    const stalled: net.Socket[] = [];
    const loaded = await acceptedShare(async () => {
      for (let i = 0; i < STALLED_CLIENTS; i++) stalled.push(await stalledFeed());
    });
    const peakGrowthMb = peakRssMb() - peakBefore;

    // 400 big hosts beat: ~1.5 MB of frames that cannot merge, past client_buffer_bytes (1 MiB)
    // for a client that reads nothing. Paced, so the small receive buffer does not overflow.
    for (let i = 0; i < 400; i++) {
      await send(encodeHeartbeat({ host: `big${i}`, fields: FIELDS }));
      if (i % 20 === 19) await sleep(20);
    }
    // Each is told to go long before client_stall_seconds (30 s): by the byte bound.
    const closed = await Promise.all(
      stalled.map(
        (socket) =>
          new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), 5000);
            socket.once('close', () => {
              clearTimeout(timer);
              resolve(true);
            });
            socket.resume();
          }),
      ),
    );
    for (const socket of stalled) socket.destroy();
    console.log(
      `read side: accepted ${control} alone, ${loaded} with stalled clients; peak RSS +${peakGrowthMb} MB`,
    );
    expect(closed.filter(Boolean)).toHaveLength(STALLED_CLIENTS);
    expect(loaded / control).toBeGreaterThanOrEqual(0.98);
    // The old feed built and buffered the whole 15 MB snapshot for every one of them.
    expect(peakGrowthMb).toBeLessThan(100);
  });
});

describe('the snapshot budget: limits.snapshots_per_minute per client address', () => {
  /** From 1,000 hosts on, a whole-fleet read costs one snapshot; below, its share of 1,000. */
  const FLEET = 1000;
  let hbd: TestDaemon;
  const wsUrl = () => hbd.url('/ws').replace('http', 'ws');

  /** The status of a /ws upgrade from `localAddress`, with its Retry-After when refused. */
  const openFeed = (localAddress = '127.0.0.1') =>
    new Promise<{ status: number; retryAfter?: string }>((resolve, reject) => {
      const ws = new WebSocket(wsUrl(), { localAddress });
      ws.on('open', () => {
        ws.terminate();
        resolve({ status: 101 });
      });
      ws.on('unexpected-response', (_request, response) => {
        resolve({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'] });
        ws.terminate();
      });
      ws.on('error', reject);
    });

  beforeAll(async () => {
    hbd = await startTestDaemon({
      interval: 600,
      grace: 600,
      limits: { new_hosts_per_minute: 100_000, snapshots_per_minute: 3 },
    });
    const { hosts } = hbd.daemon;
    for (let round = 0; round < 5 && hosts.count < FLEET; round++) {
      for (let i = 0; i < FLEET; i++) {
        const name = `h${String(i).padStart(4, '0')}`;
        if (hosts.has(name)) continue;
        await hbd.send(`host=${name} status=${i % 10 === 0 ? 'warn' : 'ok'}`);
        if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
      }
      await sleep(100);
    }
    expect(hosts.count).toBe(FLEET);
  }, 30_000);

  afterAll(async () => {
    await hbd?.stop();
  });

  it('pages through the hosts with limit and after, filters included, for what one read costs', async () => {
    const seen: string[] = [];
    let path: string | undefined = '/api/hosts?status=warn&limit=30';
    let pages = 0;
    while (path !== undefined) {
      const response = await fetch(hbd.url(path));
      expect(response.status).toBe(200);
      const page = (await response.json()) as { name: string; status: string }[];
      for (const host of page) expect(host.status).toBe('warn');
      seen.push(...page.map((host) => host.name));
      path = /^<([^>]+)>; rel="next"$/.exec(response.headers.get('link') ?? '')?.[1];
      pages++;
    }
    expect(pages).toBe(4);
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => `h${String(i * 10).padStart(4, '0')}`));
    // A hundred hosts of a thousand: a tenth of the budget of one snapshot, so three are left.
    expect((await openFeed()).status).toBe(101);
  });

  it('answers 429 with Retry-After past the budget, for /ws and /api/hosts alike, per address', async () => {
    const statuses = [await openFeed(), await openFeed(), await openFeed()].map((answer) => answer.status);
    expect(statuses).toContain(101);
    const refused = await openFeed();
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);

    const hosts = await fetch(hbd.url('/api/hosts'));
    expect(hosts.status).toBe(429);
    expect(Number(hosts.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await hosts.json()) as { error: string }).error).toMatch(/snapshots a minute/);

    // Another address has a budget of its own; one host is a thousandth of a snapshot.
    expect((await openFeed('127.0.0.2')).status).toBe(101);
    expect((await fetch(hbd.url('/api/hosts/h0001'))).status).toBe(200);
    expect((await fetch(hbd.url('/healthz'))).status).toBe(200);
  });
});
