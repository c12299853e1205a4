import type { Clock } from '../lib/clock.js';
import { decodeDatagram } from '../protocol/decode.js';
import type { DropReason } from '../protocol/types.js';
import type { Monitor } from '../state/monitor.js';
import type { DropLog } from './drop-log.js';
import type { Gatekeeper } from './gatekeeper.js';
import type { HostLimits } from './host-limits.js';
import type { IngestStats } from './stats.js';

/**
 * datagram → decode → admit → limits → state. Synchronous, so each datagram is fully
 * applied or fully dropped.
 */
export class IngestPipeline {
  readonly stats: IngestStats;
  #gatekeeper: Gatekeeper;
  readonly #limits: HostLimits;
  readonly #monitor: Monitor;
  readonly #clock: Clock;
  readonly #dropLog: DropLog;
  readonly #reservedHost: ((host: string) => string | undefined) | undefined;

  constructor(deps: {
    stats: IngestStats;
    gatekeeper: Gatekeeper;
    /** Reconfigured in place on reload, so the minute's count of new hosts carries over. */
    limits: HostLimits;
    monitor: Monitor;
    clock: Clock;
    dropLog: DropLog;
    /** Why a host name may not come from the network (a cluster's own node hosts), or undefined. */
    reservedHost?: (host: string) => string | undefined;
  }) {
    this.stats = deps.stats;
    this.#gatekeeper = deps.gatekeeper;
    this.#limits = deps.limits;
    this.#monitor = deps.monitor;
    this.#clock = deps.clock;
    this.#dropLog = deps.dropLog;
    this.#reservedHost = deps.reservedHost;
  }

  /** Takes effect for the next datagram (config reload). */
  setGatekeeper(gatekeeper: Gatekeeper): void {
    this.#gatekeeper = gatekeeper;
  }

  handle(datagram: Uint8Array, source: string): void {
    this.stats.received++;
    const decoded = decodeDatagram(datagram);
    if (!decoded.ok) {
      this.#drop(decoded.reason, decoded.detail, source);
      return;
    }
    const hb = decoded.value;
    const reserved = this.#reservedHost?.(hb.host);
    if (reserved !== undefined) {
      this.#drop('host', reserved, source);
      return;
    }
    const admission = this.#gatekeeper.admit(
      hb,
      this.#monitor.lastSignedTs(hb.host),
      this.#clock.wall() / 1000,
      source,
    );
    if (!admission.ok) {
      this.#drop(admission.reason, admission.detail, source);
      return;
    }
    const tooLarge = this.#limits.contentRefusal(hb, datagram.length);
    if (tooLarge !== undefined) {
      this.#drop('limit', tooLarge, source);
      return;
    }
    // A heartbeat signed with a configured key is the operator's own host: never held back.
    const { table } = this.#monitor;
    if (!admission.signed && table.find(hb.host) < 0) {
      const refused = this.#limits.newHostRefusal(hb.host, table.size, this.#clock.mono());
      if (refused !== undefined) {
        this.#drop('limit', refused, source);
        return;
      }
    }
    this.stats.accepted++;
    this.#monitor.beat(hb, source, admission.signed);
  }

  #drop(reason: DropReason, detail: string, source: string): void {
    this.stats.dropped[reason]++;
    this.#dropLog.dropped(reason, detail, source, this.#clock.mono());
  }
}
