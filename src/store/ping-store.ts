/**
 * How many pings each host keeps. Every ping an outsider with a token sends is a write, so a
 * host has a fixed ring: its newest ping replaces its oldest, and the table never grows.
 */
export const PINGS_KEPT = 10;

/** What a ping said (docs/push.md, "What a ping does"). */
export const PING_KINDS = ['success', 'warn', 'fail', 'start', 'log'] as const;
export type PingKind = (typeof PING_KINDS)[number];

/** One HTTP ping as hbd keeps it, for the API and the host page. */
export interface PingRecord {
  /** Lower-cased host name. */
  host: string;
  /** Wall time it was taken, ms since the epoch. */
  at: number;
  /** The push protocol it came in: `healthchecks`, `uptime-kuma` or `consul`. */
  protocol: string;
  kind: PingKind;
  /** The exit code it named (`/ping/{token}/3`); null when it named none. */
  exitCode: number | null;
  /** The message it carried (a body, `msg`, `note`, `Output`), as bounded as a heartbeat's; null for none. */
  body: string | null;
  /** The address of the HTTP client. */
  addr: string;
  /** The run it named (Healthchecks.io's `rid`); null when none. */
  runId: string | null;
}

/** The last pings of each host, kept so that any hbd reading the store can show them. */
export interface PingStore {
  /** Keeps each ping as its host's newest, in the order given; past PINGS_KEPT, it replaces the host's oldest. */
  add(pings: readonly PingRecord[]): Promise<void>;
  /** The host's kept pings, newest first. */
  recent(host: string): Promise<PingRecord[]>;
}
