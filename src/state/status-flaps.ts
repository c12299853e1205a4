/** How many status changes within how long make a host's status flapping (`limits`). */
export interface StatusFlapPolicy {
  /** Changes within the window that are still stored one by one; the next one starts an episode. */
  threshold: number;
  windowMs: number;
}

/** What to store for one status change. */
export type StatusChangeVerdict =
  /** An ordinary change: one event. */
  | 'store'
  /** One change too many within the window: one event saying the host is flapping. */
  | 'flapping'
  /** The host is flapping already: its table row changes, nothing is stored. */
  | 'quiet';

interface Track {
  /** Monotonic times of the last `threshold` changes stored one by one, oldest first. */
  recent: number[];
  /** Set while the host is flapping. */
  episode: { changes: number; lastChangeAt: number } | undefined;
}

/**
 * Tells when a host changes status so often that storing each change would flood the history:
 * a host flipping ok/warn a thousand times a second would otherwise push every other host's
 * events out. Per host it keeps at most `threshold` times, and only for hosts that changed within
 * the window, so it stays small whatever the traffic.
 */
export class StatusFlaps {
  #policy: StatusFlapPolicy;
  readonly #tracks = new Map<number, Track>();

  constructor(policy: StatusFlapPolicy) {
    this.#policy = policy;
  }

  get windowMs(): number {
    return this.#policy.windowMs;
  }

  setPolicy(policy: StatusFlapPolicy): void {
    this.#policy = policy;
  }

  /** Counts a status change of `slot` at monotonic time `at`, and says what to store for it. */
  change(slot: number, at: number): StatusChangeVerdict {
    let track = this.#tracks.get(slot);
    if (!track) {
      track = { recent: [], episode: undefined };
      this.#tracks.set(slot, track);
    }
    if (track.episode) {
      track.episode.changes++;
      track.episode.lastChangeAt = at;
      return 'quiet';
    }
    const { threshold, windowMs } = this.#policy;
    const recent = track.recent;
    while (recent.length > 0 && recent[0]! <= at - windowMs) recent.shift();
    if (recent.length >= threshold) {
      track.episode = { changes: recent.length + 1, lastChangeAt: at };
      recent.length = 0;
      return 'flapping';
    }
    recent.push(at);
    return 'store';
  }

  /** Changes counted in the host's current episode (the ones before it included). */
  changesInEpisode(slot: number): number {
    return this.#tracks.get(slot)?.episode?.changes ?? 0;
  }

  isFlapping(slot: number): boolean {
    return this.#tracks.get(slot)?.episode !== undefined;
  }

  /**
   * The hosts whose status has stayed the same for a whole window by `now`: their episode is
   * over, and `settled` is called for each with the changes it counted. Hosts with no change
   * left in the window are dropped, so the map holds only hosts that changed lately.
   */
  settle(now: number, settled: (slot: number, changes: number) => void): void {
    const oldest = now - this.#policy.windowMs;
    for (const [slot, track] of this.#tracks) {
      if (track.episode) {
        if (track.episode.lastChangeAt > oldest) continue;
        const { changes } = track.episode;
        this.#tracks.delete(slot);
        settled(slot, changes);
      } else if ((track.recent.at(-1) ?? Number.NEGATIVE_INFINITY) <= oldest) {
        this.#tracks.delete(slot);
      }
    }
  }

  forget(slot: number): void {
    this.#tracks.delete(slot);
  }

  /** Hosts tracked: those that changed status within the window. */
  get size(): number {
    return this.#tracks.size;
  }
}

/** The policy from the config's `limits` (seconds there, ms here). */
export function statusFlapPolicyOf(limits: {
  status_flap_threshold: number;
  status_flap_window: number;
}): StatusFlapPolicy {
  return { threshold: limits.status_flap_threshold, windowMs: limits.status_flap_window * 1000 };
}
