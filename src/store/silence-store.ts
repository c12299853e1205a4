import type { Silence } from '../model/silence.js';

/** Where silences are kept, so a restart does not unmute anything. */
export interface SilenceStore {
  add(silence: Omit<Silence, 'id'>): Promise<Silence>;
  /** Those that have not expired at `now`, soonest expiry first. */
  active(now: number): Promise<Silence[]>;
  /** False when there was no such silence. */
  remove(id: number): Promise<boolean>;
  /** Deletes expired silences; returns how many. */
  pruneExpired(now: number): Promise<number>;
}
