import type { Logger } from '../lib/log.js';
import type { HostEvent } from '../model/events.js';
import type { EstablishedHosts, HostRecord } from '../model/host.js';
import type { Notification } from '../model/notification.js';
import type { AnnouncedHost, NewMessage, OutboxMessage, Trigger } from '../model/outbox.js';
import type { OutboxStore } from '../store/outbox-store.js';
import { ChannelFleet } from './channel-fleet.js';
import type { ChannelStats } from './channel-worker.js';
import { composeGroup, flappingReason, isolationOver, isolationStarted } from './compose.js';
import { decideGroup } from './decide-group.js';
import { FlapDetector } from './flapping.js';
import { type Group, PendingGroups } from './groups.js';
import { ProblemHolds } from './holds.js';
import { flappingExtra, nothingAnnounced, reminderExtra, settledExtra } from './items.js';
import type { NotifySettings } from './settings.js';
import { type Cancel, systemTimers, type Timers } from './timers.js';
import type { Notifier } from './types.js';

export type { NotifySettings } from './settings.js';

export interface NotifyEngineOptions {
  settings: NotifySettings;
  channels: readonly Notifier[];
  outbox: OutboxStore;
  silences: { matching(host: string, at?: number): unknown };
  /** The host as it is now; undefined once forgotten. */
  host(name: string): HostRecord | undefined;
  /** Established hosts that are expected to beat (not `left`), all and signed: the isolation guard's base. */
  knownHosts(): EstablishedHosts;
  /**
   * Whether the host has beaten often enough, over long enough, to count for the isolation guard
   * (see `Monitor`): a host anyone can make by sending one datagram must not hold the others' messages.
   */
  isEstablished(name: string): boolean;
  /** Wall time, ms. */
  now: () => number;
  /** Default: the system's; tests pass a manual clock's. */
  timers?: Timers;
  log: Logger;
}

/** Housekeeping period: reminders, flapping hosts settling. */
const TICK_MS = 1000;
/** A decision that could not be stored is tried again after this long. */
const STORE_RETRY_MS = 1000;

/**
 * Turns transitions into messages, and delivers them: the coordinator, which owns the timers
 * and the store calls and leaves each judgement to its part.
 *
 * The path of a transition: its trigger is stored in the same transaction as the transition
 * (`notifyTriggers`, called by the store writer); once that commits, the writer publishes it
 * (`triggersCommitted`) and it joins its group; `group_wait` later the group is decided
 * (`decideGroup`: silences, flapping, what was already announced, whether hbd may be isolated
 * or has just restarted, see `ProblemHolds`) and becomes one message per channel, stored in the
 * outbox in the transaction that consumes its triggers; the channel workers (`ChannelFleet`)
 * send from the outbox. A crash at any point leaves either the trigger or the message on disk,
 * never neither.
 *
 * Everything that reads or writes what was announced runs one at a time, in order (`#serially`),
 * as it would in one thread: a decision waiting for the store is never overtaken by another.
 */
export class NotifyEngine {
  readonly #options: NotifyEngineOptions;
  readonly #settings: NotifySettings;
  readonly #timers: Timers;
  readonly #fleet: ChannelFleet;
  readonly #groups: PendingGroups;
  readonly #holds: ProblemHolds;
  readonly #flaps: FlapDetector | undefined;
  /** What was last announced per host; a host not in it has nothing outstanding. */
  readonly #announced = new Map<string, AnnouncedHost>();
  /** The tail of the work that runs one at a time. */
  #lane: Promise<void> = Promise.resolve();
  #flushTimer: Cancel | undefined;
  #flushTimerAt = Number.POSITIVE_INFINITY;
  #tick: Cancel | undefined;
  #housekeepingQueued = false;
  #stopped = false;

  constructor(options: NotifyEngineOptions) {
    this.#options = options;
    this.#settings = options.settings;
    this.#timers = options.timers ?? systemTimers;
    this.#flaps = options.settings.flapping ? new FlapDetector(options.settings.flapping) : undefined;
    this.#groups = new PendingGroups(options.settings.groupWaitMs, () => this.#armFlush());
    this.#holds = new ProblemHolds({
      graceEndsAt: options.now() + options.settings.restartGraceMs,
      isolation: options.settings.isolation,
      settleMs: options.settings.isolationSettleMs,
      now: options.now,
      timers: this.#timers,
      host: options.host,
      knownHosts: options.knownHosts,
      isEstablished: options.isEstablished,
      onIsolated: (tripped, windowMs) => {
        options.log.warn(
          { silent: tripped.silent, known: tripped.known, signedOnly: tripped.signedOnly },
          'so many hosts went silent at once that hbd may be isolated; holding per-host messages',
        );
        this.#announceSafely(isolationStarted(tripped, windowMs, options.now()));
      },
      onSettleDue: () => this.#inTurn('end the isolation', () => this.#endIsolation()),
      onReleaseDue: () => this.#inTurn('release held problems', () => this.#releaseHeld()),
    });
    this.#fleet = new ChannelFleet({
      channels: options.channels,
      outbox: options.outbox,
      policy: options.settings.delivery,
      now: options.now,
      timers: this.#timers,
      log: options.log,
      announce: (notification, channels) => this.#announceSafely(notification, channels),
    });
  }

  get channels(): string[] {
    return this.#fleet.channels;
  }

  channelStats(): { channel: string; stats: ChannelStats }[] {
    return this.#fleet.stats();
  }

  /** Whether hbd holds hosts' downs because it may be isolated (an unsigned host's are held by either guard). */
  get isolated(): boolean {
    return this.#holds.isolationHolds(false);
  }

  /**
   * Applies what a config reload changes: the settings derived from the live keys `grace` (the
   * isolation window) and `interval` (the settle time after isolation). The rest comes from the
   * `notify` section, which needs a restart, so it stays as it was.
   */
  reload(settings: NotifySettings): void {
    this.#holds.reload(settings.isolation?.windowMs, settings.isolationSettleMs);
  }

  /**
   * Resumes from the store: what was announced, undecided triggers (held for the restart grace)
   * and unsent messages. Call before the store writer commits anything: a trigger published
   * while this reads would be counted twice.
   */
  async start(recentStateChanges: readonly Pick<HostEvent, 'host' | 'at'>[] = []): Promise<void> {
    const { outbox } = this.#options;
    for (const host of await outbox.announcedHosts()) this.#announced.set(host.host, host);
    // Oldest first, so the detector sees them in the order they happened.
    for (const change of recentStateChanges) this.#flaps?.record(change.host, change.at);
    for (const trigger of await outbox.pendingTriggers()) this.#accept(trigger, false);
    this.#fleet.enqueue(await outbox.pendingMessages());
    if (this.#stopped) return;
    this.#holds.start();
    this.#scheduleTick();
  }

  /** Stops the timers and the workers; resolves once the store call in flight, if any, is done. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#flushTimer?.();
    this.#tick?.();
    this.#holds.stop();
    this.#fleet.stop();
    await this.#lane;
  }

  /** A stored event was published (bus `event`): what it tells the isolation guard and the flapping count. */
  eventCommitted(event: HostEvent): void {
    if (event.kind === 'state' && event.to === 'up') this.#holds.heard(event.host);
    if (event.kind === 'forget') this.#forget(event.host);
  }

  /** Stored triggers were published (bus `triggers`, after their events): they join their groups. */
  triggersCommitted(triggers: readonly Trigger[]): void {
    for (const trigger of triggers) this.#accept(trigger, true);
  }

  /** Queues one message on every channel now, outside any group (test, isolation, channel alerts). */
  announce(
    notification: Notification,
    channels: readonly string[] = this.channels,
  ): Promise<OutboxMessage[]> {
    return this.#serially(async () => {
      const queued = await this.#store([], channels, notification, []);
      this.#fleet.enqueue(queued);
      return queued;
    });
  }

  /**
   * Runs `work` after everything queued before it: the announced state it reads is what the
   * work before it left, however long the store took.
   */
  #serially<T>(work: () => T | Promise<T>): Promise<T> {
    const result = this.#lane.then(work);
    this.#lane = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** `#serially`, for work nobody waits for: a failure is logged. */
  #inTurn(what: string, work: () => void | Promise<void>): void {
    this.#serially(work).catch((error: unknown) => {
      this.#options.log.error({ err: error }, `notifications: cannot ${what}`);
    });
  }

  #accept(trigger: Trigger, live: boolean): void {
    const now = this.#options.now();
    if (live && trigger.kind !== 'status') {
      if (this.#flaps?.record(trigger.host, trigger.at)) {
        const reason = flappingReason(
          this.#flaps.changesWithinWindow(trigger.host),
          this.#settings.flapping!.windowMs,
        );
        this.#groups.addExtra(trigger.detail.group, flappingExtra(trigger, reason), now);
      }
      if (trigger.kind === 'down') this.#holds.wentSilent(trigger);
    }
    this.#groups.addTrigger(trigger.detail.group, trigger, now);
  }

  /** A host an operator removed starts afresh if it comes back: nothing about it is outstanding. */
  #forget(host: string): void {
    this.#flaps?.forget(host);
    this.#holds.forget(host);
    this.#inTurn('forget a host', async () => {
      if (!this.#announced.has(host)) return;
      try {
        await this.#store([], [], undefined, [nothingAnnounced(host)]);
        this.#announced.delete(host);
      } catch (error) {
        this.#options.log.error(
          { err: error, host },
          'cannot clear what was announced about a forgotten host',
        );
      }
    });
  }

  #armFlush(): void {
    if (this.#stopped) return;
    const next = this.#groups.nextFlushAt();
    if (next === undefined || (this.#flushTimer && this.#flushTimerAt <= next)) return;
    this.#flushTimer?.();
    this.#flushTimerAt = next;
    this.#flushTimer = this.#timers.after(Math.max(0, next - this.#options.now()), () => {
      this.#flushTimer = undefined;
      this.#flushTimerAt = Number.POSITIVE_INFINITY;
      this.#inTurn('decide the groups due', () => this.#flushDue());
    });
  }

  /**
   * Decides the groups that are due, one after the other, and hands their messages to the
   * channels together: a rate limit then sees all of them at once, however long the store took.
   */
  async #flushDue(): Promise<void> {
    if (this.#stopped) return;
    const now = this.#options.now();
    const queued: OutboxMessage[] = [];
    for (const group of this.#groups.takeDue(now)) {
      const messages = await this.#decide(group, now);
      // Kept for another try, merged with whatever joined the group meanwhile.
      if (messages) queued.push(...messages);
      else this.#groups.retry(group, now + STORE_RETRY_MS, this.#options.now());
    }
    this.#fleet.enqueue(queued);
    this.#armFlush();
  }

  /** Decides a group and stores the decision; undefined if the store failed. */
  async #decide(group: Group, now: number): Promise<OutboxMessage[] | undefined> {
    const hosts = new Map<string, HostRecord>();
    for (const { host } of [...group.triggers, ...group.extras.map((extra) => extra.item)]) {
      const record = hosts.has(host) ? undefined : this.#options.host(host);
      if (record) hosts.set(host, record);
    }
    const decision = decideGroup({
      triggers: group.triggers,
      extras: group.extras,
      announced: this.#announced,
      hosts,
      muted: (host) => this.#options.silences.matching(host, now) !== undefined,
      flapping: (host) => this.#flaps?.isFlapping(host) ?? false,
      restartGrace: this.#holds.inRestartGrace(now),
      isolationHolds: (signed) => this.#holds.isolationHolds(signed),
      now,
    });
    const { items, consumed } = decision;
    const notification = items.length > 0 ? composeGroup(items, consumed, group.key) : undefined;
    let queued: OutboxMessage[];
    try {
      queued = await this.#store(consumed, this.channels, notification, decision.announced);
    } catch (error) {
      this.#options.log.error({ err: error }, 'cannot store notifications; will retry');
      return undefined;
    }
    this.#holds.hold(decision.held);
    return queued;
  }

  /**
   * One transaction: triggers consumed, per-host memory updated, a message queued per channel.
   * The memory in `#announced` follows only once the store has it.
   */
  async #store(
    consumed: readonly number[],
    channels: readonly string[],
    notification: Notification | undefined,
    announced: readonly AnnouncedHost[],
  ): Promise<OutboxMessage[]> {
    const now = this.#options.now();
    const messages: NewMessage[] = notification
      ? channels.map((channel) => ({
          channel,
          notification,
          createdAt: now,
          deadlineAt: now + this.#settings.deadlineMs,
        }))
      : [];
    const queued = await this.#options.outbox.decide({ consumed, messages, notified: announced });
    for (const host of announced) this.#announced.set(host.host, host);
    // Between the host's line and each channel's "sent": what was decided, once, for all channels.
    if (notification && messages.length > 0) {
      this.#options.log.info(
        { channels, hosts: notification.hosts.length, notification: notification.kind },
        `notification "${notification.title}" queued for ${channels.join(', ')}`,
      );
    }
    return queued;
  }

  #announceSafely(notification: Notification, channels?: readonly string[]): void {
    this.announce(notification, channels).catch((error: unknown) => {
      this.#options.log.error({ err: error }, `cannot store the message "${notification.title}"`);
    });
  }

  /** The held problems go back into their groups; deciding them then checks they still hold. */
  #releaseHeld(): void {
    const now = this.#options.now();
    for (const trigger of this.#holds.release()) this.#groups.addTrigger(trigger.detail.group, trigger, now);
  }

  async #endIsolation(): Promise<void> {
    const over = this.#holds.endIsolation();
    if (!over) return;
    // Not through `announce`: this runs in the lane already, and must not wait behind itself.
    try {
      this.#fleet.enqueue(
        await this.#store([], this.channels, isolationOver(over.stillDown, this.#options.now()), []),
      );
    } catch (error) {
      this.#options.log.error({ err: error }, 'cannot store the message "hbd hears its hosts again"');
    }
    this.#releaseHeld();
  }

  #scheduleTick(): void {
    if (this.#stopped) return;
    this.#tick = this.#timers.after(TICK_MS, () => {
      this.#scheduleTick();
      // A store that hangs must not pile up ticks behind it: one waiting is enough.
      if (this.#housekeepingQueued) return;
      this.#housekeepingQueued = true;
      this.#inTurn('remind or settle', () => {
        this.#housekeepingQueued = false;
        this.#housekeeping();
      });
    });
  }

  #housekeeping(): void {
    if (this.#stopped) return;
    const now = this.#options.now();
    if (this.#flaps) {
      for (const host of this.#flaps.settle(now)) {
        const current = this.#options.host(host);
        if (current) this.#groups.addExtra(this.#groupOf(current), settledExtra(current, now), now);
      }
    }
    if (this.#settings.repeatMs > 0) this.#remind(now);
  }

  #remind(now: number): void {
    const repeat = this.#settings.repeatMs;
    for (const announced of this.#announced.values()) {
      if (announced.downAt === null) continue;
      const last = announced.remindedAt ?? announced.downAt;
      if (now - last < repeat) continue;
      const current = this.#options.host(announced.host);
      if (current?.state !== 'down') continue;
      if (this.#flaps?.isFlapping(announced.host) || this.#options.silences.matching(announced.host, now))
        continue;
      // Marked at once so the next tick does not add it again while its group waits.
      this.#announced.set(announced.host, { ...announced, remindedAt: now });
      this.#groups.addExtra(
        this.#groupOf(current),
        reminderExtra({ ...announced, downAt: announced.downAt }, current, now),
        now,
      );
    }
  }

  #groupOf(host: HostRecord): string {
    return this.#settings.groupBy ? (host.fields[this.#settings.groupBy] ?? '') : '';
  }
}
