/** A mute on one host name or glob (`web*`), until a wall time. */
export interface Silence {
  id: number;
  /** A host name or a glob with `*` and `?`, lower-cased. */
  pattern: string;
  /** Wall time it expires, ms since the epoch. */
  until: number;
  reason: string | null;
  createdAt: number;
}

/** Where silences are kept, so a restart does not unmute anything. */
export interface SilenceStore {
  add(silence: Omit<Silence, 'id'>): Silence;
  /** Those that have not expired at `now`, soonest expiry first. */
  active(now: number): Silence[];
  /** False when there was no such silence. */
  remove(id: number): boolean;
  /** Deletes expired silences; returns how many. */
  pruneExpired(now: number): number;
}
