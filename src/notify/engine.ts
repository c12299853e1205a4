import { createHash } from 'node:crypto';
import type { Logger } from '../lib/log.js';
import { type HostEvent, STATUS_FLAPPING } from '../model/events.js';
import type { HostRecord } from '../model/host.js';
import type { Notification } from '../model/notification.js';
import type { AnnouncedHost, NewMessage, OutboxMessage, Trigger } from '../model/outbox.js';
import type { OutboxStore } from '../store/outbox-store.js';
import { type ChannelStats, ChannelWorker, type DeliveryPolicy } from './channel-worker.js';
import { compose, formatWallTime, type Item } from './compose.js';
import { FlapDetector, type FlapPolicy } from './flapping.js';
import { type EstablishedHosts, FleetIsolation, type IsolationPolicy, type Tripped } from './isolation.js';
import { triggersFor } from './triggers.js';
import type { Notifier } from './types.js';

export interface NotifySettings {
  groupWaitMs: number;
  /** A host field whose value splits hosts into groups (one message per group); null: one group. */
  groupBy: string | null;
  /** Reminder period while a host stays down; 0: none. */
  repeatMs: number;
  /** After hbd starts, problems are held this long, then announced only if they still hold. */
  restartGraceMs: number;
  /** How long a message keeps being retried. */
  deadlineMs: number;
  delivery: DeliveryPolicy;
  isolation: IsolationPolicy | null;
  /** After hosts are heard again, how long to wait before announcing those still down. */
  isolationSettleMs: number;
  flapping: FlapPolicy | null;
  /** A host whose first heartbeat already reports warn or fail is announced. */
  announceNewProblems: boolean;
}

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
  now: () => number;
  log: Logger;
}

/** Housekeeping period: reminders, flapping hosts settling. */
const TICK_MS = 1000;
/** A decision that could not be stored is tried again after this long. */
const STORE_RETRY_MS = 1000;

interface Group {
  key: string;
  triggers: Trigger[];
  /** Items decided outside the triggers: reminders, flapping started or settled. */
  extras: Extra[];
  flushAt: number;
}

/**
 * An item decided outside the triggers, and what it does to the host's announced state.
 * The effect is applied when the group is decided, against what the group's triggers did
 * by then, rather than as a snapshot taken earlier that would undo them.
 */
interface Extra {
  item: Item;
  /**
   * `settled`: a flapping host calmed down, and is announced as down or not; it is the
   * ground its triggers in the same group stand on. `reminder`: sent only if the host is
   * still announced as down once the group's triggers are applied.
   */
  effect?: { kind: 'settled'; down: boolean } | { kind: 'reminder' };
}

/**
 * Turns transitions into messages, and delivers them.
 *
 * The path of a transition: its trigger is stored in the same transaction as the transition
 * (`inCommit`); once that commits, the trigger joins its group; `group_wait` later the group
 * is decided (silences, flapping, what was already announced, whether hbd may be isolated or
 * has just restarted) and becomes one message per channel, stored in the outbox in the
 * transaction that consumes its triggers; the channel workers send from the outbox. A crash
 * at any point leaves either the trigger or the message on disk, never neither.
 */
export class NotifyEngine {
  readonly #options: NotifyEngineOptions;
  #settings: NotifySettings;
  readonly #workers = new Map<string, ChannelWorker>();
  readonly #groups = new Map<string, Group>();
  /** Triggers written by a transaction whose commit is not confirmed yet, by event id. */
  #uncommitted = new Map<number, Trigger[]>();
  /** Problems waiting for the restart grace or the isolation to end, by host. */
  readonly #held = new Map<string, Trigger[]>();
  readonly #notified = new Map<string, AnnouncedHost>();
  readonly #flaps: FlapDetector | undefined;
  readonly #isolation: FleetIsolation | undefined;
  readonly #graceEndsAt: number;
  #graceTimer: NodeJS.Timeout | undefined;
  #flushTimer: NodeJS.Timeout | undefined;
  #isolationTimer: NodeJS.Timeout | undefined;
  #tick: NodeJS.Timeout | undefined;
  #knownHosts = { count: { all: 0, signed: 0 } as EstablishedHosts, at: Number.NEGATIVE_INFINITY };
  #stopped = false;

  constructor(options: NotifyEngineOptions) {
    this.#options = options;
    this.#settings = options.settings;
    this.#flaps = options.settings.flapping ? new FlapDetector(options.settings.flapping) : undefined;
    this.#isolation = options.settings.isolation ? new FleetIsolation(options.settings.isolation) : undefined;
    this.#graceEndsAt = options.now() + options.settings.restartGraceMs;
    for (const notifier of options.channels) {
      this.#workers.set(
        notifier.channel,
        new ChannelWorker({
          notifier,
          outbox: options.outbox,
          policy: options.settings.delivery,
          now: options.now,
          log: options.log,
          onFailing: (channel, stats) => this.#channelFailing(channel, stats),
          onRecovered: (channel) => this.#channelRecovered(channel),
        }),
      );
    }
  }

  get channels(): string[] {
    return [...this.#workers.keys()];
  }

  channelStats(): { channel: string; stats: ChannelStats }[] {
    return [...this.#workers.values()].map((worker) => ({ channel: worker.channel, stats: worker.stats }));
  }

  /**
   * Applies what a config reload changes: the settings derived from the live keys `grace` (the
   * isolation window) and `interval` (the settle time after isolation). The rest comes from the
   * `notify` section, which needs a restart, so it stays as it was.
   */
  reload(settings: NotifySettings): void {
    const isolation = this.#settings.isolation;
    const windowMs = settings.isolation?.windowMs;
    this.#settings = {
      ...this.#settings,
      isolation: isolation && windowMs !== undefined ? { ...isolation, windowMs } : isolation,
      isolationSettleMs: settings.isolationSettleMs,
    };
    if (windowMs !== undefined) this.#isolation?.setWindowMs(windowMs);
  }

  /** Resumes from the store: undecided triggers (held for the restart grace) and unsent messages. */
  start(recentStateChanges: readonly Pick<HostEvent, 'host' | 'at'>[] = []): void {
    const { outbox } = this.#options;
    for (const host of outbox.notifiedHosts()) this.#notified.set(host.host, host);
    // Oldest first, so the detector sees them in the order they happened.
    for (const change of recentStateChanges) this.#flaps?.record(change.host, change.at);
    for (const trigger of outbox.pendingTriggers()) this.#accept(trigger, false);
    for (const message of outbox.pendingMessages()) this.#workers.get(message.channel)?.enqueue(message);
    const graceLeft = this.#graceEndsAt - this.#options.now();
    if (graceLeft > 0) {
      this.#graceTimer = setTimeout(() => this.#releaseHeld(), graceLeft);
      this.#graceTimer.unref();
    }
    this.#tick = setInterval(() => this.#housekeeping(), TICK_MS);
    this.#tick.unref();
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of [this.#graceTimer, this.#flushTimer, this.#isolationTimer]) clearTimeout(timer);
    clearInterval(this.#tick);
    for (const worker of this.#workers.values()) worker.stop();
  }

  /** Runs inside the transaction that stores `events`: their triggers are stored with them. */
  inCommit(events: readonly HostEvent[]): void {
    // A new transaction: whatever the last one left unconfirmed was rolled back.
    this.#uncommitted = new Map();
    const triggers = this.#options.outbox.addTriggers(
      triggersFor(events, {
        host: this.#options.host,
        previousStateChange: (host, before) => this.#options.outbox.previousStateChange(host, before),
        groupBy: this.#settings.groupBy,
        rules: { announceNewProblems: this.#settings.announceNewProblems },
      }),
    );
    for (const trigger of triggers) {
      const list = this.#uncommitted.get(trigger.eventId) ?? [];
      list.push(trigger);
      this.#uncommitted.set(trigger.eventId, list);
    }
  }

  /** A stored event was published: its triggers are now safe to act on. */
  eventCommitted(event: HostEvent): void {
    // A host coming back is proof that hbd can hear again; while isolated every host is late
    // or down, so whoever is heard first makes such a transition.
    if (event.kind === 'state' && event.to === 'up') this.#heard(event.host);
    if (event.kind === 'forget') this.#forget(event.host);
    const triggers = this.#uncommitted.get(event.id);
    if (!triggers) return;
    this.#uncommitted.delete(event.id);
    for (const trigger of triggers) this.#accept(trigger, true);
  }

  #heard(host: string): void {
    if (!this.#isolation?.isolated) return;
    this.#isolation.heard(this.#options.host(host)?.signed ?? false);
    if (this.#isolationTimer) return;
    this.#isolationTimer = setTimeout(() => {
      this.#isolationTimer = undefined;
      this.#endIsolation();
    }, this.#settings.isolationSettleMs);
    this.#isolationTimer.unref();
  }

  /** Queues one message on every channel now, outside any group (test, isolation, channel alerts). */
  announce(notification: Notification, channels: readonly string[] = this.channels): OutboxMessage[] {
    return this.#store([], channels, notification, []);
  }

  /** A host an operator removed starts afresh if it comes back: nothing about it is outstanding. */
  #forget(host: string): void {
    this.#flaps?.forget(host);
    this.#held.delete(host);
    if (!this.#notified.has(host)) return;
    try {
      this.#store([], [], undefined, [{ host, downAt: null, status: null, remindedAt: null }]);
      this.#notified.delete(host);
    } catch (error) {
      this.#options.log.error({ err: error, host }, 'cannot clear what was announced about a forgotten host');
    }
  }

  #accept(trigger: Trigger, live: boolean): void {
    if (live && trigger.kind !== 'status') {
      if (this.#flaps?.record(trigger.host, trigger.at)) {
        this.#addExtra(trigger.detail.group, {
          item: {
            ...itemBase(trigger),
            kind: 'flapping',
            state: trigger.detail.to ?? '',
            reason: `${this.#flaps.changesWithinWindow(trigger.host)} state changes within ${Math.round(
              this.#settings.flapping!.windowMs / 60_000,
            )} min`,
          },
        });
      }
      if (trigger.kind === 'down') this.#countSilence(trigger);
    }
    const group = this.#group(trigger.detail.group);
    group.triggers.push(trigger);
  }

  /** An established host went silent: perhaps one of many, which would mean hbd is isolated. */
  #countSilence(trigger: Trigger): void {
    if (!this.#isolation || !this.#options.isEstablished(trigger.host)) return;
    const signed = this.#options.host(trigger.host)?.signed ?? false;
    const tripped = this.#isolation.wentSilent(trigger.at, signed, this.#knownHostCount());
    if (tripped) this.#startIsolation(tripped);
  }

  #group(key: string): Group {
    let group = this.#groups.get(key);
    if (!group) {
      group = { key, triggers: [], extras: [], flushAt: this.#options.now() + this.#settings.groupWaitMs };
      this.#groups.set(key, group);
      this.#armFlush();
    }
    return group;
  }

  #addExtra(groupKey: string, extra: Extra): void {
    this.#group(groupKey).extras.push(extra);
  }

  #armFlush(): void {
    if (this.#stopped) return;
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    let next = Number.POSITIVE_INFINITY;
    for (const group of this.#groups.values()) next = Math.min(next, group.flushAt);
    if (next === Number.POSITIVE_INFINITY) return;
    this.#flushTimer = setTimeout(() => this.#flushDue(), Math.max(0, next - this.#options.now()));
    this.#flushTimer.unref();
  }

  #flushDue(): void {
    this.#flushTimer = undefined;
    const now = this.#options.now();
    for (const group of [...this.#groups.values()]) {
      if (group.flushAt > now) continue;
      this.#groups.delete(group.key);
      if (!this.#decide(group, now)) {
        // Keep it for another try, merged with whatever joined the group meanwhile.
        const again = this.#group(group.key);
        again.triggers.unshift(...group.triggers);
        again.extras.unshift(...group.extras);
        again.flushAt = now + STORE_RETRY_MS;
      }
    }
    this.#armFlush();
  }

  /** Decides a group: which of its hosts get a line, and what is now known as announced. */
  #decide(group: Group, now: number): boolean {
    const items: Item[] = [];
    const consumed: number[] = [];
    const notified = new Map<string, AnnouncedHost>();
    const holding = now < this.#graceEndsAt;
    const announced = (host: string) => notified.get(host) ?? this.#notifiedOf(host);

    for (const { item, effect } of group.extras) {
      if (effect?.kind !== 'settled') continue;
      notified.set(item.host, {
        ...announced(item.host),
        downAt: effect.down ? item.at : null,
        remindedAt: null,
      });
    }

    for (const [host, triggers] of byHost(group.triggers)) {
      const before = announced(host);
      const after = { ...before };
      const current = this.#options.host(host);
      const muted = this.#options.silences.matching(host, now) !== undefined;
      const lastState = triggers.findLast((trigger) => trigger.kind !== 'status');
      const lastStatus = triggers.findLast((trigger) => trigger.kind === 'status');
      const held: Trigger[] = [];

      if (lastState?.kind === 'down') {
        if (current?.state !== 'down' || after.downAt !== null) {
          // It is back already (its "up" is in this group), or its down was announced before.
        } else if (holding || this.#isolation?.holds(current.signed)) {
          held.push(lastState);
        } else if (!muted && !this.#flaps?.isFlapping(host)) {
          items.push({ ...itemBase(lastState), ...fromHost(current), kind: 'down' });
          after.downAt = now;
          after.remindedAt = null;
        }
      } else if (lastState?.kind === 'up' && after.downAt !== null) {
        after.downAt = null;
        after.remindedAt = null;
        if (!muted && !this.#flaps?.isFlapping(host) && current) {
          items.push({ ...itemBase(lastState), ...fromHost(current), kind: 'up' });
        }
      }

      if (lastStatus?.detail.to === STATUS_FLAPPING && current) {
        // A status flapping episode: one message for it, not one per change (nor held: it is
        // made of heartbeats heard, not of a silence a restart could explain).
        if (after.status !== STATUS_FLAPPING && !muted) {
          items.push({ ...itemBase(lastStatus), ...fromHost(current), kind: 'flapping' });
          after.status = STATUS_FLAPPING;
        }
      } else if (lastStatus && current) {
        const problem = current.status === 'warn' || current.status === 'fail';
        if (problem && after.status !== current.status) {
          if (holding) held.push(lastStatus);
          else if (!muted) {
            items.push({ ...itemBase(lastStatus), ...fromHost(current), kind: 'status' });
            after.status = current.status;
          }
        } else if (!problem && after.status !== null) {
          after.status = null;
          if (!muted) items.push({ ...itemBase(lastStatus), ...fromHost(current), kind: 'status-ok' });
        }
      }

      for (const trigger of triggers) if (!held.includes(trigger)) consumed.push(trigger.id);
      if (held.length > 0) this.#held.set(host, [...(this.#held.get(host) ?? []), ...held]);
      if (after.downAt !== before.downAt || after.status !== before.status) notified.set(host, after);
    }

    for (const { item, effect } of group.extras) {
      if (effect?.kind === 'reminder') {
        const state = announced(item.host);
        // Its recovery (or a forget) came in this group: a "still down" line would be wrong.
        if (state.downAt === null || this.#options.host(item.host)?.state !== 'down') continue;
        notified.set(item.host, { ...state, remindedAt: item.at });
      }
      items.push(item);
    }

    const key = dedupKey(consumed, items);
    const notification = items.length > 0 ? compose(items, { dedupKey: key, group: group.key }) : undefined;
    try {
      this.#store(consumed, this.channels, notification, [...notified.values()]);
    } catch (error) {
      this.#options.log.error({ err: error }, 'cannot store notifications; will retry');
      for (const host of notified.keys()) this.#held.delete(host);
      return false;
    }
    return true;
  }

  /** One transaction: triggers consumed, per-host memory updated, a message queued per channel. */
  #store(
    consumed: readonly number[],
    channels: readonly string[],
    notification: Notification | undefined,
    notified: readonly AnnouncedHost[],
  ): OutboxMessage[] {
    const now = this.#options.now();
    const messages: NewMessage[] = notification
      ? channels.map((channel) => ({
          channel,
          notification,
          createdAt: now,
          deadlineAt: now + this.#settings.deadlineMs,
        }))
      : [];
    const queued = this.#options.outbox.decide({ consumed, messages, notified });
    for (const host of notified) this.#notified.set(host.host, host);
    for (const message of queued) this.#workers.get(message.channel)?.enqueue(message);
    return queued;
  }

  #notifiedOf(host: string): AnnouncedHost {
    return this.#notified.get(host) ?? { host, downAt: null, status: null, remindedAt: null };
  }

  /**
   * The held problems go back into their groups; deciding them then checks they still hold. Those
   * of hosts the isolation guard still holds stay (a signed host's never wait for unsigned ones).
   */
  #releaseHeld(): void {
    // Also called when an isolation ends: the grace's own timer is then replaced, not doubled.
    clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    if (this.#stopped) return;
    // A timer runs on the monotonic clock and may fire a moment before `now()` reaches the end of
    // the grace: wait out the rest, or the problems held meanwhile would never be announced.
    const graceLeft = this.#graceEndsAt - this.#options.now();
    if (graceLeft > 0) {
      this.#graceTimer = setTimeout(() => this.#releaseHeld(), graceLeft);
      this.#graceTimer.unref();
      return;
    }
    for (const [host, triggers] of [...this.#held]) {
      if (this.#isolation?.holds(this.#options.host(host)?.signed ?? false)) continue;
      this.#held.delete(host);
      for (const trigger of triggers) this.#group(trigger.detail.group).triggers.push(trigger);
    }
  }

  #startIsolation(tripped: Tripped): void {
    const guard = this.#isolation!;
    const now = this.#options.now();
    const hosts = tripped.signedOnly ? 'signed hosts' : 'hosts';
    this.#options.log.warn(
      { silent: tripped.silent, known: tripped.known, signedOnly: tripped.signedOnly },
      'so many hosts went silent at once that hbd may be isolated; holding per-host messages',
    );
    this.#announceSafely({
      dedupKey: `isolated:${now}`,
      kind: 'isolated',
      title: 'hbd may be isolated',
      body:
        `${tripped.silent} of ${tripped.known} established ${hosts} went silent within ` +
        `${Math.round(guard.windowMs / 1000)} s (by ${formatWallTime(now)}). hbd's own network may be down, ` +
        'so no host is reported down yet: per-host messages are held until hosts are heard again.',
      hosts: [],
      at: now,
      resolves: false,
    });
  }

  #endIsolation(): void {
    if (this.#stopped || !this.#isolation?.isolated) return;
    // Still isolated for signed hosts (only unsigned ones were heard): nothing is over yet.
    if (!this.#isolation.settle()) return;
    const now = this.#options.now();
    const stillDown = [...this.#held.keys()].filter((host) => this.#options.host(host)?.state === 'down');
    this.#announceSafely({
      dedupKey: `isolation-over:${now}`,
      kind: 'isolated',
      title: 'hbd hears its hosts again',
      body:
        stillDown.length > 0
          ? `${stillDown.length} hosts are still down; a message about them follows.`
          : 'Every host that went silent is back.',
      hosts: [],
      at: now,
      resolves: true,
    });
    this.#releaseHeld();
  }

  #channelFailing(channel: string, stats: ChannelStats): void {
    const others = this.channels.filter((other) => other !== channel);
    if (others.length === 0) return;
    const since = stats.failingSince ?? this.#options.now();
    this.#announceSafely(
      {
        dedupKey: `channel-failing:${channel}:${since}`,
        kind: 'channel',
        title: `hbd cannot deliver to ${channel}`,
        body:
          `Messages to ${channel} have been failing since ${formatWallTime(since)}: ${stats.lastError ?? 'unknown error'}. ` +
          `${stats.pending} waiting.`,
        hosts: [],
        at: this.#options.now(),
        resolves: false,
      },
      others,
    );
  }

  #channelRecovered(channel: string): void {
    const others = this.channels.filter((other) => other !== channel);
    const now = this.#options.now();
    this.#announceSafely(
      {
        dedupKey: `channel-recovered:${channel}:${now}`,
        kind: 'channel',
        title: `hbd delivers to ${channel} again`,
        body: `Messages to ${channel} are going through again.`,
        hosts: [],
        at: now,
        resolves: true,
      },
      others,
    );
  }

  #announceSafely(notification: Notification, channels?: readonly string[]): void {
    try {
      this.announce(notification, channels);
    } catch (error) {
      this.#options.log.error({ err: error }, `cannot store the message "${notification.title}"`);
    }
  }

  #housekeeping(): void {
    const now = this.#options.now();
    if (this.#flaps) {
      for (const host of this.#flaps.settle(now)) this.#settled(host, now);
    }
    if (this.#settings.repeatMs > 0) this.#remind(now);
  }

  /** A flapping host calmed down: say where it ended, and remember that as announced. */
  #settled(host: string, now: number): void {
    const current = this.#options.host(host);
    if (!current) return;
    this.#addExtra(this.#groupOf(current), {
      item: {
        kind: 'settled',
        host,
        at: now,
        ...fromHost(current),
        reason: 'no longer flapping',
        previousFor: null,
      },
      effect: { kind: 'settled', down: current.state === 'down' },
    });
  }

  #remind(now: number): void {
    const repeat = this.#settings.repeatMs;
    for (const notified of this.#notified.values()) {
      if (notified.downAt === null) continue;
      const last = notified.remindedAt ?? notified.downAt;
      if (now - last < repeat) continue;
      const current = this.#options.host(notified.host);
      if (current?.state !== 'down') continue;
      if (this.#flaps?.isFlapping(notified.host) || this.#options.silences.matching(notified.host, now))
        continue;
      // Marked at once so the next tick does not add it again while its group waits.
      const updated = { ...notified, remindedAt: now };
      this.#notified.set(notified.host, updated);
      this.#addExtra(this.#groupOf(current), {
        item: {
          kind: 'reminder',
          host: notified.host,
          at: now,
          ...fromHost(current),
          reason: 'still down',
          previousFor: now - notified.downAt,
        },
        effect: { kind: 'reminder' },
      });
    }
  }

  #groupOf(host: HostRecord): string {
    return this.#settings.groupBy ? (host.fields[this.#settings.groupBy] ?? '') : '';
  }

  #knownHostCount(): EstablishedHosts {
    const now = this.#options.now();
    if (now - this.#knownHosts.at > TICK_MS)
      this.#knownHosts = { count: this.#options.knownHosts(), at: now };
    return this.#knownHosts.count;
  }
}

function byHost(triggers: readonly Trigger[]): Map<string, Trigger[]> {
  const hosts = new Map<string, Trigger[]>();
  for (const trigger of triggers) {
    const list = hosts.get(trigger.host) ?? [];
    list.push(trigger);
    hosts.set(trigger.host, list);
  }
  return hosts;
}

function itemBase(trigger: Trigger): Omit<Item, 'kind'> {
  const { detail } = trigger;
  return {
    host: trigger.host,
    at: trigger.at,
    state: detail.to ?? '',
    status: detail.status,
    msg: detail.msg,
    addr: detail.addr,
    reason: detail.reason,
    previousFor: detail.previousFor,
  };
}

/** What the host says now, for a message decided after the transition. */
function fromHost(host: HostRecord): Pick<Item, 'state' | 'status' | 'msg' | 'addr'> {
  return { state: host.state, status: host.status, msg: host.msg, addr: host.addr };
}

/** Stable across a crash and a retry: the same triggers and items give the same key. */
function dedupKey(consumed: readonly number[], items: readonly Item[]): string {
  const hash = createHash('sha256');
  hash.update(consumed.join(','));
  for (const item of items) hash.update(`|${item.kind}:${item.host}:${item.at}`);
  return `hbd-${hash.digest('hex').slice(0, 24)}`;
}
