import { Hono } from 'hono';
import { type ClusterStatus, nodeIsUp } from '../cluster/status.js';
import { HttpError } from './errors.js';

const iso = (ms: number) => new Date(ms).toISOString();
const rounded = (ms: number | null) => (ms === null ? null : Math.round(ms * 10) / 10);

/** `GET /api/cluster`: the nodes, who leads, and how fast heartbeats travel between them (docs/cluster.md). */
export function clusterRoutes(status: () => ClusterStatus | undefined): Hono {
  const app = new Hono();
  app.get('/api/cluster', (c) => {
    const cluster = status();
    if (!cluster) {
      throw new HttpError(404, 'this hbd is a single node: its store is its own (docs/cluster.md)');
    }
    const now = Date.now();
    return c.json({
      node: cluster.node,
      role: cluster.role,
      leader: cluster.leader,
      lease_s: cluster.leaseMs / 1000,
      nodes: cluster.nodes.map((row) => ({
        name: row.name,
        role: row.role,
        state: nodeIsUp(row, cluster.leaseMs) ? 'up' : 'down',
        last_seen: iso(now - row.silentForMs),
        lag_ms: rounded(row.lagMs),
        api: row.api,
        version: row.version,
        started_at: iso(row.startedAt),
      })),
      propagation: {
        p50_ms: rounded(cluster.lag.quantile(0.5)),
        p99_ms: rounded(cluster.lag.quantile(0.99)),
        samples: cluster.lag.count,
      },
    });
  });
  return app;
}
