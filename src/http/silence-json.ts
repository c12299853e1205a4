// No imports: the dashboard imports this type too, and its type check must not pull in server code.

/** A silence as the API shows it. */
export interface SilenceJson {
  id: number;
  pattern: string;
  /** RFC 3339, UTC. */
  until: string;
  /** The same, in ms since the epoch, for scripts that compute with it. */
  until_ms: number;
  reason: string | null;
  /** RFC 3339, UTC. */
  created: string;
}
