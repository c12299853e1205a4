import type { Silence } from '../model/silence.js';

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
