import type { Status } from '../protocol/types.js';
import type { HostState } from './events.js';

/** A plain, detached copy of one host: what the API, the store and tests see. */
export interface HostRecord {
  name: string;
  state: HostState;
  status: Status;
  msg: string | null;
  fields: Readonly<Record<string, string>>;
  /** Source address of the last accepted heartbeat. */
  addr: string;
  ip4: string | null;
  ip6: string | null;
  signed: boolean;
  /** Wall times, ms since the epoch. */
  firstSeen: number;
  lastSeen: number;
  /** Sender's `ts` of the last accepted signed heartbeat (seconds), for replay protection. */
  lastTs: number | null;
  /** The interval the sender announced (`every`), seconds. */
  every: number | null;
  lastSeq: number | null;
  /** Heartbeats that carried a `seq`, and those the gaps between them say were lost. */
  received: number;
  lost: number;
}

/** The columns a routine heartbeat changes: far cheaper to store than a whole host. */
export type HostTiming = Pick<
  HostRecord,
  'name' | 'lastSeen' | 'lastTs' | 'lastSeq' | 'every' | 'received' | 'lost' | 'signed'
>;

/**
 * The established hosts that are expected to beat (not `left`): all of them, and those whose
 * heartbeats are signed with a configured key.
 */
export interface EstablishedHosts {
  all: number;
  signed: number;
}
