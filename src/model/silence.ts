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
