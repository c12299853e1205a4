/**
 * Child process: the readers of the isolation bench, in a process of their own so that their
 * parsing never delays the orchestrator. Clients that loop connect → snapshot → close, clients
 * that open `/ws` and never read, and single timed reads of `/ws` and `/api/hosts`.
 */
import type net from 'node:net';
import { serveParent, sleep } from './ipc.js';
import { openStalledFeed } from './raw-ws.js';
import { type ReadOutcome, RefusedError, readAllHosts, readFeedSnapshot } from './snapshot-reads.js';

/** One read may not take longer: a frozen daemon must not freeze the bench. */
const READ_TIMEOUT_MS = 60_000;
/** After a refusal (rate limit): a pause, so that a refused client does not spin. */
const REFUSED_PAUSE_MS = 100;

export interface LoopStats {
  snapshots: number;
  apiReads: number;
  /** Snapshot read times (connect → last snapshot frame), sorted. */
  snapshotMs: number[];
  /** Refusals by HTTP status (429: rate limited, 503: too many clients). */
  refused: Record<string, number>;
  errors: number;
  firstError: string | undefined;
  stalledOpened: number;
}

let stopping = false;
/** Ends the reads in flight when the case ends. */
let stop = new AbortController();
let loops: Promise<void>[] = [];
let stalled: net.Socket[] = [];
let stats = emptyStats();

function emptyStats(): LoopStats {
  return {
    snapshots: 0,
    apiReads: 0,
    snapshotMs: [],
    refused: {},
    errors: 0,
    firstError: undefined,
    stalledOpened: 0,
  };
}

async function loopReads(url: string, alsoApi: boolean): Promise<void> {
  const attempt = async (read: () => Promise<ReadOutcome>, done: (outcome: ReadOutcome) => void) => {
    try {
      done(await read());
    } catch (error) {
      // A read cut short by the end of the case is not an error.
      if (stopping) return;
      if (error instanceof RefusedError) {
        stats.refused[error.status] = (stats.refused[error.status] ?? 0) + 1;
        await sleep(REFUSED_PAUSE_MS);
        return;
      }
      stats.errors++;
      stats.firstError ??= error instanceof Error ? error.message : String(error);
      await sleep(REFUSED_PAUSE_MS);
    }
  };
  while (!stopping) {
    await attempt(
      () => readFeedSnapshot(url, READ_TIMEOUT_MS, { signal: stop.signal, countHosts: false }),
      (outcome) => {
        if (stopping) return;
        stats.snapshots++;
        stats.snapshotMs.push(outcome.ms);
      },
    );
    if (alsoApi && !stopping) {
      await attempt(
        () => readAllHosts(url, READ_TIMEOUT_MS, stop.signal),
        () => {
          if (!stopping) stats.apiReads++;
        },
      );
    }
  }
}

serveParent({
  /** Starts `clients` loops; the first of them also reads `/api/hosts` after each snapshot. */
  loop(body) {
    const { url, clients } = body as { url: string; clients: number };
    stopping = false;
    stop = new AbortController();
    stats = emptyStats();
    loops = Array.from({ length: clients }, (_, index) => loopReads(url, index === 0));
    return {};
  },
  /** Opens `clients` feeds that never read; resolves when every upgrade request has been sent. */
  async stall(body) {
    const { url, clients } = body as { url: string; clients: number };
    stopping = false;
    stats = emptyStats();
    stalled = await Promise.all(Array.from({ length: clients }, () => openStalledFeed(url)));
    stats.stalledOpened = stalled.length;
    return {};
  },
  /** Ends the loops, cutting short the reads in flight, and the stalled clients. */
  async stop() {
    stopping = true;
    stop.abort();
    for (const socket of stalled) socket.destroy();
    stalled = [];
    await Promise.all(loops);
    loops = [];
    stats.snapshotMs.sort((a, b) => a - b);
    return stats;
  },
  readFeed(body) {
    return readFeedSnapshot((body as { url: string }).url, READ_TIMEOUT_MS, { countHosts: true });
  },
  readHosts(body) {
    return readAllHosts((body as { url: string }).url, READ_TIMEOUT_MS);
  },
});
