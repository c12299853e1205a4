/** The histogram's buckets, seconds: most heartbeats arrive within a share period or two. */
export const LAG_BUCKETS_S = [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10] as const;
/** Percentiles are read from the most recent samples. */
const RECENT = 4096;

/**
 * How long heartbeats heard by other nodes took to be applied here: from the time the other node
 * heard it to the time this one applied it, by the two nodes' wall clocks (so it includes their
 * skew). For the metrics histogram, `/api/cluster` and the benchmark.
 */
export class PropagationLag {
  readonly #recent = new Float64Array(RECENT);
  #count = 0;
  readonly #listeners = new Set<(ms: number) => void>();

  observe(ms: number): void {
    const lag = Math.max(0, ms);
    this.#recent[this.#count % RECENT] = lag;
    this.#count++;
    for (const listener of this.#listeners) listener(lag);
  }

  /** Called with each observation (ms), e.g. by the metrics histogram. */
  subscribe(listener: (ms: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** How many were observed since the start. */
  get count(): number {
    return this.#count;
  }

  /** The `p`-quantile (0–1) of the recent samples, ms; null before any. */
  quantile(p: number): number | null {
    const n = Math.min(this.#count, RECENT);
    if (n === 0) return null;
    const sorted = this.#recent.slice(0, n).sort();
    return sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]!;
  }
}
