import type { Status } from '../protocol/types.js';

export const HOST_STATES = ['up', 'late', 'down', 'left'] as const;
/**
 * - up: a heartbeat arrived within the host's interval
 * - late: the interval passed, the grace has not
 * - down: interval + grace passed without a heartbeat
 * - left: the host said `status=bye`; its silence is expected
 */
export type HostState = (typeof HOST_STATES)[number];

/**
 * - state: the host moved between up/late/down/left (from is null for a new host)
 * - status: the status it reports changed between ok/warn/fail; a host changing too often is
 *   stored as one episode: `to` is STATUS_FLAPPING, and the event that ends it has it as `from`
 * - forget: the host was removed by an operator
 * - dns: its records were published (from/to: the addresses), or an update failed
 */
export type HostEventKind = 'state' | 'status' | 'forget' | 'dns';

/**
 * The status of a host whose status changes too often to store each change (`limits.
 * status_flap_threshold` within `limits.status_flap_window`), in the history only: the table and
 * the API always have the exact status.
 */
export const STATUS_FLAPPING = 'flapping';

/** A transition. Stored before anyone is told about it, so a reported event is never lost. */
export interface HostEvent {
  /** Store-assigned, increasing; 0 until stored. */
  id: number;
  /** Wall time, ms since the epoch. */
  at: number;
  host: string;
  kind: HostEventKind;
  from: string | null;
  to: string | null;
  reason: string;
}

/** An accepted heartbeat, as told to live subscribers (not stored one by one). */
export interface HeartbeatNotice {
  host: string;
  at: number;
  status: Status;
  msg: string | null;
  fields: Readonly<Record<string, string>>;
  addr: string;
  /** The addresses the heartbeat asked to publish instead of its source, if any. */
  ip4: string | null;
  ip6: string | null;
  signed: boolean;
  seq: number | null;
  /** `http`: an HTTP ping (docs/push.md), whose source address is never published in DNS. */
  via?: 'http' | undefined;
}
