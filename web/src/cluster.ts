import { ApiError, type ClusterJson, getJson } from './api.js';
import { Observable } from './observable.js';

/** How often a cluster node is asked again: its answer is a few rows it keeps in memory. */
export const CLUSTER_REFRESH_MS = 3000;

export interface ClusterView {
  /** `unknown` until the first answer; `single` on a single node, which has no cluster to show. */
  status: ClusterJson | 'single' | 'unknown';
  /** Why the last refresh failed, while the status shown is older than it. */
  problem: string | null;
}

export const cluster = new Observable<ClusterView>({ status: 'unknown', problem: null });

export async function refreshCluster(): Promise<void> {
  try {
    const status = await getJson<ClusterJson>('/api/cluster');
    cluster.set({ status, problem: null });
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      cluster.set({ status: 'single', problem: null });
      return;
    }
    cluster.set({
      status: cluster.value.status,
      problem: `Cannot read the cluster: ${(error as Error).message}`,
    });
  }
}

/**
 * Asks at once, then every few seconds while the caller shows the cluster; returns the stop.
 * A single node is not asked again: it becomes a cluster node only by a restart with another
 * store, and the page asks afresh each time it is shown.
 */
export function followCluster(): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const round = async () => {
    await refreshCluster();
    if (stopped || cluster.value.status === 'single') return;
    timer = setTimeout(() => void round(), CLUSTER_REFRESH_MS);
  };
  void round();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
