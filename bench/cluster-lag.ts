/**
 * Propagation lag: a modest, steady fleet split over the nodes (each heartbeat heard by one
 * node), and how long the others took to apply it. Read two ways: each node's `/api/cluster`
 * percentiles (exact, over its last 4,096 samples) and the `hbd_cluster_propagation_lag_seconds`
 * histograms of /metrics (over the whole run, to the resolution of their buckets).
 */
import type { BenchNode } from './cluster-nodes.js';
import { type SplitFleet, steadyWindow } from './cluster-trial.js';

export const LAG_RATE = 2000;
export const LAG_SECONDS = 15;

/** A bucket line of the lag histogram: `…_bucket{le="0.2"} 123`. */
const BUCKET = /^hbd_cluster_propagation_lag_seconds_bucket\{le="([^"]+)"\} (\S+)$/;

export interface NodeLag {
  node: string;
  p50Ms: number | null;
  p99Ms: number | null;
  samples: number;
}

export interface LagRun {
  rate: number;
  seconds: number;
  hosts: number;
  sent: number;
  accepted: number;
  /** Each node's /api/cluster `propagation` at the end of the run. */
  nodes: NodeLag[];
  /** All nodes' histograms over the run, interpolated within buckets. */
  histogram: { p50Ms: number | null; p99Ms: number | null; samples: number };
}

export async function measureLag(fleet: SplitFleet, hosts: number): Promise<LagRun> {
  const before = await histograms(fleet.nodes);
  const run = await steadyWindow(fleet, LAG_RATE, undefined, LAG_SECONDS);
  const after = await histograms(fleet.nodes);
  const views = await Promise.all(fleet.nodes.map((node) => node.cluster()));
  const delta = new Map<number, number>();
  for (const [bound, count] of after) delta.set(bound, count - (before.get(bound) ?? 0));
  const samples = delta.get(Number.POSITIVE_INFINITY) ?? 0;
  return {
    rate: LAG_RATE,
    seconds: LAG_SECONDS,
    hosts,
    sent: run.sent,
    accepted: run.accepted,
    nodes: views.map((view) => ({
      node: view.node,
      p50Ms: view.propagation.p50_ms,
      p99Ms: view.propagation.p99_ms,
      samples: view.propagation.samples,
    })),
    histogram: { p50Ms: quantile(delta, 0.5), p99Ms: quantile(delta, 0.99), samples },
  };
}

/** Cumulative bucket counts by upper bound (seconds), summed over the nodes. */
async function histograms(nodes: readonly BenchNode[]): Promise<Map<number, number>> {
  const sum = new Map<number, number>();
  for (const text of await Promise.all(nodes.map((node) => node.metrics()))) {
    for (const line of text.split('\n')) {
      const match = BUCKET.exec(line);
      if (!match) continue;
      const bound = match[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(match[1]);
      sum.set(bound, (sum.get(bound) ?? 0) + Number(match[2]));
    }
  }
  return sum;
}

/** The `p`-quantile in ms, linear within its bucket; the last finite bound when it falls past them. */
function quantile(cumulative: Map<number, number>, p: number): number | null {
  const bounds = [...cumulative.keys()].sort((a, b) => a - b);
  const total = cumulative.get(Number.POSITIVE_INFINITY) ?? 0;
  if (total === 0) return null;
  const rank = p * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bound of bounds) {
    const count = cumulative.get(bound)!;
    if (count >= rank) {
      if (!Number.isFinite(bound)) return lowerBound * 1000;
      const share = count === lowerCount ? 0 : (rank - lowerCount) / (count - lowerCount);
      return (lowerBound + share * (bound - lowerBound)) * 1000;
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return lowerBound * 1000;
}
