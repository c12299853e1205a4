export interface IsolationPolicy {
  /** Share of the known hosts (0..1] that must go silent together. */
  share: number;
  /** ...and at least this many: a homelab losing three of five hosts is not hbd's own network. */
  minHosts: number;
  /** "Together": within this span, ms (the grace period). */
  windowMs: number;
}

/**
 * Tells when so many hosts went silent at once that the likelier story is hbd's own network
 * (or machine) failing, not all of them: then one "hbd may be isolated" message beats
 * thousands of "down" ones that would all be wrong.
 */
export class IsolationGuard {
  readonly #policy: IsolationPolicy;
  #silencedAt: number[] = [];
  #isolated = false;

  constructor(policy: IsolationPolicy) {
    this.#policy = policy;
  }

  get windowMs(): number {
    return this.#policy.windowMs;
  }

  get isolated(): boolean {
    return this.#isolated;
  }

  /** The number of hosts that must go silent within the window to count as isolation. */
  threshold(knownHosts: number): number {
    return Math.max(this.#policy.minHosts, Math.ceil(this.#policy.share * knownHosts));
  }

  /** Counts a host going silent; true when this one tips hbd into isolation. */
  wentSilent(at: number, knownHosts: number): boolean {
    this.#silencedAt.push(at);
    const oldest = at - this.#policy.windowMs;
    let expired = 0;
    while (expired < this.#silencedAt.length && this.#silencedAt[expired]! < oldest) expired++;
    if (expired > 0) this.#silencedAt.splice(0, expired);
    if (this.#isolated || this.#silencedAt.length < this.threshold(knownHosts)) return false;
    this.#isolated = true;
    return true;
  }

  /** How many went silent within the window ending at the last one counted. */
  get recentlySilent(): number {
    return this.#silencedAt.length;
  }

  end(): void {
    this.#isolated = false;
    this.#silencedAt = [];
  }
}
