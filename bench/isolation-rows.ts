/** The table's lines for measurements 7 and 8: heartbeats accepted under read load, and snapshot times. */
import {
  BENCH_LIMITS,
  describeReaders,
  ISOLATION_HOSTS,
  ISOLATION_RATE,
  type IsolationCase,
  type IsolationRun,
  LOOPING_CLIENTS,
  median,
  SNAPSHOT_HOSTS,
  type SnapshotTiming,
  STALLED_CLIENTS,
} from './measure-isolation.js';
import { formatBytes, type Row } from './report.js';
import type { ReadOutcome } from './snapshot-reads.js';

/** Heartbeats accepted under read load, as a share of those accepted with no readers (issue 8). */
const ACCEPTED_VS_BASELINE = 0.999;
/**
 * The bench's bar for the largest piece a snapshot arrives in: what hbd builds at once should
 * be a bounded chunk, not the whole fleet as one string.
 */
const LARGEST_PIECE_BYTES = 1_000_000;

function daemonState(result: IsolationCase | undefined): string {
  if (!result) return '';
  const { trial } = result;
  return (
    `${trial.received.toLocaleString('en-US')} of ${trial.sent.toLocaleString('en-US')} accepted, ` +
    `hbd at ${(trial.receiverCpu * 100).toFixed(0)} % of a core, longest stall ${trial.receiverMaxStallMs.toFixed(0)} ms, ` +
    `worst /healthz ${result.worstHealthMs.toFixed(0)} ms, peak RSS ${formatBytes(result.peakRss)}`
  );
}

function readersCase(
  measure: string,
  result: IsolationCase | undefined,
  baseline: IsolationCase | undefined,
): Row {
  const ratio =
    result && baseline && baseline.acceptedShare > 0 ? result.acceptedShare / baseline.acceptedShare : null;
  return {
    measure,
    value: result ? result.acceptedShare * 100 : null,
    unit: '%',
    target: { atLeast: true, value: ACCEPTED_VS_BASELINE * 100, hint: ' of no readers' },
    baselineOf: 'no readers',
    ratio,
    verdict: ratio === null ? 'FAILED' : ratio >= ACCEPTED_VS_BASELINE ? 'PASS' : 'MISS',
    note: result
      ? `${daemonState(result)}; ${result.readers ? describeReaders(result.readers) : ''}; ` +
        `limits.snapshots_per_minute raised to ${BENCH_LIMITS.snapshots_per_minute.toLocaleString('en-US')} ` +
        'in the bench config, so that the clients are served rather than refused'
      : undefined,
  };
}

function readTime(
  measure: string,
  reads: readonly ReadOutcome[] | undefined,
  timing: SnapshotTiming | undefined,
): Row {
  const value = reads && reads.length > 0 ? median(reads.map((read) => read.ms)) : null;
  const last = reads?.at(-1);
  // A read that stopped short (a snapshot format this bench does not know) times nothing.
  const incomplete = reads?.some((read) => read.hosts !== timing?.hosts) ?? false;
  return {
    measure,
    value,
    unit: 'ms',
    target: null,
    baselineOf: null,
    noBaseline: true,
    ratio: null,
    verdict: value === null || incomplete ? 'FAILED' : 'info',
    note:
      last && timing
        ? `${incomplete ? 'INCOMPLETE: a read did not get every host; ' : ''}median of ${reads!.length}, one after the other (${reads!.map((read) => read.ms.toFixed(0)).join(', ')} ms); ` +
          `${last.hosts.toLocaleString('en-US')} hosts received of ${timing.hosts.toLocaleString('en-US')}, ` +
          `${formatBytes(last.bytes)} in ${last.pieces} piece(s)` +
          (last.pages !== undefined ? ` over ${last.pages} page(s)` : '') +
          `; during the reads: worst /healthz ${timing.worstHealthMs.toFixed(0)} ms, hbd peak RSS ${formatBytes(timing.peakRss)}`
        : undefined,
  };
}

function largestPiece(measure: string, reads: readonly ReadOutcome[] | undefined, what: string): Row {
  const value = reads && reads.length > 0 ? Math.max(...reads.map((read) => read.largestPiece)) : null;
  const target = { atLeast: false, value: LARGEST_PIECE_BYTES, hint: ' (bench bar)' };
  return {
    measure,
    value,
    unit: 'B',
    target,
    baselineOf: null,
    noBaseline: true,
    ratio: null,
    verdict: value === null ? 'FAILED' : value <= target.value ? 'PASS' : 'MISS',
    note: `measured by the client: ${what}, which hbd wrote in one piece; a lower bound on the largest string it built`,
  };
}

export function isolationRows(
  isolation: IsolationRun | undefined,
  timing: SnapshotTiming | undefined,
): Row[] {
  const baseline = isolation?.cases.baseline;
  const drops = Object.entries(isolation?.dropped ?? {}).map(([reason, count]) => `${count} ${reason}`);
  const fleet = `${ISOLATION_HOSTS / 1000}k hosts, ${ISOLATION_RATE.toLocaleString('en-US')} signed hb/s`;
  const hosts = `${SNAPSHOT_HOSTS / 1000}k hosts`;
  return [
    {
      measure: `7. accepted, ${fleet}, no readers`,
      value: baseline ? baseline.acceptedShare * 100 : null,
      unit: '%',
      target: null,
      baselineOf: null,
      ratio: baseline ? 1 : null,
      verdict: baseline ? 'baseline' : 'FAILED',
      note: baseline
        ? `${daemonState(baseline)}` +
          (drops.length > 0 ? `; hbd dropped (bench bug?): ${drops.join(', ')}` : '')
        : undefined,
    },
    readersCase(
      `7. accepted, + ${LOOPING_CLIENTS} clients looping /ws snapshots`,
      isolation?.cases.looping,
      baseline,
    ),
    readersCase(
      `7. accepted, + ${STALLED_CLIENTS} /ws clients never reading`,
      isolation?.cases.stalled,
      baseline,
    ),
    readTime(`8. /ws snapshot, ${hosts} (connect → last frame)`, timing?.feed, timing),
    largestPiece(
      `8. largest /ws frame, ${hosts}`,
      timing?.feed,
      'the largest WebSocket frame payload of the snapshot',
    ),
    readTime(`8. /api/hosts, ${hosts} (request → end)`, timing?.api, timing),
    largestPiece(
      `8. largest /api/hosts chunk, ${hosts}`,
      timing?.api,
      'the largest HTTP chunk (a Content-Length body counts whole)',
    ),
  ];
}
