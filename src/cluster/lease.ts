import type { ClusterBackend } from '../store/cluster-backend.js';
import type { Fence } from '../store/fencing.js';

export interface LeaseOptions {
  backend: Pick<ClusterBackend, 'claimLease' | 'releaseLease'>;
  node: string;
  leaseMs: number;
  /** Monotonic milliseconds. */
  now: () => number;
  /** This node now leads, with this fencing token. */
  onAcquired: (token: number) => void;
  /** This node no longer leads; `why` is for the log. */
  onLost: (why: string) => void;
  /** A claim failed (the database cannot be reached, say). */
  onError: (error: unknown) => void;
}

/**
 * The leader lease, held by one node at a time. Every node tries to take it a few times per
 * lease; the holder's attempt renews it. The database's clock decides when it expires, and a
 * change of holder increments its token: the fencing token every leader-only write is checked
 * against (src/store/fencing.ts).
 *
 * A node counts itself leader only until `lease` after it *sent* its last successful claim,
 * a little less than the database grants: by the time another node can take the lease, this
 * one has stopped acting. A node paused past that (SIGSTOP, a VM frozen) finds on waking that
 * its lease ran out before anything else it had scheduled can use it.
 */
export class LeaderLease implements Fence {
  readonly node: string;
  readonly #options: LeaseOptions;
  #token: number | undefined;
  /** Monotonic time until which this node may act as leader. */
  #validUntil = Number.NEGATIVE_INFINITY;
  #holder: string | null = null;
  #timer: NodeJS.Timeout | undefined;
  #expiry: NodeJS.Timeout | undefined;
  #claiming: Promise<void> | undefined;
  #stopped = false;

  constructor(options: LeaseOptions) {
    this.node = options.node;
    this.#options = options;
  }

  /** The token while this node leads and its lease is still good by its own clock. */
  token(): number | undefined {
    if (this.#token === undefined) return undefined;
    return this.#options.now() < this.#validUntil ? this.#token : undefined;
  }

  get isLeader(): boolean {
    return this.token() !== undefined;
  }

  /** The node that held the lease at the last claim (this one, another, or null when none did). */
  get holder(): string | null {
    return this.#holder;
  }

  /** Claims at once, then a few times per lease. Resolves after the first claim, won or not. */
  async start(): Promise<void> {
    await this.#claim();
  }

  /**
   * Stops claiming; a leader runs `beforeRelease` while it still holds the lease (to store what
   * it has), then gives the lease up at once, so another node need not wait it out.
   */
  async stop(beforeRelease?: () => Promise<void>): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#claiming;
    const token = this.#token;
    if (token === undefined) return;
    if (beforeRelease) await beforeRelease();
    clearTimeout(this.#expiry);
    if (this.#token !== undefined) {
      this.#token = undefined;
      this.#validUntil = Number.NEGATIVE_INFINITY;
      if (!beforeRelease) this.#options.onLost('this node is stopping');
    }
    await this.#options.backend.releaseLease(this.node, token).catch(this.#options.onError);
  }

  #claim(): Promise<void> {
    this.#claiming = this.#attempt().finally(() => {
      this.#claiming = undefined;
      if (this.#stopped) return;
      this.#timer = setTimeout(() => void this.#claim(), this.#periodMs());
      this.#timer.unref();
    });
    return this.#claiming;
  }

  async #attempt(): Promise<void> {
    const { backend, node, leaseMs, now } = this.#options;
    const sentAt = now();
    let state: Awaited<ReturnType<typeof backend.claimLease>>;
    try {
      state = await backend.claimLease(node, leaseMs);
    } catch (error) {
      this.#options.onError(error);
      return;
    }
    if (this.#stopped) return;
    this.#holder = state.holder;
    if (state.token === undefined) {
      if (this.#token !== undefined) {
        this.#lose(
          state.holder
            ? `hbd node ${state.holder} holds the leader lease now (token ${state.currentToken})`
            : 'the leader lease expired',
        );
      }
      return;
    }
    if (this.#token !== undefined && this.#token !== state.token) {
      // Our lease ran out in the database and we took it again: a new term, not a renewal.
      this.#lose('the leader lease expired before it was renewed');
    }
    this.#validUntil = sentAt + leaseMs - safetyMarginMs(leaseMs);
    this.#armExpiry();
    if (this.#token !== state.token) {
      this.#token = state.token;
      this.#options.onAcquired(state.token);
    }
  }

  /** Steps down when the lease runs out by this node's clock, even while a claim hangs. */
  #armExpiry(): void {
    clearTimeout(this.#expiry);
    this.#expiry = setTimeout(
      () => {
        if (this.#token === undefined) return;
        // A timer can fire a little before now() reaches its time: look again then.
        if (this.#options.now() < this.#validUntil) this.#armExpiry();
        else this.#lose('the leader lease ran out before it could be renewed');
      },
      Math.max(0, this.#validUntil - this.#options.now()),
    );
    this.#expiry.unref();
  }

  #lose(why: string): void {
    if (this.#token === undefined) return;
    this.#token = undefined;
    this.#validUntil = Number.NEGATIVE_INFINITY;
    clearTimeout(this.#expiry);
    this.#options.onLost(why);
  }

  /** Three claims per lease: a renewal can fail twice before the lease runs out. */
  #periodMs(): number {
    return Math.max(100, Math.floor(this.#options.leaseMs / 3));
  }
}

/** How much sooner than the database a node stops counting on its lease: clocks drift. */
function safetyMarginMs(leaseMs: number): number {
  return Math.min(leaseMs * 0.1, 1000);
}
