/**
 * Measurement 6: HTTP push pings (docs/push.md). The real daemon in a child process, with
 * 1,000 push hosts, takes GET /ping/{token} from autocannon in another process, 50 keep-alive
 * connections, every host in turn. The baseline is a bare node:http server answering 200 OK
 * under the same load. Server and load generator are pinned to different CPUs where possible.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchChild, sleep } from './ipc.js';
import type { ReceiverProbe } from './probe.js';
import type { LoadReport } from './push-load.js';

export const PUSH_HOSTS = 1000;
export const PUSH_CONNECTIONS = 50;
const MEASURE_SECONDS = 10;
/** After every host's first ping (which stores an event): long enough for the JIT to settle. */
const WARMUP_SECONDS = 3;
/** hbd stores routine changes within a second: let the warm-up's last flush pass before timing. */
const SETTLE_MS = 1500;
const SERVER_CPU = 0;
const LOAD_CPU = 1;

export interface PushLoadRun {
  load: LoadReport;
  /** The server's CPU time over the run's time: 1 is a whole core. */
  serverCpu: number;
  /** Server and load generator each had a CPU of their own. */
  pinned: boolean;
}

export interface PushRun extends PushLoadRun {
  /** Pings hbd counted as taken during the measured run: must equal the 2xx answers. */
  applied: number;
  hostsUp: number;
  hosts: number;
  /** Pings hbd refused over the whole run (unknown token): any means a bench bug. */
  refused: number;
}

export async function measureHttpBaseline(log: (line: string) => void): Promise<PushLoadRun> {
  const children: BenchChild[] = [];
  try {
    const server = await BenchChild.start('http-baseline', new URL('./http-baseline.js', import.meta.url));
    children.push(server);
    const { url } = await server.request<{ url: string }>('start');
    const run = await driveLoad(server, url, pingPaths(tokens()), children, log);
    return run;
  } finally {
    for (const child of children) child.kill();
  }
}

export async function measurePushPings(log: (line: string) => void): Promise<PushRun> {
  const dir = mkdtempSync(join(tmpdir(), 'hbd-bench-push-'));
  const children: BenchChild[] = [];
  try {
    const daemon = await BenchChild.start('hbd', new URL('./push-daemon.js', import.meta.url));
    children.push(daemon);
    const hostTokens = tokens();
    const { url } = await daemon.request<{ url: string }>('start', { dir, tokens: hostTokens });
    type Counters = { applied: number; unknown: number; hosts: number; up: number };
    const counters = () => daemon.request<Counters>('counters');
    let before: Counters | undefined;
    const run = await driveLoad(daemon, url, pingPaths(hostTokens), children, log, async () => {
      before = await counters();
    });
    const after = await counters();
    await daemon.request('stop', {}, 15_000);
    return {
      ...run,
      applied: after.applied - before!.applied,
      hostsUp: after.up,
      hosts: after.hosts,
      refused: after.unknown,
    };
  } finally {
    for (const child of children) child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Pings every path once (a first ping makes the host known, which costs more than the rest),
 * warms the server up for a few seconds, then sends as many requests as it took in
 * MEASURE_SECONDS at the warm-up's pace: a fixed count rather than a fixed time, so that every
 * request sent is also answered and counted (none is cut off in flight when the time is up).
 */
async function driveLoad(
  server: BenchChild,
  url: string,
  paths: string[],
  children: BenchChild[],
  log: (line: string) => void,
  beforeMeasuring?: () => Promise<void>,
): Promise<PushLoadRun> {
  const load = await BenchChild.start('autocannon', new URL('./push-load.js', import.meta.url));
  children.push(load);
  const pinned =
    (await server.request<{ pinned: boolean }>('pin', { cpu: SERVER_CPU })).pinned &&
    (await load.request<{ pinned: boolean }>('pin', { cpu: LOAD_CPU })).pinned;
  log(
    pinned
      ? `  server on CPU ${SERVER_CPU}, autocannon on CPU ${LOAD_CPU}`
      : '  (not pinned: one CPU or no taskset)',
  );
  const base = { url, paths, connections: PUSH_CONNECTIONS };
  await load.request<LoadReport>(
    'run',
    { ...base, amount: Math.max(PUSH_CONNECTIONS, paths.length) },
    60_000,
  );
  const warmUp = await load.request<LoadReport>('run', { ...base, seconds: WARMUP_SECONDS }, 60_000);
  log(`  warm-up: ${Math.round(warmUp.rate).toLocaleString('en-US')}/s for ${warmUp.seconds.toFixed(1)} s`);
  await sleep(SETTLE_MS);
  await beforeMeasuring?.();
  await server.request<ReceiverProbe>('probe');
  const amount = Math.max(PUSH_CONNECTIONS, Math.round(warmUp.rate * MEASURE_SECONDS));
  const measured = await load.request<LoadReport>('run', { ...base, amount }, 120_000);
  const probe = await server.request<ReceiverProbe>('probe');
  const serverCpu = probe.cpuSeconds / measured.seconds;
  log(
    `  ${Math.round(measured.rate).toLocaleString('en-US')}/s over ${measured.seconds.toFixed(1)} s ` +
      `(${measured.completed.toLocaleString('en-US')} requests), p50 ${measured.latencyP50Ms} ms, ` +
      `p99 ${measured.latencyP99Ms} ms, ${measured.non2xx} non-2xx, ${measured.errors} errors, ` +
      `server at ${(serverCpu * 100).toFixed(0)} % of a core`,
  );
  return { load: measured, serverCpu, pinned };
}

/** A fresh UUID per host, as Healthchecks.io gives each check. */
function tokens(): string[] {
  return Array.from({ length: PUSH_HOSTS }, () => randomUUID());
}

function pingPaths(hostTokens: readonly string[]): string[] {
  return hostTokens.map((token) => `/ping/${token}`);
}
