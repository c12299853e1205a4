import type { HostEvent } from '../model/events.js';
import type { HostTiming } from '../model/host.js';
import type { HostWriter } from '../store/store.js';
import type { WriteFailure } from '../store/write-retry.js';

type NewEvent = Omit<HostEvent, 'id'>;

/** The last state and status events a follower's state machine made for one host. */
export interface ShadowEvents {
  state?: NewEvent;
  status?: NewEvent;
}

/**
 * Where a cluster node's state machine hands its changes. Every node runs the state machine on
 * every heartbeat of the cluster, so each keeps a warm copy of the fleet; only the leader stores
 * what it decides (through its writer). A follower keeps the last events it would have stored,
 * per host: if it takes over, they tell what happened while no node was storing (see
 * takeover.ts), with the reasons and times its own state machine gave them.
 */
export class RoleSink implements HostWriter {
  readonly unstoredTimings: readonly HostTiming[] = [];
  #writer: HostWriter | undefined;
  readonly #shadow = new Map<string, ShadowEvents>();
  readonly #share: { forgotten(host: string): void };

  constructor(share: { forgotten(host: string): void }) {
    this.#share = share;
  }

  get leading(): boolean {
    return this.#writer !== undefined;
  }

  /** From now on changes are stored through `writer`; the shadow events are done with. */
  lead(writer: HostWriter): void {
    this.#writer = writer;
    this.#shadow.clear();
  }

  /** From now on changes are only kept as shadow events; returns the writer that stored them until now. */
  follow(): HostWriter | undefined {
    const writer = this.#writer;
    this.#writer = undefined;
    return writer;
  }

  shadowOf(host: string): ShadowEvents | undefined {
    return this.#shadow.get(host);
  }

  hostChanged(slot: number, urgent: boolean, content: boolean): void {
    this.#writer?.hostChanged(slot, urgent, content);
  }

  hostForgotten(name: string): void {
    this.#share.forgotten(name);
    this.#shadow.delete(name);
    this.#writer?.hostForgotten(name);
  }

  recordEvent(event: NewEvent): void {
    if (this.#writer) {
      this.#writer.recordEvent(event);
      return;
    }
    if (event.kind !== 'state' && event.kind !== 'status') return;
    const shadow = this.#shadow.get(event.host) ?? {};
    shadow[event.kind] = event;
    this.#shadow.set(event.host, shadow);
  }

  commitPending(): Promise<boolean> {
    return this.#writer?.commitPending() ?? Promise.resolve(true);
  }

  flushAll(): Promise<boolean> {
    return this.#writer?.flushAll() ?? Promise.resolve(true);
  }

  problems(): { what: string; failure: WriteFailure }[] {
    return this.#writer?.problems() ?? [];
  }

  async close(): Promise<void> {
    await this.#writer?.close();
  }
}
