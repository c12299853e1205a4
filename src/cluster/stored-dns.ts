import { type DnsStatus, dnsStatusOf } from '../dns/publisher.js';
import type { Bus } from '../lib/bus.js';
import type { PublishedRecords } from '../model/dns.js';
import type { DnsStore } from '../store/store.js';

/** DNS events within this long are read back from the store once: a burst of updates is one read. */
export const STORED_DNS_REREAD_MS = 1000;

/**
 * What the leader published in DNS, as every node of a cluster sees it: read from the store
 * at start and again after each stored DNS event (the leader's events reach every node), so a
 * follower's API shows each host's records as the leader's does. Only the leader knows what
 * is queued, so `pending` is false here.
 */
export class StoredDnsView {
  readonly name = "the leader's DNS records";
  readonly #store: DnsStore;
  readonly #bus: Bus;
  readonly #onError: (error: unknown) => void;
  #records = new Map<string, PublishedRecords>();
  #unsubscribe: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reading: Promise<void> = Promise.resolve();

  constructor(options: { store: DnsStore; bus: Bus; onError: (error: unknown) => void }) {
    this.#store = options.store;
    this.#bus = options.bus;
    this.#onError = options.onError;
  }

  async start(): Promise<void> {
    this.#unsubscribe = this.#bus.on('event', (event) => {
      if (event.kind === 'dns') this.#rereadSoon();
    });
    // Nothing here is worth refusing to start for: the next stored DNS event reads again.
    await this.#read().catch(this.#onError);
  }

  stop(): Promise<void> {
    this.#unsubscribe?.();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#reading;
  }

  status(host: string): DnsStatus | undefined {
    return dnsStatusOf(this.#records.get(host));
  }

  #rereadSoon(): void {
    if (this.#timer || !this.#unsubscribe) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#reading = this.#read().catch(this.#onError);
    }, STORED_DNS_REREAD_MS);
    this.#timer.unref();
  }

  async #read(): Promise<void> {
    const records = await this.#store.load();
    this.#records = new Map(records.map((record) => [record.host, record]));
  }
}
