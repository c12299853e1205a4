/**
 * On a cluster node, the writes only the leader may make (host rows, events, notification
 * triggers and messages, DNS state, pruning) are fenced: the store makes them only while this
 * node holds the leader lease with the token it was granted. A leader that was paused past its
 * lease and resumes finds another node's token there, and its write is refused instead of
 * overwriting the new leader's work.
 */
export interface Fence {
  /** This node's name, as in the lease. */
  readonly node: string;
  /** The token of the lease this node believes it holds; undefined while it does not lead. */
  token(): number | undefined;
}

/** A leader-only write was refused: this node does not hold the lease (any more). */
export class NotLeaderError extends Error {
  readonly node: string;
  readonly token: number | undefined;

  constructor(node: string, token: number | undefined) {
    super(
      token === undefined
        ? `hbd node ${node} is not the leader: only the leader writes this`
        : `hbd node ${node} no longer holds the leader lease (token ${token}): another node has taken over`,
    );
    this.name = 'NotLeaderError';
    this.node = node;
    this.token = token;
  }
}

export function isNotLeader(error: unknown): error is NotLeaderError {
  return error instanceof NotLeaderError;
}
