/** The table's lines for measurement 10: hbd as a cluster on PostgreSQL. */
import { PROPAGATION_SLACK_MS, SHARE_PERIOD_MS } from '../src/cluster/share.js';
import type { FailoverTrial } from './cluster-failover.js';
import {
  type ClusterIngest,
  type ClusterRun,
  cpuLine,
  STEADY_SHARE,
  separateMachines,
} from './measure-cluster.js';
import { fmtRate } from './rate-search.js';
import { type Row, ratioOf } from './report.js';

/** What each process used while the fastest passing trial was sent. */
function cpuNote(ingest: ClusterIngest, cpus: number): string {
  const pass = ingest.search.fastestPass;
  const cpu = ingest.cpuAtPass;
  if (!pass || !cpu) return 'no rate passed';
  return (
    `CPU (% of a core) while sending at ${fmtRate(pass.achieved)}: ${cpuLine(cpu)}` +
    (ingest.search.senderLimited ? '; the senders, not the nodes, were the limit' : '') +
    (ingest.store === 'postgresql' ? `; ${separateMachines(cpu, pass.achieved, ingest.nodes, cpus)}` : '')
  );
}

function ingestRow(
  measure: string,
  ingest: ClusterIngest | undefined,
  baseline: ClusterIngest | undefined,
  cpus: number,
): Row {
  const value = ingest?.search.sustained ?? null;
  const isBaseline = ingest !== undefined && ingest === baseline;
  const drops = Object.entries(ingest?.dropped ?? {}).map(([reason, count]) => `${count} ${reason}`);
  return {
    measure,
    value,
    unit: '/s',
    atLeast: ingest?.search.senderLimited,
    target: null,
    baselineOf: isBaseline ? null : '1 SQLite node',
    ratio: isBaseline ? (value === null ? null : 1) : ratioOf(value, baseline?.search.sustained),
    verdict: value === null ? 'FAILED' : isBaseline ? 'baseline' : 'info',
    note: ingest
      ? cpuNote(ingest, cpus) + (drops.length > 0 ? `; hbd dropped (bench bug?): ${drops.join(', ')}` : '')
      : undefined,
  };
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? null : sorted[Math.floor((sorted.length - 1) / 2)]!;
};

/** Worst of the trials, with the median, the best and the margin over the lease in the note. */
function failoverRow(
  measure: string,
  trials: readonly FailoverTrial[] | undefined,
  leaseMs: number,
  pick: (trial: FailoverTrial) => number | null,
  target: Row['target'],
  more: string,
): Row {
  const seen = (trials ?? []).map(pick).filter((value): value is number => value !== null);
  const missing = (trials?.length ?? 0) - seen.length;
  const worst = seen.length > 0 ? Math.max(...seen) : null;
  const mid = median(seen);
  const verdict: Row['verdict'] =
    worst === null || missing > 0
      ? trials
        ? 'MISS'
        : 'FAILED'
      : target
        ? worst <= target.value
          ? 'PASS'
          : 'MISS'
        : 'info';
  return {
    measure,
    value: worst,
    unit: 'ms',
    target,
    baselineOf: `lease (${leaseMs / 1000} s)`,
    ratio: ratioOf(worst, leaseMs),
    verdict,
    note:
      mid === null
        ? 'no trial got that far'
        : `median ${mid} ms, best ${Math.min(...seen)} ms of ${seen.length} trials` +
          (missing > 0 ? ` (${missing} never did within 20 s)` : '') +
          `; minus the lease: median ${mid - leaseMs} ms, worst ${worst! - leaseMs} ms${more}`,
  };
}

export function clusterRows(cluster: ClusterRun | undefined): Row[] {
  const ingest = cluster?.ingest ?? {};
  const cpus = cluster?.cpus ?? 0;
  const hosts = (cluster?.hosts ?? 10_000).toLocaleString('en-US');
  const steady = ingest.pg3?.steady;
  const db = steady?.db;
  const lag = cluster?.lag;
  const worstOf = (pick: (node: NonNullable<typeof lag>['nodes'][number]) => number | null) => {
    const values = (lag?.nodes ?? []).map(pick).filter((value): value is number => value !== null);
    return values.length > 0 ? Math.max(...values) : null;
  };
  const lagP50 = worstOf((node) => node.p50Ms);
  const lagP99 = worstOf((node) => node.p99Ms);
  const lagNote = lag
    ? `worst node of ${lag.nodes.length}, /api/cluster propagation over its last samples: ` +
      `${lag.nodes.map((node) => `${node.node} ${node.p50Ms ?? 'n/a'}/${node.p99Ms ?? 'n/a'} ms`).join(', ')} (p50/p99); ` +
      `all nodes' histograms over the ${lag.seconds} s: p50 ~${lag.histogram.p50Ms?.toFixed(0) ?? 'n/a'} ms, ` +
      `p99 ~${lag.histogram.p99Ms?.toFixed(0) ?? 'n/a'} ms of ${lag.histogram.samples.toLocaleString('en-US')} samples ` +
      `(interpolated in buckets); ${lag.accepted.toLocaleString('en-US')}/${lag.sent.toLocaleString('en-US')} accepted`
    : undefined;
  const lagTarget = (value: number, hint: string) => ({ atLeast: false, value, hint });
  const lagVerdict = (value: number | null, target: number): Row['verdict'] =>
    value === null ? 'FAILED' : value <= target ? 'PASS' : 'MISS';
  const failover = cluster?.failover;
  const leaseMs = (failover?.leaseSeconds ?? 2) * 1000;
  const trials = failover?.trials;
  const firstEvents = [
    ...new Set((trials ?? []).flatMap((trial) => (trial.firstEvent ? [trial.firstEvent] : []))),
  ];
  return [
    ingestRow(`10. baseline: 1 node, SQLite, ${hosts} hosts, signed`, ingest.sqlite, ingest.sqlite, cpus),
    ingestRow('10. 1 node, PostgreSQL (cluster of one)', ingest.pg1, ingest.sqlite, cpus),
    ingestRow('10. 2 nodes, PostgreSQL, fleet split', ingest.pg2, ingest.sqlite, cpus),
    ingestRow('10. 3 nodes, PostgreSQL, fleet split', ingest.pg3, ingest.sqlite, cpus),
    {
      measure: '10. PostgreSQL transactions, 3 nodes',
      value: db?.transactions ?? null,
      unit: '/s',
      target: null,
      baselineOf: null,
      noBaseline: true,
      ratio: null,
      verdict: db ? 'info' : 'FAILED',
      note: db
        ? `pg_stat_database over ${steady!.windowSeconds.toFixed(0)} s of a steady 3-node run at ` +
          `${fmtRate(steady!.achieved)} (${STEADY_SHARE * 100} % of the sustained rate; loss ${(steady!.loss * 100).toFixed(2)} %): ` +
          `rows ${fmtRate(db.inserted)} inserted, ` +
          `${fmtRate(db.updated)} updated, ${fmtRate(db.deleted)} deleted, ${fmtRate(db.fetched)} fetched, ` +
          `${fmtRate(db.returned)} returned; a transaction is one statement or one short transaction of hbd's`
        : undefined,
    },
    {
      measure: '10. propagation lag p50, 3 nodes, 2,000/s',
      value: lagP50,
      unit: 'ms',
      target: lagTarget(2 * SHARE_PERIOD_MS, ' (2 share periods)'),
      baselineOf: null,
      noBaseline: true,
      ratio: null,
      verdict: lagVerdict(lagP50, 2 * SHARE_PERIOD_MS),
      note: lagNote,
    },
    {
      measure: '10. propagation lag p99, 3 nodes, 2,000/s',
      value: lagP99,
      unit: 'ms',
      target: lagTarget(PROPAGATION_SLACK_MS, ' (the slack late waits)'),
      baselineOf: null,
      noBaseline: true,
      ratio: null,
      verdict: lagVerdict(lagP99, PROPAGATION_SLACK_MS),
    },
    failoverRow(
      '10. failover: lease taken (worst of 10)',
      trials,
      leaseMs,
      (trial) => trial.leaseTakenMs,
      { atLeast: false, value: (leaseMs * 4) / 3, hint: ' (lease + a claim period)' },
      `; leader kill -9'd, lease ${leaseMs / 1000} s (cluster.lease: 2), ${failover?.hosts ?? 200} hosts beating to every node`,
    ),
    failoverRow(
      '10. failover: new leader says so (worst of 10)',
      trials,
      leaseMs,
      (trial) => trial.logLineMs,
      null,
      '; its log line "leads the cluster now", printed once it has taken over',
    ),
    failoverRow(
      '10. failover: first event stored (worst of 10)',
      trials,
      leaseMs,
      (trial) => trial.firstEventMs,
      null,
      `; a host's down due 0.5 s after the kill, stored by the new leader: ${firstEvents.slice(0, 2).join('; ')}` +
        (firstEvents.length > 2 ? '; …' : ''),
    ),
  ];
}
