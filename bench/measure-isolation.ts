/**
 * Measurements 7 and 8: does the read side starve ingest? The real daemon in a child process
 * takes a steady fleet's signed heartbeats from the paced sender while reader clients (another
 * child) load it: none (the baseline), clients looping connect → snapshot → close, then
 * clients that open /ws and never read. Then, with 100,000 hosts, the time to serve one full
 * /ws snapshot and one full /api/hosts, and the largest piece each came in.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_SECRET } from './datagrams.js';
import { BenchChild, sleep } from './ipc.js';
import type { LoopStats } from './isolation-clients.js';
import type { ReceiverProbe } from './probe.js';
import { type Receiver, runTrial, type TrialLoad, type TrialOutcome } from './rate-search.js';
import { formatBytes } from './report.js';
import { RECEIVE_BUFFER_BYTES } from './settings.js';
import type { ReadOutcome } from './snapshot-reads.js';

export const ISOLATION_HOSTS = 10_000;
export const ISOLATION_RATE = 2_000;
export const LOOPING_CLIENTS = 4;
export const STALLED_CLIENTS = 50;
export const SNAPSHOT_HOSTS = 100_000;
/** Sending time of each case: at 2,000/s, 24,000 heartbeats, every host more than twice. */
const CASE_SECONDS = 12;
/** Every host's first heartbeat (which stores an event), before the cases. */
const WARMUP_RATE = 5_000;
const FILL_RATE = 10_000;
/** Each round resends every host: on a busy machine a round may lose some first heartbeats. */
const FILL_ROUNDS = 5;
/** After FILL_ROUNDS, this share of the hosts known is enough (the figures say how many). */
const FILL_ENOUGH = 0.99;
/** hbd stores routine changes within a second: let a warm-up's last flush pass before timing. */
const SETTLE_MS = 1500;
/** When the never-reading clients connect, after the sending started. */
const STALLED_AFTER_MS = 1000;
const TIMED_READS = 3;
const HEALTH_POLL_MS = 200;

/**
 * hbd's limits raised for the bench, so that the readers really load the daemon and the fill
 * is not cut: from one address the loops would otherwise be refused after
 * `snapshots_per_minute` (an attacker with more addresses gets as far), and 100,000 unsigned
 * hosts from loopback would be held by `new_hosts_per_minute`.
 */
export const BENCH_LIMITS = {
  snapshots_per_minute: 1_000_000,
  max_hosts: 1_000_000,
  new_hosts_per_minute: 1_000_000,
};

interface HbdCounters {
  accepted: number;
  dropped: Record<string, number>;
  hosts: number;
  rss: number;
}

export type IsolationCaseName = 'baseline' | 'looping' | 'stalled';

export interface IsolationCase {
  trial: TrialOutcome;
  /** Heartbeats hbd accepted over those sent. */
  acceptedShare: number;
  /** hbd's largest resident set size sampled during the case, in bytes. */
  peakRss: number;
  /** The slowest /healthz answer during the case (the poller waits for each). */
  worstHealthMs: number;
  readers: LoopStats | undefined;
}

export interface IsolationRun {
  cases: Partial<Record<IsolationCaseName, IsolationCase>>;
  dropped: Record<string, number>;
}

export interface SnapshotTiming {
  hosts: number;
  /** TIMED_READS reads of each, one after the other, with nothing else going on. */
  feed: ReadOutcome[];
  api: ReadOutcome[];
  worstHealthMs: number;
  peakRss: number;
}

interface Setup {
  daemon: BenchChild;
  sender: BenchChild;
  url: string;
  counters: () => Promise<HbdCounters>;
  receiver: Receiver;
}

/** A daemon with the bench's limits, and a sender initialised for `hosts` hosts. */
async function startDaemonAndSender(
  dir: string,
  children: BenchChild[],
  options: { hosts: number; signed: boolean; extras: boolean },
): Promise<Setup> {
  const daemon = await BenchChild.start('hbd', new URL('./hbd-sink.js', import.meta.url));
  children.push(daemon);
  const sender = await BenchChild.start('sender', new URL('./sender.js', import.meta.url));
  children.push(sender);
  const { port, url } = await daemon.request<{ port: number; url: string }>('start', {
    dir,
    auth: options.signed ? 'required' : 'optional',
    keys: options.signed ? { '*': BENCH_SECRET } : {},
    receiveBufferSize: RECEIVE_BUFFER_BYTES,
    config: { limits: BENCH_LIMITS },
  });
  await sender.request('init', {
    port,
    hosts: options.hosts,
    signed: options.signed,
    extras: options.extras,
  });
  const counters = () => daemon.request<HbdCounters>('counters');
  const receiver: Receiver = {
    count: async () => (await counters()).accepted,
    probe: () => daemon.request<ReceiverProbe>('probe'),
  };
  return { daemon, sender, url, counters, receiver };
}

/** Sends every host's heartbeats until hbd knows them all (a few rounds at most). */
async function fill(
  { sender, receiver, counters }: Setup,
  hosts: number,
  rate: number,
  log: (line: string) => void,
) {
  for (let round = 1; round <= FILL_ROUNDS; round++) {
    await runTrial(sender, receiver, rate, hosts / rate);
    const known = (await counters()).hosts;
    log(`  fill round ${round}: ${known.toLocaleString('en-US')} hosts known`);
    if (known >= hosts || (round === FILL_ROUNDS && known >= hosts * FILL_ENOUGH)) {
      await sleep(SETTLE_MS);
      return;
    }
  }
  throw new Error(
    `hbd knows fewer than ${FILL_ENOUGH * 100} % of ${hosts} hosts after ${FILL_ROUNDS} rounds`,
  );
}

/**
 * While running, samples hbd's RSS and times `/healthz`, one request after the other: a
 * daemon whose event loop is held answers late, and the worst answer shows for how long.
 */
function watchDaemon(url: string, counters: () => Promise<HbdCounters>) {
  let running = true;
  let worstHealthMs = 0;
  let peakRss = 0;
  const health = (async () => {
    while (running) {
      const start = performance.now();
      try {
        await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(60_000) }).then((response) =>
          response.text(),
        );
      } catch {
        // A refused or failed answer still took its time: counted below.
      }
      worstHealthMs = Math.max(worstHealthMs, performance.now() - start);
      await sleep(HEALTH_POLL_MS);
    }
  })();
  const memory = (async () => {
    while (running) {
      peakRss = Math.max(peakRss, (await counters()).rss);
      await sleep(HEALTH_POLL_MS);
    }
  })();
  return async () => {
    running = false;
    await Promise.all([health, memory]);
    return { worstHealthMs, peakRss };
  };
}

export async function measureIsolation(log: (line: string) => void): Promise<IsolationRun> {
  const dir = mkdtempSync(join(tmpdir(), 'hbd-bench-isolation-'));
  const children: BenchChild[] = [];
  try {
    const setup = await startDaemonAndSender(dir, children, {
      hosts: ISOLATION_HOSTS,
      signed: true,
      extras: false,
    });
    const clients = await BenchChild.start('readers', new URL('./isolation-clients.js', import.meta.url));
    children.push(clients);
    await fill(setup, ISOLATION_HOSTS, WARMUP_RATE, log);
    const cases: IsolationRun['cases'] = {};
    const startReaders: Record<IsolationCaseName, (() => Promise<unknown>) | undefined> = {
      baseline: undefined,
      looping: () => clients.request('loop', { url: setup.url, clients: LOOPING_CLIENTS }),
      // A second into the sending: hbd takes the 50 upgrades (and builds their snapshots) mid-stream.
      stalled: async () => {
        await sleep(STALLED_AFTER_MS);
        await clients.request('stall', { url: setup.url, clients: STALLED_CLIENTS });
      },
    };
    for (const [name, start] of Object.entries(startReaders) as [
      IsolationCaseName,
      (typeof startReaders)['baseline'],
    ][]) {
      let readers: LoopStats | undefined;
      // The readers start with the sending and end with it, before the drain.
      const load: TrialLoad | undefined = start && {
        whileSending: start,
        afterSending: async () => {
          readers = await clients.request<LoopStats>('stop', {}, 120_000);
        },
      };
      const stopWatching = watchDaemon(setup.url, setup.counters);
      const trial = await runTrial(setup.sender, setup.receiver, ISOLATION_RATE, CASE_SECONDS, load);
      const watched = await stopWatching();
      const result: IsolationCase = {
        trial,
        acceptedShare: trial.sent > 0 ? trial.received / trial.sent : 0,
        ...watched,
        readers,
      };
      cases[name] = result;
      log(describeCase(name, result));
      // The next case starts from a daemon at rest: closed clients freed, buffers gone.
      await sleep(SETTLE_MS);
    }
    const { dropped } = await setup.counters();
    await setup.daemon.request('stop', {}, 15_000);
    return { cases, dropped };
  } finally {
    for (const child of children) child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function measureSnapshotTiming(log: (line: string) => void): Promise<SnapshotTiming> {
  const dir = mkdtempSync(join(tmpdir(), 'hbd-bench-snapshot-'));
  const children: BenchChild[] = [];
  try {
    // Unsigned from loopback (an accepted network), each with a msg and two fields.
    const setup = await startDaemonAndSender(dir, children, {
      hosts: SNAPSHOT_HOSTS,
      signed: false,
      extras: true,
    });
    const clients = await BenchChild.start('readers', new URL('./isolation-clients.js', import.meta.url));
    children.push(clients);
    await fill(setup, SNAPSHOT_HOSTS, FILL_RATE, log);
    const stopWatching = watchDaemon(setup.url, setup.counters);
    const feed: ReadOutcome[] = [];
    const api: ReadOutcome[] = [];
    for (let read = 0; read < TIMED_READS; read++) {
      feed.push(await clients.request<ReadOutcome>('readFeed', { url: setup.url }, 120_000));
      log(`  /ws snapshot: ${describeRead(feed.at(-1)!)}`);
      api.push(await clients.request<ReadOutcome>('readHosts', { url: setup.url }, 120_000));
      log(`  /api/hosts:   ${describeRead(api.at(-1)!)}`);
    }
    const watched = await stopWatching();
    const { hosts } = await setup.counters();
    await setup.daemon.request('stop', {}, 15_000);
    return { hosts, feed, api, ...watched };
  } finally {
    for (const child of children) child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

function describeRead(outcome: ReadOutcome): string {
  return (
    `${outcome.ms.toFixed(0)} ms, ${outcome.hosts.toLocaleString('en-US')} hosts, ${formatBytes(outcome.bytes)} ` +
    `in ${outcome.pieces} piece(s)${outcome.pages !== undefined ? ` over ${outcome.pages} page(s)` : ''}` +
    `${outcome.chunked === false ? ' (Content-Length)' : ''}, largest ${formatBytes(outcome.largestPiece)}`
  );
}

/** A case's one line in the run's log. */
export function describeCase(name: string, result: IsolationCase): string {
  const { trial, readers } = result;
  return (
    `  ${name}: ${trial.received}/${trial.sent} accepted (${(result.acceptedShare * 100).toFixed(2)} %), ` +
    `sent at ${Math.round(trial.achieved)}/s; hbd CPU ${(trial.receiverCpu * 100).toFixed(0)} % of a core, ` +
    `longest stall ${trial.receiverMaxStallMs.toFixed(0)} ms, worst /healthz ${result.worstHealthMs.toFixed(0)} ms, ` +
    `peak RSS ${formatBytes(result.peakRss)}` +
    (readers ? `; readers: ${describeReaders(readers)}` : '')
  );
}

export function describeReaders(readers: LoopStats): string {
  const refused = Object.entries(readers.refused).map(([status, count]) => `${count}× ${status}`);
  const parts = [];
  if (readers.stalledOpened > 0) parts.push(`${readers.stalledOpened} never-reading /ws clients`);
  if (readers.snapshots > 0 || readers.stalledOpened === 0) {
    parts.push(
      `${readers.snapshots} /ws snapshots read (median ${median(readers.snapshotMs).toFixed(0)} ms), ` +
        `${readers.apiReads} /api/hosts`,
    );
  }
  if (refused.length > 0) parts.push(`refused ${refused.join(', ')}`);
  if (readers.errors > 0) parts.push(`${readers.errors} errors (first: ${readers.firstError})`);
  return parts.join(', ');
}
