import { useEffect } from 'preact/hooks';
import type { ClusterJson, ClusterNodeJson } from './api.js';
import { useNow } from './clock.js';
import { cluster, followCluster } from './cluster.js';
import { ago, seconds } from './format.js';
import { useObservable } from './observable.js';

/**
 * On a cluster node, one line per node above the fleet: up or down, which one leads, when it
 * last reported, how far behind the others' heartbeats reach it, and which node this page is
 * talking to. A single node shows nothing.
 */
export function ClusterPanel() {
  const { status, problem } = useObservable(cluster);
  const now = useNow();
  useEffect(() => followCluster(), []);
  if (typeof status === 'string') return null;
  return (
    <section class="cluster" aria-label="Cluster" data-node={status.node}>
      <h2 class="cluster-title">Cluster</h2>
      <ul class="cluster-nodes">
        {status.nodes.map((node) => (
          <NodeItem key={node.name} node={node} status={status} now={now} />
        ))}
      </ul>
      {status.leader === null && (
        <p class="cluster-note error-text">
          No node leads: nothing is stored, notified or published until one does.
        </p>
      )}
      {problem && <p class="cluster-note error-text">{problem}</p>}
    </section>
  );
}

function NodeItem({ node, status, now }: { node: ClusterNodeJson; status: ClusterJson; now: number }) {
  // The lease holder, as the answering node last saw it: a dead leader's own row may still say "leader".
  const leads = node.name === status.leader;
  const here = node.name === status.node;
  return (
    <li
      class={`cluster-node s-${node.state}`}
      data-node={node.name}
      data-state={node.state}
      data-leader={leads ? 'true' : undefined}
      aria-current={here ? 'true' : undefined}
      title={`hbd ${node.version} at ${node.api}, started ${node.started_at}`}
    >
      <span class={`badge b-${node.state}`}>{node.state}</span>
      <strong class="cluster-name">{node.name}</strong>
      {leads && <span class="badge b-leader">leader</span>}
      {here && <span class="cluster-here">this node</span>}
      <span class="cluster-detail">seen {ago(Date.parse(node.last_seen), now)}</span>
      <span class="cluster-detail" title="p99 of how long the other nodes' heartbeats took to reach it">
        lag {node.lag_ms === null ? '–' : lag(node.lag_ms)}
      </span>
    </li>
  );
}

function lag(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : seconds(ms);
}
