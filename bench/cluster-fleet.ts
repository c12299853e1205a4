/**
 * Child process: a small live fleet for the failover trials. Each host beats once a second
 * (`every: 1`), signed, and each heartbeat goes to every node, as a fleet pointed at all the
 * nodes of a cluster would send it. One host at a time can be silenced, so that the new leader
 * has a `down` to store.
 */
import dgram from 'node:dgram';
import { encodeHeartbeat } from '../src/protocol/encode.js';
import { BENCH_SECRET } from './datagrams.js';
import { serveParent } from './ipc.js';
import { hostName } from './names.js';

const EVERY_S = 1;
/** Hosts due within a tick go out together; beats stay spread over the second. */
const TICK_MS = 10;

let ports: number[] = [];
let names: string[] = [];
let nextAt: number[] = [];
let seq: number[] = [];
/** Wall-clock time (ms) of each host's last heartbeat. */
let lastSentAt: number[] = [];
const silenced = new Set<number>();
let timer: NodeJS.Timeout | undefined;
const socket = dgram.createSocket('udp4');

function tick(): void {
  const now = performance.now();
  for (let index = 0; index < names.length; index++) {
    if (nextAt[index]! > now) continue;
    nextAt[index]! += EVERY_S * 1000;
    // A host that fell far behind (a stalled process) resumes on time rather than in a burst.
    if (nextAt[index]! < now) nextAt[index] = now + EVERY_S * 1000;
    if (silenced.has(index)) continue;
    const wall = Date.now();
    const datagram = encodeHeartbeat(
      { host: names[index]!, ts: wall / 1000, seq: ++seq[index]!, every: EVERY_S, status: 'ok' },
      { secret: BENCH_SECRET },
    );
    for (const port of ports) socket.send(datagram, port, '127.0.0.1');
    lastSentAt[index] = wall;
  }
}

serveParent({
  start(body) {
    const { hosts, ports: to } = body as { hosts: number; ports: number[] };
    ports = to;
    names = Array.from({ length: hosts }, (_, index) => hostName(index));
    const start = performance.now();
    nextAt = names.map((_, index) => start + (index * EVERY_S * 1000) / hosts);
    seq = names.map(() => 0);
    lastSentAt = names.map(() => 0);
    timer = setInterval(tick, TICK_MS);
    return { pid: process.pid, names };
  },
  /** A node restarted on other ports. */
  ports(body) {
    ports = (body as { ports: number[] }).ports;
    return {};
  },
  /** Stops one host's heartbeats; returns when it last beat (wall clock, ms). */
  silence(body) {
    const { index } = body as { index: number };
    silenced.add(index);
    return { lastSentAt: lastSentAt[index]! };
  },
  resume(body) {
    silenced.delete((body as { index: number }).index);
    return {};
  },
  stop() {
    clearInterval(timer);
    return {};
  },
});
