/**
 * Bounds on what heartbeats may make hbd keep (`limits:` in the config): how many hosts,
 * how many new ones a minute, and how many bytes of text each. Without them, whoever can
 * send unsigned datagrams can grow the host table, the state file and every snapshot of
 * the fleet without end. A heartbeat signed with a configured key is the operator's own
 * host, so it may always create one; no heartbeat stores more than `hostBytes`.
 */
import type { Heartbeat } from '../protocol/types.js';

export interface HostLimitsOptions {
  /** Hosts in all, beyond which a new host needs a configured key. */
  maxHosts: number;
  /** New hosts a minute from heartbeats not signed with a configured key. */
  newHostsPerMinute: number;
  /** UTF-8 bytes of msg + extra fields (keys and values) a heartbeat may carry. */
  hostBytes: number;
}

const MINUTE_MS = 60_000;
/** Expired entries at the front of the window are cut off in batches this large, not one by one. */
const COMPACT_AFTER = 1024;

export class HostLimits {
  #options: HostLimitsOptions;
  /**
   * Monotonic times (ms) the last minute's new hosts were created, oldest first, from
   * `#head` on: a sliding minute, so no 60 seconds ever see more than the budget (a token
   * bucket would let a full bucket and its refill through in one minute).
   */
  #created: number[] = [];
  #head = 0;

  constructor(options: HostLimitsOptions) {
    this.#options = options;
  }

  /** Takes effect for the next heartbeat; the minute's count of new hosts carries over. */
  configure(options: HostLimitsOptions): void {
    this.#options = options;
  }

  /**
   * Why a heartbeat carries more text than a host may store, or undefined if it does not.
   * `datagramBytes`: the size of the datagram it came in.
   */
  contentRefusal(hb: Heartbeat, datagramBytes: number): string | undefined {
    const limit = this.#options.hostBytes;
    // The msg and fields are part of an uncompressed datagram's text, never longer than it
    // (escapes only shrink), so a short one needs no counting: the usual case costs nothing.
    if (!hb.compressed && datagramBytes <= limit) return undefined;
    const bytes = contentBytes(hb);
    if (bytes <= limit) return undefined;
    return `host "${hb.host}": msg and extra fields take ${bytes} bytes, over limits.host_bytes (${limit})`;
  }

  /**
   * Why a heartbeat may not create its host, or undefined if it may (and then it counts
   * against the minute's budget). `hostCount`: hosts known now; `nowMs`: monotonic clock.
   */
  newHostRefusal(host: string, hostCount: number, nowMs: number): string | undefined {
    const { maxHosts, newHostsPerMinute } = this.#options;
    const retry = 'a heartbeat signed with a configured key may still add it';
    if (hostCount >= maxHosts) {
      return `new host "${host}" refused: ${hostCount} hosts known, limits.max_hosts is ${maxHosts}; ${retry}`;
    }
    const created = this.#created;
    while (this.#head < created.length && created[this.#head]! <= nowMs - MINUTE_MS) this.#head++;
    if (this.#head >= COMPACT_AFTER && this.#head * 2 >= created.length) {
      this.#created = created.slice(this.#head);
      this.#head = 0;
    }
    const lastMinute = this.#created.length - this.#head;
    if (lastMinute >= newHostsPerMinute) {
      return (
        `new host "${host}" refused: ${lastMinute} new hosts in the last minute, ` +
        `limits.new_hosts_per_minute is ${newHostsPerMinute}; ${retry}`
      );
    }
    this.#created.push(nowMs);
    return undefined;
  }
}

/** UTF-8 bytes of msg and of every extra field's key and value: what a host stores of a heartbeat's text. */
export function contentBytes(hb: Heartbeat): number {
  let bytes = hb.msg === undefined ? 0 : Buffer.byteLength(hb.msg);
  // Keys are ASCII ([a-z][a-z0-9_.-]*): their length is their size.
  for (const key in hb.fields) bytes += key.length + Buffer.byteLength(hb.fields[key]!);
  return bytes;
}
