export interface FlapPolicy {
  windowMs: number;
  /** Changes within the window that make a host flapping. */
  threshold: number;
  /** A flapping host settles when its changes within the window fall to this many. */
  settle: number;
}

/**
 * Counts each host's state changes over a sliding window. Two thresholds rather than one
 * (hysteresis): a host hovering around a single threshold would start and stop flapping
 * on every other change, which is the very noise this exists to stop.
 */
export class FlapDetector {
  readonly #policy: FlapPolicy;
  readonly #changes = new Map<string, number[]>();
  readonly #flapping = new Set<string>();

  constructor(policy: FlapPolicy) {
    this.#policy = policy;
  }

  /** Counts a state change; true when it is the one that makes the host flapping. */
  record(host: string, at: number): boolean {
    const changes = this.#changes.get(host) ?? [];
    changes.push(at);
    this.#changes.set(host, changes);
    this.#trim(changes, at);
    if (this.#flapping.has(host) || changes.length < this.#policy.threshold) return false;
    this.#flapping.add(host);
    return true;
  }

  isFlapping(host: string): boolean {
    return this.#flapping.has(host);
  }

  changesWithinWindow(host: string): number {
    return this.#changes.get(host)?.length ?? 0;
  }

  /** The flapping hosts that have calmed down by `now`; they count as settled from here on. */
  settle(now: number): string[] {
    const settled: string[] = [];
    for (const [host, changes] of this.#changes) {
      this.#trim(changes, now);
      if (this.#flapping.has(host)) {
        if (changes.length <= this.#policy.settle) {
          this.#flapping.delete(host);
          settled.push(host);
        }
      } else if (changes.length === 0) {
        this.#changes.delete(host);
      }
    }
    return settled;
  }

  forget(host: string): void {
    this.#changes.delete(host);
    this.#flapping.delete(host);
  }

  #trim(changes: number[], now: number): void {
    const oldest = now - this.#policy.windowMs;
    let expired = 0;
    while (expired < changes.length && changes[expired]! <= oldest) expired++;
    if (expired > 0) changes.splice(0, expired);
  }
}
