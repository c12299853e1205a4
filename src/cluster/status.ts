import type { NodeRow } from '../store/cluster-backend.js';
import type { PropagationLag } from './lag.js';

/** A cluster as one of its nodes sees it, for /api/cluster, /metrics and the dashboard. */
export interface ClusterStatus {
  node: string;
  role: 'leader' | 'follower';
  /** The node that held the lease at this node's last claim, if any. */
  leader: string | null;
  /** Every node's row, as of this node's last report (about a second ago). */
  nodes: readonly NodeRow[];
  leaseMs: number;
  lag: PropagationLag;
}

/** A node is down once it has not reported for a whole lease (it reports every second). */
export function nodeIsUp(row: NodeRow, leaseMs: number): boolean {
  return row.silentForMs <= leaseMs;
}
