/**
 * Every notification channel hbd knows: the one place a channel is registered. Adding a channel
 * is one file that calls `defineChannel` and one line below (docs/notify.md, "Adding a channel");
 * the config schema of `notify:`, the secret keys, the channel names, the `pushsrv` choices and
 * the example config all follow from this list.
 */

import type { z } from 'zod';
import type { Notifier } from '../types.js';
import type { ChannelContext, ChannelDefinition } from './define-channel.js';
import email from './email.js';
import mattermost from './mattermost.js';
import ntfy from './ntfy.js';
import pushover from './pushover.js';
import signal from './signal.js';
import webhook from './webhook.js';

/** In the order they are built, listed and shown in the example config. */
export const CHANNELS = [email, pushover, mattermost, signal, webhook, ntfy] as const;

type Channel = (typeof CHANNELS)[number];
export type ChannelName = Channel['name'];
export type PushServiceName = Extract<Channel, { pushService: true }>['name'];
/** The top-level `pushsrv`: one push service, all of them, or none. */
export type Pushsrv = PushServiceName | 'all' | 'none';

export const CHANNEL_NAMES: readonly ChannelName[] = CHANNELS.map((channel) => channel.name);

/** The channels `pushsrv` chooses among; the others are used whenever they are configured. */
export const PUSH_SERVICE_NAMES = CHANNELS.filter((channel) => channel.pushService).map(
  (channel) => channel.name,
) as readonly string[] as readonly [PushServiceName, ...PushServiceName[]];

/** The values `pushsrv` takes, for its schema. */
export const PUSHSRV_CHOICES = [...PUSH_SERVICE_NAMES, 'all', 'none'] as const;

/** Each channel's parsed section under `notify:`; null when it is not configured. */
export type ChannelSettings = { readonly [C in Channel as C['name']]: z.output<C['schema']> | null };

/** The channels' part of the `notify:` schema: each section optional, null when left out. */
export type ChannelSections = { [C in Channel as C['name']]: z.ZodDefault<z.ZodNullable<C['schema']>> };

export function channelSections(): ChannelSections {
  return Object.fromEntries(
    CHANNELS.map((channel) => [channel.name, (channel.schema as z.ZodType).nullable().default(null)]),
  ) as unknown as ChannelSections;
}

/** `<channel>.<key>` for every key that holds a credential, to be redacted in config messages. */
export const CHANNEL_SECRET_KEYS: readonly string[] = CHANNELS.flatMap((channel) =>
  channel.secretKeys.map((key) => `${channel.name}.${key}`),
);

/** Whether `pushsrv` lets a configured channel be used. */
export function pushsrvAllows(pushsrv: Pushsrv, name: ChannelName): boolean {
  return !(PUSH_SERVICE_NAMES as readonly string[]).includes(name) || pushsrv === 'all' || pushsrv === name;
}

/**
 * A notifier for every configured channel that `pushsrv` allows, in list order. The sections were
 * checked when the config was parsed, so building one does not fail on its options.
 */
export function createChannels(
  config: { readonly notify: ChannelSettings; readonly pushsrv: Pushsrv },
  context: ChannelContext,
): Notifier[] {
  const notifiers: Notifier[] = [];
  for (const channel of CHANNELS as readonly ChannelDefinition<ChannelName>[]) {
    const section = config.notify[channel.name];
    if (section === null || !pushsrvAllows(config.pushsrv, channel.name)) continue;
    notifiers.push(channel.create(section, context));
  }
  return notifiers;
}

export type { ChannelContext, ChannelDefinition } from './define-channel.js';
