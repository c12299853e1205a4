import { formatDuration } from '../lib/duration.js';
import { errorMessage } from '../lib/error-message.js';
import type { Logger } from '../lib/log.js';
import type { Notification } from '../model/notification.js';
import type { NewMessage, OutboxMessage } from '../model/outbox.js';
import { isNotLeader } from '../store/fencing.js';
import type { OutboxStore } from '../store/outbox-store.js';
import { latest } from './compose.js';
import { type Cancel, systemTimers, type Timers } from './timers.js';
import { type Notifier, NotifyError } from './types.js';

export interface DeliveryPolicy {
  /** Sends in flight at once. */
  concurrency: number;
  /** Messages per minute; past it the waiting ones go out as one digest. 0: no limit. */
  ratePerMinute: number;
  retryMinMs: number;
  retryMaxMs: number;
  /** How long a channel must keep failing before the other channels are told. */
  alertAfterMs: number;
}

export interface ChannelStats {
  sent: number;
  failed: number;
  retries: number;
  merged: number;
  pending: number;
  /** Wall time the current run of failures began; null while the channel works. */
  failingSince: number | null;
  lastError: string | null;
}

export interface ChannelWorkerOptions {
  notifier: Notifier;
  outbox: OutboxStore;
  policy: DeliveryPolicy;
  now: () => number;
  log: Logger;
  /** The channel has kept failing for `alertAfterMs`; called once per run of failures. */
  onFailing: (channel: string, stats: ChannelStats) => void;
  /** It works again after `onFailing`. */
  onRecovered: (channel: string, stats: ChannelStats) => void;
  /** For the backoff jitter; tests pass a fixed one. */
  random?: () => number;
  /** Default: the system's; tests pass a manual clock's. */
  timers?: Timers;
}

const RATE_WINDOW_MS = 60_000;
/** Longer than any provider's own timeout: a send that hangs beyond it is given up and retried. */
const SEND_TIMEOUT_MS = 120_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Delivers one channel's messages from the outbox: in order per host, a few at a time,
 * retrying what may yet succeed with jittered exponential backoff (or when the provider
 * says, Retry-After) until the message's deadline, and failing for good what cannot
 * (bad credentials, a refused request). Every outcome is written to the outbox first,
 * so a restart resumes exactly where this left off.
 */
export class ChannelWorker {
  readonly channel: string;
  readonly #options: ChannelWorkerOptions;
  readonly #random: () => number;
  readonly #timers: Timers;
  /** Pending messages, in delivery order (by position: a digest stands where its earliest message stood). */
  #queue: OutboxMessage[] = [];
  readonly #inFlight = new Map<number, AbortController>();
  /** Start times of the sends within the last rate window. */
  readonly #recentSends: number[] = [];
  #timer: Cancel | undefined;
  /** A pump is running (it may wait for the store to merge a digest): another must not start. */
  #pumping = false;
  #pumpAgain = false;
  #stopped = false;
  /** This node lost the leader lease: another node sends now, this one sends nothing. */
  #fenced = false;
  /** The outbox could not be asked whether a message may go: nothing is sent until then. */
  #claimsPausedUntil = Number.NEGATIVE_INFINITY;
  #lastClaimErrorLog = Number.NEGATIVE_INFINITY;
  #alerted = false;
  readonly stats: ChannelStats = {
    sent: 0,
    failed: 0,
    retries: 0,
    merged: 0,
    pending: 0,
    failingSince: null,
    lastError: null,
  };

  constructor(options: ChannelWorkerOptions) {
    this.channel = options.notifier.channel;
    this.#options = options;
    this.#random = options.random ?? Math.random;
    this.#timers = options.timers ?? systemTimers;
  }

  enqueue(message: OutboxMessage): void {
    if (this.#stopped || message.state !== 'pending') return;
    this.#insert(message);
    this.stats.pending = this.#queue.length;
    this.#pumpSoon();
  }

  #insert(message: OutboxMessage): void {
    this.#queue.push(message);
    if (this.#queue.length > 1 && this.#queue.at(-2)!.position > message.position)
      this.#queue.sort((a, b) => a.position - b.position);
  }

  /** Stops sending; what is in flight is cut off and stays pending in the outbox, for the next start. */
  stop(): void {
    this.#stopped = true;
    this.#timer?.();
    for (const controller of this.#inFlight.values()) controller.abort();
    this.#options.notifier.close?.().catch((error: unknown) => {
      this.#options.log.warn({ err: error, channel: this.channel }, 'cannot close the channel cleanly');
    });
  }

  #pumpSoon(): void {
    if (this.#stopped) return;
    this.#timer?.();
    this.#timer = this.#timers.after(0, () => this.#pump());
  }

  #pump(): void {
    this.#timer = undefined;
    if (this.#stopped) return;
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    this.#pumpOnce()
      .catch((error: unknown) => {
        this.#options.log.error({ err: error, channel: this.channel }, 'cannot deliver from the outbox');
      })
      .finally(() => {
        this.#pumping = false;
        if (this.#pumpAgain) {
          this.#pumpAgain = false;
          this.#pumpSoon();
        }
      });
  }

  async #pumpOnce(): Promise<void> {
    const now = this.#options.now();
    if (this.#fenced) return;
    if (now < this.#claimsPausedUntil) {
      this.#timer?.();
      this.#timer = this.#timers.after(this.#claimsPausedUntil - now, () => this.#pump());
      return;
    }
    this.#checkFailing(now);
    const { policy } = this.#options;
    while (this.#recentSends.length > 0 && this.#recentSends[0]! <= now - RATE_WINDOW_MS)
      this.#recentSends.shift();

    const eligible = this.#eligible(now);
    const slots = policy.concurrency - this.#inFlight.size;
    const allowance =
      policy.ratePerMinute > 0 ? policy.ratePerMinute - this.#recentSends.length : Number.POSITIVE_INFINITY;
    let toSend = eligible.slice(0, Math.max(0, Math.min(slots, allowance)));
    // Past the rate limit, everything still waiting goes out as one message: its last slot
    // carries a digest of the rest instead of one message among many.
    if (allowance <= slots && allowance >= 1 && eligible.length > allowance) {
      const rest = eligible.slice(allowance - 1);
      if (rest.length > 1) {
        const digest = await this.#merge(rest, now);
        if (this.#stopped) return;
        if (digest) toSend = [...eligible.slice(0, allowance - 1), digest];
      }
    }
    for (const message of toSend) this.#send(message, now);
    this.#scheduleNext(now);
  }

  /** Due messages none of whose hosts has an earlier message still waiting: per-host order holds. */
  #eligible(now: number): OutboxMessage[] {
    this.stats.pending = this.#queue.length;
    // While the channel fails, one message probes it at a time, oldest first: a recovering
    // provider is not hit with everything at once, and the backlog arrives in order.
    if (this.stats.failingSince !== null) {
      const oldest = this.#queue[0];
      const due = oldest !== undefined && this.#inFlight.size === 0 && oldest.nextAttemptAt <= now;
      return due ? [oldest] : [];
    }
    const blocked = new Set<string>();
    const eligible: OutboxMessage[] = [];
    for (const message of this.#queue) {
      const hosts = message.notification.hosts.map((host) => host.name);
      const free = hosts.every((host) => !blocked.has(host));
      if (free && !this.#inFlight.has(message.id) && message.nextAttemptAt <= now) eligible.push(message);
      for (const host of hosts) blocked.add(host);
    }
    return eligible;
  }

  async #merge(messages: OutboxMessage[], now: number): Promise<OutboxMessage | undefined> {
    const digest: NewMessage = {
      channel: this.channel,
      createdAt: now,
      deadlineAt: latest(messages.map((message) => message.deadlineAt)),
      notification: digestOf(messages.map((message) => message.notification)),
    };
    let stored: OutboxMessage;
    try {
      stored = await this.#options.outbox.merge(
        messages.map((message) => message.id),
        digest,
      );
    } catch (error) {
      this.#options.log.error(
        { err: error, channel: this.channel },
        'cannot store a digest; sending one by one',
      );
      return undefined;
    }
    const merged = new Set(messages.map((message) => message.id));
    this.#queue = this.#queue.filter((message) => !merged.has(message.id));
    // In its earliest message's place, the digest holds back what came later about any of its
    // hosts, until it is delivered or given up.
    this.#insert(stored);
    this.stats.merged += messages.length;
    return stored;
  }

  #send(message: OutboxMessage, now: number): void {
    const controller = new AbortController();
    const cancelTimeout = this.#timers.after(SEND_TIMEOUT_MS, () => controller.abort());
    this.#inFlight.set(message.id, controller);
    this.#recentSends.push(now);
    this.#claim(message)
      .then((claimed) => {
        if (!claimed) return;
        return this.#options.notifier.send(message.notification, controller.signal).then(
          async (receipt) => {
            const at = this.#options.now();
            await this.#write(() => this.#options.outbox.markSent(message.id, at, receipt.detail));
            this.#done(message);
            this.stats.sent++;
            const attempts = message.attempts + 1;
            this.#options.log.info(
              { channel: this.channel, message: message.id, attempts },
              `${this.channel}: sent "${message.notification.title}"` +
                (attempts > 1 ? ` at attempt ${attempts}` : ''),
            );
            this.#worked();
          },
          async (error: unknown) => {
            if (this.#stopped) return;
            await this.#failedAttempt(message, error);
          },
        );
      })
      .finally(() => {
        cancelTimeout();
        this.#inFlight.delete(message.id);
        this.#pumpSoon();
      });
  }

  async #failedAttempt(message: OutboxMessage, error: unknown): Promise<void> {
    const now = this.#options.now();
    const attempts = message.attempts + 1;
    const reason = errorMessage(error);
    // Anything but a provider's clear refusal (a bug, a socket torn down) may work next time.
    const retryable = !(error instanceof NotifyError) || error.retryable;
    if (!retryable) {
      // One refused message (too long, say) tells nothing about the channel: it neither starts
      // nor feeds a run of failures, which would alarm the other channels and slow this one.
      await this.#fail(message, attempts, now, reason, `failed for good, a retry cannot help: ${reason}`);
      return;
    }
    this.stats.failingSince ??= now;
    this.stats.lastError = reason;
    const delay =
      error instanceof NotifyError && error.retryAfterMs !== undefined
        ? // A provider's "Retry-After: 0" (or a date already past) would have us hammer it in a loop.
          Math.max(error.retryAfterMs, this.#options.policy.retryMinMs)
        : this.#backoff(attempts);
    if (now + delay > message.deadlineAt) {
      const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`;
      await this.#fail(
        message,
        attempts,
        now,
        `gave up after ${tries}: ${reason}`,
        `failed for good after ${tries}, the next would pass its deadline: ${reason}`,
      );
      return;
    }
    message.attempts = attempts;
    message.nextAttemptAt = now + delay;
    message.lastError = reason;
    await this.#write(() => this.#options.outbox.markRetry(message.id, attempts, now + delay, reason));
    this.stats.retries++;
    this.#options.log.warn(
      { channel: this.channel, message: message.id, attempts, retryInMs: Math.round(delay) },
      `${this.channel}: "${message.notification.title}" failed, retrying in ${formatDuration(delay)}: ${reason}`,
    );
  }

  /** `reason` is stored with the message; `outcome` says in the log why it is given up. */
  async #fail(
    message: OutboxMessage,
    attempts: number,
    now: number,
    reason: string,
    outcome: string,
  ): Promise<void> {
    await this.#write(() => this.#options.outbox.markFailed(message.id, attempts, now, reason));
    this.#done(message);
    this.stats.failed++;
    this.#options.log.warn(
      { channel: this.channel, message: message.id, attempts },
      `${this.channel}: "${message.notification.title}" ${outcome}`,
    );
  }

  /** Exponential from retry_min up to retry_max, with "equal jitter": half fixed, half random. */
  #backoff(attempts: number): number {
    const { retryMinMs, retryMaxMs } = this.#options.policy;
    const ceiling = Math.min(retryMaxMs, retryMinMs * 2 ** (attempts - 1));
    return ceiling / 2 + (this.#random() * ceiling) / 2;
  }

  /**
   * Asks the outbox, right before sending, whether the message may still go. On a cluster node
   * the answer is fenced: a leader that lost its lease (paused past it, say) sends nothing.
   */
  async #claim(message: OutboxMessage): Promise<boolean> {
    try {
      if (await this.#options.outbox.claim(message.id)) return true;
      // Sent, given up or merged by someone else meanwhile: it is no longer this worker's.
      this.#done(message);
      return false;
    } catch (error) {
      const now = this.#options.now();
      if (isNotLeader(error)) {
        if (!this.#fenced) {
          this.#fenced = true;
          this.#options.log.warn(
            { channel: this.channel, message: message.id },
            `${this.channel}: ${error.message}; sending nothing (the leader sends)`,
          );
        }
        return false;
      }
      this.#claimsPausedUntil = now + CLAIM_RETRY_MS;
      if (now - this.#lastClaimErrorLog >= CLAIM_ERROR_LOG_EVERY_MS) {
        this.#lastClaimErrorLog = now;
        this.#options.log.error(
          { err: error, channel: this.channel },
          `${this.channel}: cannot reach the outbox before sending; nothing is sent until it answers`,
        );
      }
      return false;
    }
  }

  #done(message: OutboxMessage): void {
    this.#queue = this.#queue.filter((queued) => queued.id !== message.id);
    this.stats.pending = this.#queue.length;
  }

  #worked(): void {
    const wasAlerted = this.#alerted;
    this.stats.failingSince = null;
    this.stats.lastError = null;
    this.#alerted = false;
    if (wasAlerted) this.#options.onRecovered(this.channel, this.stats);
  }

  #checkFailing(now: number): void {
    const since = this.stats.failingSince;
    if (this.#alerted || since === null || now - since < this.#options.policy.alertAfterMs) return;
    this.#alerted = true;
    this.#options.onFailing(this.channel, this.stats);
  }

  #scheduleNext(now: number): void {
    let next = Number.POSITIVE_INFINITY;
    for (const message of this.#queue) {
      if (!this.#inFlight.has(message.id)) next = Math.min(next, message.nextAttemptAt);
    }
    const { ratePerMinute, alertAfterMs } = this.#options.policy;
    if (ratePerMinute > 0 && this.#recentSends.length >= ratePerMinute) {
      next = Math.max(next, this.#recentSends[0]! + RATE_WINDOW_MS);
    }
    if (this.stats.failingSince !== null && !this.#alerted) {
      next = Math.min(next, this.stats.failingSince + alertAfterMs);
    }
    if (next === Number.POSITIVE_INFINITY) return;
    this.#timer?.();
    this.#timer = this.#timers.after(Math.min(MAX_TIMER_MS, Math.max(0, next - now)), () => this.#pump());
  }

  /** Every outcome is stored before the worker moves on, so a restart resumes where it left off. */
  async #write(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      // The message stays as the outbox last knew it: at worst it is sent again after a
      // restart, under the same dedup key.
      this.#options.log.error({ err: error, channel: this.channel }, 'cannot update the outbox');
    }
  }
}

/** How long sends wait after the outbox could not be asked, and how often that is logged. */
const CLAIM_RETRY_MS = 5000;
const CLAIM_ERROR_LOG_EVERY_MS = 60_000;

/** One message standing for several that the rate limit held back. */
export function digestOf(notifications: readonly Notification[]): Notification {
  const hosts = notifications.flatMap((notification) => notification.hosts);
  const keys = notifications.map((notification) => notification.dedupKey);
  return {
    dedupKey: `digest:${keys[0]}+${keys.length - 1}`,
    kind: 'digest',
    title: `${notifications.length} notifications (rate limit reached)`,
    body: notifications.map((notification) => notification.title).join('\n'),
    details: notifications
      .map((notification) => notification.details ?? notification.body)
      .join('\n\n----\n\n'),
    hosts,
    at: latest(notifications.map((notification) => notification.at)),
    resolves: notifications.every((notification) => notification.resolves),
  };
}
