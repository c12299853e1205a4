import { Gauge, Histogram, type Registry } from 'prom-client';
import { LAG_BUCKETS_S, type PropagationLag } from '../cluster/lag.js';
import { type ClusterStatus, nodeIsUp } from '../cluster/status.js';

/** The cluster's series on /metrics (docs/prometheus.md): who leads, how many nodes are up, how fast heartbeats travel. */
export function registerClusterMetrics(
  registry: Registry,
  current: () => ClusterStatus,
  lag: PropagationLag,
): void {
  new Gauge({
    name: 'hbd_cluster_leader',
    help: 'Whether this node leads the cluster (1): it alone declares hosts down, notifies, publishes DNS.',
    registers: [registry],
    collect() {
      this.set(current().role === 'leader' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'hbd_cluster_nodes',
    help: 'Nodes of the cluster by state: up (reported within a lease) or down, as this node last read them.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const { nodes, leaseMs } = current();
      const up = nodes.filter((row) => nodeIsUp(row, leaseMs)).length;
      this.set({ state: 'up' }, up);
      this.set({ state: 'down' }, nodes.length - up);
    },
  });
  const histogram = new Histogram({
    name: 'hbd_cluster_propagation_lag_seconds',
    help: "From another node hearing a heartbeat to this node applying it (includes the two clocks' skew).",
    buckets: [...LAG_BUCKETS_S],
    registers: [registry],
  });
  lag.subscribe((ms) => histogram.observe(ms / 1000));
}
