import type { Bus } from '../lib/bus.js';
import type { Clock } from '../lib/clock.js';
import { formatDuration } from '../lib/duration.js';
import type { Logger } from '../lib/log.js';
import type { PublishedRecords } from '../model/dns.js';
import type { HeartbeatNotice, HostEvent } from '../model/events.js';
import { publishAddresses } from '../state/addresses.js';
import type { DnsStore } from '../store/store.js';
import { checkPublishable } from './address-policy.js';
import { placeRecord } from './naming.js';
import { type DesiredRecords, type PublishOutcome, PublishQueue } from './publish-queue.js';
import type { DnsUpdater } from './update-types.js';

/** What to publish and how (built from the config by daemon/dns-settings.ts). */
export interface DnsPublishSettings {
  /** Domains under which hosts are published (`dyndomains`). */
  dyndomains: readonly string[];
  /** The zone to update, when it is not the dyndomain itself; null: the dyndomain. */
  zone: string | null;
  ttl: number;
  /** What a host's records become when it goes down. */
  onDown: 'keep' | 'delete';
  /** Publish the addresses of unsigned heartbeats too. */
  allowUnsigned: boolean;
  /** Publish private, loopback and link-local addresses too. */
  allowPrivate: boolean;
  /** Records older than this are sent again, even if unchanged. */
  refreshMs: number;
  /** The longest wait between retries of a failed update. */
  retryMaxMs: number;
}

export interface DnsPublisherOptions {
  settings: DnsPublishSettings;
  updater: DnsUpdater;
  /** Where what was published is kept, so that a restart re-sends nothing needlessly. */
  store: DnsStore;
  bus: Bus;
  clock: Clock;
  log: Logger;
  /** Stores an event (it is published on the bus once stored). */
  recordEvent: (event: Omit<HostEvent, 'id'>) => void;
  /** What hbd knows of a host now, for `sync`. */
  lookup: (host: string) => HeartbeatSource | undefined;
}

/** The parts of a heartbeat that decide what to publish. */
export type HeartbeatSource = Pick<HeartbeatNotice, 'host' | 'addr' | 'ip4' | 'ip6' | 'signed' | 'via'>;

/** A host's DNS as the API shows it. */
export interface DnsStatus {
  name: string;
  published: { A: string | null; AAAA: string | null };
  last_success: string | null;
  last_error: string | null;
  pending: boolean;
}

/** A host's DNS from what was published for it and what waits to be: undefined when neither exists. */
export function dnsStatusOf(
  published: PublishedRecords | undefined,
  queued?: Pick<DesiredRecords, 'name'>,
): DnsStatus | undefined {
  if (!published && !queued) return undefined;
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    name: published?.name ?? queued!.name,
    published: { A: published?.A ?? null, AAAA: published?.AAAA ?? null },
    last_success: iso(published?.lastSuccess ?? null),
    last_error: published?.lastError ?? null,
    pending: queued !== undefined,
  };
}

const FAMILIES = [
  ['A', 'ip4'],
  ['AAAA', 'ip6'],
] as const;

/**
 * Keeps every host's A/AAAA records pointing at its current address.
 *
 * An accepted heartbeat (signed, unless `allow_unsigned`) whose publishable address
 * differs from the newest wanted one (queued or in flight, else last published
 * successfully), or whose records are older than `refresh`, is handed to the queue;
 * the queue sends in the background and retries until it succeeds. What was published
 * is stored, so a restart re-sends nothing needlessly. A replayed or forged heartbeat
 * never gets here: the gatekeeper drops it.
 */
export class DnsPublisher {
  readonly stats = { updates: 0, failures: 0 };
  readonly #options: DnsPublisherOptions;
  readonly #queue: PublishQueue;
  readonly #published = new Map<string, PublishedRecords>();
  readonly #queued = new Map<string, DesiredRecords>();
  readonly #unplacedHosts = new Set<string>();
  #unsubscribe: (() => void)[] = [];
  /** Records the store refused, by host: saved again with the next save, newest only. */
  readonly #unsaved = new Map<string, PublishedRecords>();
  /** Saves run one at a time, in order, so an older record never lands after a newer one. */
  #saving: Promise<void> = Promise.resolve();

  constructor(options: DnsPublisherOptions) {
    this.#options = options;
    this.#queue = new PublishQueue({
      send: (zone, changes) => options.updater.update({ zone, changes }),
      onOutcome: (host, outcome) => this.#settled(host, outcome),
      retryMaxMs: options.settings.retryMaxMs,
    });
  }

  /** Reads what was published before the restart, then follows heartbeats and transitions. */
  async start(): Promise<void> {
    for (const records of await this.#options.store.load()) this.#published.set(records.host, records);
    const { bus } = this.#options;
    this.#unsubscribe = [
      bus.on('heartbeat', (notice) => this.#heard(notice, false)),
      bus.on('event', (event) => this.#transition(event)),
    ];
  }

  status(host: string): DnsStatus | undefined {
    return dnsStatusOf(this.#published.get(host), this.#queued.get(host));
  }

  /** Re-sends the records of one host, or of every host, whatever was published before. */
  sync(host?: string): number {
    const hosts = host === undefined ? [...this.#published.keys()] : [host];
    let queued = 0;
    for (const name of hosts) {
      const source = this.#options.lookup(name);
      if (source && this.#heard(source, true)) queued++;
    }
    return queued;
  }

  /** Stops publishing; an update in flight is waited for, so what it did is stored. */
  async close(): Promise<void> {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#unsubscribe = [];
    await this.#queue.close();
    await this.#saving;
  }

  /** Returns whether anything was queued. Runs for every heartbeat, so the common case (nothing new) is cheap. */
  #heard(source: HeartbeatSource, force: boolean): boolean {
    const settings = this.#options.settings;
    // The one rule for hosts that report over HTTP (push hosts, docs/push.md): the source of a
    // ping is wherever the job's script ran (or its proxy), not the host's address.
    if (source.via === 'http') return false;
    if (!source.signed && !settings.allowUnsigned) return false;
    const wanted = publishAddresses(source);
    const current = this.#published.get(source.host);
    const queued = this.#queued.get(source.host);
    const fresh =
      !force &&
      current?.lastSuccess != null &&
      this.#options.clock.wall() - current.lastSuccess <= settings.refreshMs;
    // Compared with where the records are heading, not where they are: after a move and a move
    // back, the address that was published is new again while the move is queued or in flight.
    if (
      fresh &&
      (wanted.ip4 === null || wanted.ip4 === newest('A', current, queued)) &&
      (wanted.ip6 === null || wanted.ip6 === newest('AAAA', current, queued))
    ) {
      return false;
    }
    const placement = placeRecord(source.host, settings.dyndomains, settings.zone ?? undefined);
    if (!placement.ok) {
      this.#unplaced(source.host, placement.reason);
      return false;
    }
    const stale = !fresh || current?.name !== placement.name;
    const queuedForName = queued?.name === placement.name ? queued : undefined;
    const desired: DesiredRecords = {
      host: source.host,
      name: placement.name,
      zone: placement.zone,
      ttl: settings.ttl,
    };
    let changed = false;
    for (const [type, family] of FAMILIES) {
      // The queue replaces a host's pending records as a whole, so what is queued for the
      // family this heartbeat leaves alone must be carried over, or it would be lost.
      if (queuedForName?.[type] !== undefined) desired[type] = queuedForName[type];
      const address = wanted[family];
      if (address === null || (!stale && newest(type, current, queuedForName) === address)) continue;
      if (!checkPublishable(address, type, settings.allowPrivate).publish) continue;
      desired[type] = address;
      changed = true;
    }
    return changed && this.#enqueue(desired);
  }

  #transition(event: HostEvent): void {
    if (event.kind === 'forget') this.#unplacedHosts.delete(event.host);
    const { settings } = this.#options;
    const goneDown = event.kind === 'state' && event.to === 'down' && settings.onDown === 'delete';
    if (!goneDown && event.kind !== 'forget') return;
    const current = this.#published.get(event.host);
    const queued = this.#queued.get(event.host);
    // A family on its way to the server counts as published: it would land after the delete otherwise.
    const held = FAMILIES.filter(([type]) => current?.[type] != null || queued?.[type] !== undefined);
    if (held.length === 0) return;
    const placement = placeRecord(event.host, settings.dyndomains, settings.zone ?? undefined);
    if (!placement.ok) {
      this.#unplaced(event.host, placement.reason);
      return;
    }
    const desired: DesiredRecords = {
      host: event.host,
      name: queued?.name ?? current!.name,
      zone: placement.zone,
      ttl: settings.ttl,
    };
    for (const [type] of held) desired[type] = null;
    this.#enqueue(desired);
  }

  /**
   * Not an error (a host may be named outside the dyndomains on purpose), but never silent:
   * whoever wonders why a host is not in DNS finds the reason at debug level. Once per
   * host, as it would otherwise repeat with every heartbeat.
   */
  #unplaced(host: string, reason: string): void {
    if (this.#unplacedHosts.has(host)) return;
    this.#unplacedHosts.add(host);
    this.#options.log.debug({ host }, `not publishing ${host} in DNS: ${reason}`);
  }

  #enqueue(desired: DesiredRecords): boolean {
    const queued = this.#queued.get(desired.host);
    if (queued && queued.A === desired.A && queued.AAAA === desired.AAAA && queued.name === desired.name) {
      return false;
    }
    this.#queued.set(desired.host, desired);
    this.#queue.want(desired);
    return true;
  }

  #settled(host: string, outcome: PublishOutcome): void {
    const { clock, recordEvent, log } = this.#options;
    const now = clock.wall();
    const before = this.#published.get(host);
    if (outcome.ok) {
      const { records } = outcome;
      if (this.#queued.get(host) === records) this.#queued.delete(host);
      const after: PublishedRecords = {
        host,
        name: records.name,
        A: records.A === undefined ? (before?.A ?? null) : records.A,
        AAAA: records.AAAA === undefined ? (before?.AAAA ?? null) : records.AAAA,
        lastSuccess: now,
        lastError: null,
        lastErrorAt: null,
      };
      this.stats.updates++;
      this.#save(after);
      log.info(
        { host, name: records.name, A: after.A, AAAA: after.AAAA },
        `DNS: ${updated(records.name, before, after)}`,
      );
      recordEvent({
        at: now,
        host,
        kind: 'dns',
        from: describe(before),
        to: describe(after),
        reason: `published ${records.name}`,
      });
      return;
    }
    this.stats.failures++;
    const message = outcome.error.message;
    const after: PublishedRecords = {
      host,
      name: before?.name ?? this.#queued.get(host)?.name ?? host,
      A: before?.A ?? null,
      AAAA: before?.AAAA ?? null,
      lastSuccess: before?.lastSuccess ?? null,
      lastError: message,
      lastErrorAt: now,
    };
    this.#save(after);
    const failed = `update failed: ${message}; retrying in ${formatDuration(outcome.retryInMs)}`;
    const fields = { host, name: after.name, retryInMs: outcome.retryInMs, err: outcome.error };
    // Every attempt is counted; a warning and an event only when the failure is new, so an
    // outage is one line, not hundreds. The retries of the same failure are at debug level.
    if (before?.lastError !== message) {
      log.warn(fields, `DNS: ${after.name} ${failed}`);
      recordEvent({
        at: now,
        host,
        kind: 'dns',
        from: describe(before),
        to: describe(before),
        reason: failed,
      });
    } else {
      log.debug(fields, `DNS: ${after.name} ${failed}`);
    }
  }

  /**
   * Keeps the record in memory at once (status and the next heartbeat read it there), and in the
   * store in the background. A save the store refuses is logged and tried again with the next
   * save: what DNS holds does not depend on it, only what a restart would re-send.
   */
  #save(records: PublishedRecords): void {
    this.#published.set(records.host, records);
    this.#unsaved.set(records.host, records);
    this.#saving = this.#saving.then(() => this.#saveUnsaved());
  }

  async #saveUnsaved(): Promise<void> {
    for (const [host, records] of [...this.#unsaved]) {
      // A newer record for the host may have come while this one waited: that one is saved instead.
      if (this.#unsaved.get(host) !== records) continue;
      try {
        await this.#options.store.save(records);
        if (this.#unsaved.get(host) === records) this.#unsaved.delete(host);
      } catch (error) {
        this.#options.log.error({ err: error, host }, 'cannot store what was published in DNS; will retry');
        // The store is failing: the rest waits for the next save too.
        return;
      }
    }
  }
}

/** Where a family's record is heading: what is queued or in flight for it, else what was published. */
function newest(
  type: 'A' | 'AAAA',
  published: PublishedRecords | undefined,
  queued: DesiredRecords | undefined,
): string | null | undefined {
  const pending = queued?.[type];
  return pending !== undefined ? pending : published?.[type];
}

/** "web1.dyn.example → 192.0.2.7 (was 192.0.2.6)", or a deletion, or a refresh of the same address. */
function updated(name: string, before: PublishedRecords | undefined, after: PublishedRecords): string {
  const was = describe(before);
  const now = describe(after);
  const recovered = before?.lastError ? `, after failing: ${before.lastError}` : '';
  if (now === null) return `${name} removed (was ${was ?? 'none'}${recovered})`;
  if (now === was) return `${name} → ${now} (unchanged, sent again${recovered})`;
  return `${name} → ${now} (was ${was ?? 'none'}${recovered})`;
}

function describe(records: PublishedRecords | undefined): string | null {
  if (!records || (records.A === null && records.AAAA === null)) return null;
  return [records.A, records.AAAA].filter((address) => address !== null).join(' ');
}
