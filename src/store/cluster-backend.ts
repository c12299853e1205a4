import type { Heartbeat } from '../protocol/types.js';

/**
 * What the nodes of a cluster share through their store, beside the sub-stores: the leader
 * lease, each node's own row, and the newest heartbeat of every host. Only a store that several
 * hbd processes can reach at once (PostgreSQL) has one. Times named `…Ms` are durations;
 * `at`/`seenAt` are wall times in ms since the epoch.
 */
export interface ClusterBackend {
  /**
   * Takes the leader lease for `node`, or renews it when `node` holds it. The database's clock
   * decides expiry, so the nodes' clocks need not agree. Returns the lease as it stands after
   * the attempt: `token` is this node's fencing token when it holds it.
   */
  claimLease(node: string, leaseMs: number): Promise<LeaseState>;
  /** Gives the lease up at once (a clean stop), if `node` still holds it with `token`. */
  releaseLease(node: string, token: number): Promise<void>;
  /** Upserts this node's own row. */
  reportNode(report: NodeReport): Promise<void>;
  /** Every node that ever reported, with how long ago the database last heard from it. */
  nodes(): Promise<NodeRow[]>;
  /** Deletes a node's row (`hbd cluster forget`, or a node gone for good). */
  forgetNode(name: string): Promise<boolean>;
  /**
   * Shares heartbeats heard by `node`, one per host: a host's row is replaced only by a newer
   * heartbeat (`seenAt`), so the newest timing wins whichever node heard it. One statement for
   * the whole batch.
   */
  shareBeats(node: string, beats: readonly SharedBeat[]): Promise<void>;
  /** Shares that hosts were forgotten, so every node forgets them. */
  shareForgotten(node: string, hosts: readonly string[]): Promise<void>;
  /**
   * Shared rows changed after revision `afterRev`, oldest first, at most `limit`. Revisions
   * are committed in order, so a reader that has seen `rev` has seen everything before it.
   * `exceptNode`: leaves out the rows that node wrote last (its own, which it knows).
   */
  changesAfter(afterRev: number, limit: number, exceptNode?: string): Promise<SharedChange[]>;
  /**
   * Wakes `onChange` soon after another node shares something (`topic`), so that followers need
   * not poll fast; returns a function that stops listening. A lost connection is re-opened.
   */
  listen(
    onChange: (topic: ClusterTopic) => void,
    onError: (error: unknown) => void,
  ): Promise<() => Promise<void>>;
  /** Tells the other nodes that `topic` changed (silences, say). */
  announce(topic: ClusterTopic): Promise<void>;
}

export type ClusterTopic = 'beats' | 'silences' | 'nodes';

export interface LeaseState {
  /** The node holding an unexpired lease, or null. */
  holder: string | null;
  /** This node's fencing token, when it is the holder. */
  token: number | undefined;
  /** The lease's current token, whoever holds it (grows by one at every change of holder). */
  currentToken: number;
}

export interface NodeReport {
  name: string;
  /** Wall ms when this process started. */
  startedAt: number;
  role: 'leader' | 'follower';
  /** The API's URL, as this node serves it. */
  api: string;
  /** Propagation lag of the heartbeats this node applied lately (p99, ms), or null. */
  lagMs: number | null;
  version: string;
}

export interface NodeRow extends NodeReport {
  /** How long ago the node last reported, by the database's clock (ms). */
  silentForMs: number;
}

/** One host's newest heartbeat, as the node that heard it accepted it. */
export interface SharedBeat {
  host: string;
  /** Wall ms when the node heard it. */
  seenAt: number;
  hb: Heartbeat;
  addr: string;
  signed: boolean;
  via?: 'http' | undefined;
}

export type SharedChange =
  | { rev: number; node: string; kind: 'beat'; beat: SharedBeat }
  | { rev: number; node: string; kind: 'forgotten'; host: string; at: number };
