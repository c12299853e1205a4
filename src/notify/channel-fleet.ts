import type { Logger } from '../lib/log.js';
import type { Notification } from '../model/notification.js';
import type { OutboxMessage } from '../model/outbox.js';
import type { OutboxStore } from '../store/outbox-store.js';
import { type ChannelStats, ChannelWorker, type DeliveryPolicy } from './channel-worker.js';
import { channelFailing, channelRecovered } from './compose.js';
import type { Timers } from './timers.js';
import type { Notifier } from './types.js';

export interface ChannelFleetOptions {
  channels: readonly Notifier[];
  outbox: OutboxStore;
  policy: DeliveryPolicy;
  now: () => number;
  timers?: Timers;
  log: Logger;
  /** Queues a message on these channels (the health alerts about one channel go to the others). */
  announce(notification: Notification, channels: readonly string[]): void;
}

/**
 * The configured channels, one worker each, and their health: when one keeps failing, and when
 * it works again, the other channels are told.
 */
export class ChannelFleet {
  readonly #workers = new Map<string, ChannelWorker>();
  readonly #options: ChannelFleetOptions;

  constructor(options: ChannelFleetOptions) {
    this.#options = options;
    for (const notifier of options.channels) {
      this.#workers.set(
        notifier.channel,
        new ChannelWorker({
          notifier,
          outbox: options.outbox,
          policy: options.policy,
          now: options.now,
          timers: options.timers,
          log: options.log,
          onFailing: (channel, stats) => this.#failing(channel, stats),
          onRecovered: (channel) => this.#recovered(channel),
        }),
      );
    }
  }

  get channels(): string[] {
    return [...this.#workers.keys()];
  }

  stats(): { channel: string; stats: ChannelStats }[] {
    return [...this.#workers.values()].map((worker) => ({ channel: worker.channel, stats: worker.stats }));
  }

  /** Hands stored messages to their channels' workers; all at once, so a rate limit sees them together. */
  enqueue(messages: readonly OutboxMessage[]): void {
    for (const message of messages) this.#workers.get(message.channel)?.enqueue(message);
  }

  stop(): void {
    for (const worker of this.#workers.values()) worker.stop();
  }

  #others(channel: string): string[] {
    return this.channels.filter((other) => other !== channel);
  }

  #failing(channel: string, stats: ChannelStats): void {
    const others = this.#others(channel);
    if (others.length === 0) return;
    this.#options.announce(channelFailing(channel, stats, this.#options.now()), others);
  }

  #recovered(channel: string): void {
    this.#options.announce(channelRecovered(channel, this.#options.now()), this.#others(channel));
  }
}
