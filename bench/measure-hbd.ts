/**
 * Measurements 2 and 3: the real daemon in a child process, fed by the paced sender,
 * 100,000 distinct hosts round-robin. Loss counts what hbd did not accept.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_SECRET } from './datagrams.js';
import { BenchChild, sleep } from './ipc.js';
import type { ReceiverProbe } from './probe.js';
import { type Receiver, runTrial, type SearchOutcome, searchSustainedRate } from './rate-search.js';
import { INGEST_HOSTS, RECEIVE_BUFFER_BYTES } from './settings.js';

/** Slow enough that hbd takes every first heartbeat (each writes an event to SQLite). */
const WARMUP_RATE = 20_000;
/** Each round loses a few first heartbeats on a busy machine; the next ones find what is left. */
const WARMUP_ROUNDS = 6;
/** hbd stores routine changes within a second: let the warm-up's last flush pass before timing. */
const SETTLE_MS = 1500;

interface HbdCounters {
  received: number;
  accepted: number;
  dropped: Record<string, number>;
  hosts: number;
}

export interface HbdIngest {
  search: SearchOutcome;
  grantedBufferSize: number;
  /** Drops by reason over the whole run: anything but none means the bench sent something hbd rejects. */
  dropped: Record<string, number>;
}

export async function measureHbdIngest(signed: boolean, log: (line: string) => void): Promise<HbdIngest> {
  const dir = mkdtempSync(join(tmpdir(), 'hbd-bench-'));
  const children: BenchChild[] = [];
  try {
    const daemon = await BenchChild.start('hbd', new URL('./hbd-sink.js', import.meta.url));
    children.push(daemon);
    const sender = await BenchChild.start('sender', new URL('./sender.js', import.meta.url));
    children.push(sender);
    const { port, grantedBufferSize } = await daemon.request<{ port: number; grantedBufferSize: number }>(
      'start',
      {
        dir,
        auth: signed ? 'required' : 'optional',
        keys: signed ? { '*': BENCH_SECRET } : {},
        receiveBufferSize: RECEIVE_BUFFER_BYTES,
        // The warm-up makes every host known at once, far past the default budget for new hosts.
        config: { limits: { new_hosts_per_minute: INGEST_HOSTS } },
      },
    );
    log(`  SO_RCVBUF: asked ${RECEIVE_BUFFER_BYTES} bytes, kernel granted ${grantedBufferSize}`);
    await sender.request('init', { port, hosts: INGEST_HOSTS, signed });
    const counters = () => daemon.request<HbdCounters>('counters');
    const receiver: Receiver = {
      count: async () => (await counters()).accepted,
      probe: () => daemon.request<ReceiverProbe>('probe'),
    };
    await warmUp(sender, receiver, counters, log);
    const search = await searchSustainedRate((rate) => runTrial(sender, receiver, rate), log);
    const { dropped } = await counters();
    await daemon.request('stop', {}, 15_000);
    return { search, grantedBufferSize, dropped };
  } finally {
    for (const child of children) child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Makes every host known before timing: a first heartbeat costs more (an event is stored) than the rest. */
async function warmUp(
  sender: BenchChild,
  receiver: Receiver,
  counters: () => Promise<HbdCounters>,
  log: (line: string) => void,
): Promise<void> {
  for (let round = 1; round <= WARMUP_ROUNDS; round++) {
    await runTrial(sender, receiver, WARMUP_RATE, INGEST_HOSTS / WARMUP_RATE);
    const { hosts } = await counters();
    log(`  warm-up round ${round}: ${hosts.toLocaleString('en-US')} hosts known`);
    if (hosts >= INGEST_HOSTS) {
      await sleep(SETTLE_MS);
      return;
    }
  }
  throw new Error(`hbd knows fewer than ${INGEST_HOSTS} hosts after ${WARMUP_ROUNDS} warm-up rounds`);
}
