import { fencedUpdater } from '../cluster/fenced-dns.js';
import type { Config } from '../config/schema.js';
import { DnsPublisher } from '../dns/publisher.js';
import type { Bus } from '../lib/bus.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { createChannels } from '../notify/channels/index.js';
import { NotifyEngine } from '../notify/engine.js';
import type { Silences } from '../notify/silences.js';
import type { PushPings } from '../push/ping.js';
import type { HostView } from '../state/host-view.js';
import type { HostWriter, Store } from '../store/store.js';
import { dnsLookupOf, dnsPublisherOptionsOf } from './dns-settings.js';
import { pruneHistory, recentStateChanges } from './housekeeping.js';
import { notifySettingsOf } from './notify-settings.js';

const PRUNE_EVERY_MS = 60 * 60 * 1000;

export interface LeaderTermDeps {
  config: () => Config;
  store: Store;
  writer: HostWriter;
  bus: Bus;
  clock: Clock;
  log: Logger;
  hosts: HostView;
  silences: Silences;
  push: PushPings;
  /** Monotonic ms when this process started hearing: the restart grace counts from then, not from the term. */
  heardSince: number;
  /** Whether this node still holds its lease by its own clock (a cluster node); checked before each DNS update. */
  leads?: () => boolean;
}

/**
 * What only the leader does, for as long as it leads: deciding and sending notifications,
 * publishing DNS, pruning history. A single node leads from start to stop; a cluster node
 * starts a term each time it takes the lease and stops it when it loses the lease, so a new
 * term always begins from what the store holds.
 */
export class LeaderTerm {
  readonly notify: NotifyEngine;
  readonly dns: DnsPublisher | undefined;
  readonly #deps: LeaderTermDeps;
  #unsubscribe: (() => void)[] = [];
  #pruneTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(deps: LeaderTermDeps) {
    this.#deps = deps;
    const config = deps.config();
    const { clock, log, hosts, store, writer, bus, push } = deps;
    const settings = notifySettingsOf(config);
    this.notify = new NotifyEngine({
      // A node that takes over has heard the fleet all along: only what is left of its own
      // restart grace holds problems back, not a fresh one.
      settings: {
        ...settings,
        restartGraceMs: Math.max(0, settings.restartGraceMs - (clock.mono() - deps.heardSince)),
      },
      // The wall clock against which a provider's "retry after this date" is read.
      channels: createChannels(config, { now: () => clock.wall() }),
      outbox: store.outbox,
      silences: deps.silences,
      host: (name) => hosts.find(name),
      knownHosts: () => hosts.established(),
      isEstablished: (name) => hosts.isEstablished(name),
      now: () => clock.wall(),
      log,
    });
    const dnsOptions = config.dyndomains.length > 0 ? dnsPublisherOptionsOf(config) : undefined;
    this.dns =
      dnsOptions !== undefined
        ? new DnsPublisher({
            settings: dnsOptions.settings,
            updater: deps.leads ? fencedUpdater(dnsOptions.updater, deps.leads) : dnsOptions.updater,
            store: store.dns,
            bus,
            clock,
            log,
            recordEvent: (event) => writer.recordEvent(event),
            lookup: dnsLookupOf(hosts, (host) => push.isPushHost(host)),
          })
        : undefined;
  }

  /**
   * Resumes notifications from the store: what was announced, undecided triggers, unsent
   * messages. Call before the writer commits anything of this term: a trigger published while
   * this reads would be counted twice.
   */
  async startNotifications(): Promise<void> {
    const { bus, store, clock, config } = this.#deps;
    this.#unsubscribe.push(
      bus.on('event', (event) => this.notify.eventCommitted(event)),
      bus.on('triggers', (triggers) => this.notify.triggersCommitted(triggers)),
    );
    const windowMs = notifySettingsOf(config()).flapping?.windowMs ?? 0;
    await this.notify.start(await recentStateChanges(store, clock, windowMs));
  }

  /** Publishes DNS (converging on every host's newest address) and prunes history now and hourly. */
  async startTheRest(options: { resendDns: boolean }): Promise<void> {
    if (this.dns) {
      await this.dns.start();
      // A new leader cannot know whether the last one's final update went out: it sends them again.
      if (options.resendDns) this.dns.sync();
    }
    if (this.#stopped) return;
    const prune = () => pruneHistory(this.#deps.store, this.#deps.config(), this.#deps.clock, this.#deps.log);
    await prune();
    this.#pruneTimer = setInterval(prune, PRUNE_EVERY_MS);
    this.#pruneTimer.unref();
  }

  reload(next: Config): void {
    // The isolation window and settle time are derived from grace and interval.
    this.notify.reload(notifySettingsOf(next));
  }

  /** Sends cut off here stay pending in the outbox and go out from the next term (or after a restart). */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    this.#unsubscribe = [];
    clearInterval(this.#pruneTimer);
    // An update in flight is waited for, so a restart does not send it again.
    await Promise.all([this.notify.stop(), this.dns?.close()]);
  }
}
