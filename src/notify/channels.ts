import type { NotifyConfig } from '../config/notify-schema.js';
import { PUSH_SERVICE_NAMES } from '../config/notify-schema.js';
import type { Config } from '../config/schema.js';
import createEmail from './email.js';
import createMattermost from './mattermost.js';
import createNtfy from './ntfy.js';
import createPushover from './pushover.js';
import createSignal from './signal.js';
import type { Notifier } from './types.js';
import createWebhook from './webhook.js';

export type ChannelName = 'email' | 'pushover' | 'mattermost' | 'signal' | 'webhook' | 'ntfy';

/** Every channel hbd knows, in the order they are built and listed. */
export const CHANNEL_NAMES: readonly ChannelName[] = [
  'email',
  'pushover',
  'mattermost',
  'signal',
  'webhook',
  'ntfy',
];

/** The channels `pushsrv` chooses among; the others are used whenever they are configured. */
export const PUSH_SERVICES: ReadonlySet<ChannelName> = new Set(PUSH_SERVICE_NAMES);

/** Whether `pushsrv` lets a configured channel be used. */
export function pushsrvAllows(pushsrv: Config['pushsrv'], name: ChannelName): boolean {
  return !PUSH_SERVICES.has(name) || pushsrv === 'all' || pushsrv === name;
}

/**
 * Builds a notifier for every configured channel that `pushsrv` allows. Each factory checks its
 * options in full; a refusal becomes an Error starting `notify.<channel>: `, naming the config keys
 * as the user wrote them rather than the factory's option names.
 */
export function createChannels(config: Pick<Config, 'notify' | 'pushsrv'>): Notifier[] {
  const notifiers: Notifier[] = [];
  for (const name of CHANNEL_NAMES) {
    if (config.notify[name] === null || !pushsrvAllows(config.pushsrv, name)) continue;
    try {
      notifiers.push(build(name, config.notify));
    } catch (error) {
      throw new Error(`notify.${name}: ${inConfigTerms(name, (error as Error).message)}`, { cause: error });
    }
  }
  return notifiers;
}

function build(name: ChannelName, notify: NotifyConfig): Notifier {
  switch (name) {
    case 'email': {
      const email = notify.email!;
      return createEmail({
        smtp: email.smtp,
        from: email.from,
        to: email.to,
        tls_reject_unauthorized: email.tls_reject_unauthorized,
        timeout_ms: milliseconds(email.timeout),
      });
    }
    case 'pushover': {
      const pushover = notify.pushover!;
      return createPushover({
        token: pushover.token,
        user: pushover.user,
        priority: pushover.priority,
        down_priority: pushover.down_priority ?? undefined,
        sound: pushover.sound ?? undefined,
        device: pushover.device ?? undefined,
        retry: pushover.retry,
        expire: pushover.expire,
        api_url: pushover.api_url,
        timeout_ms: milliseconds(pushover.timeout),
      });
    }
    case 'mattermost': {
      const mattermost = notify.mattermost!;
      return createMattermost({
        url: mattermost.webhook,
        channel: mattermost.channel ?? undefined,
        username: mattermost.username ?? undefined,
        icon_url: mattermost.icon_url ?? undefined,
        timeout_ms: milliseconds(mattermost.timeout),
      });
    }
    case 'signal': {
      const signal = notify.signal!;
      // The factory tells "not given" by absence, so null must not reach it as a value.
      return createSignal({
        url: signal.url,
        account: signal.account,
        ...(signal.recipients === null ? {} : { recipients: signal.recipients }),
        ...(signal.group === null ? {} : { group_id: signal.group }),
        api: signal.api,
        timeout_ms: milliseconds(signal.timeout),
      });
    }
    case 'webhook': {
      const webhook = notify.webhook!;
      return createWebhook({
        url: webhook.url,
        secret: webhook.secret ?? undefined,
        headers: webhook.headers,
        timeout_ms: milliseconds(webhook.timeout),
      });
    }
    case 'ntfy': {
      const ntfy = notify.ntfy!;
      return createNtfy({
        ...splitTopicUrl(ntfy.url),
        token: ntfy.token ?? undefined,
        timeout_ms: milliseconds(ntfy.timeout),
      });
    }
  }
}

/** `https://example.org/ntfy/alerts` is the server `https://example.org/ntfy` and the topic `alerts`. */
export function splitTopicUrl(url: string): { server: string; topic: string } {
  const trimmed = url.replace(/\/+$/, '');
  const cut = trimmed.lastIndexOf('/');
  return { server: trimmed.slice(0, cut), topic: trimmed.slice(cut + 1) };
}

/** Factories want whole milliseconds; a timeout too short to round to one still means "very short". */
function milliseconds(seconds: number): number {
  return Math.max(1, Math.round(seconds * 1000));
}

/** Factory option names that differ from the config keys they come from. */
const OPTION_KEYS: Partial<Record<ChannelName, Record<string, string>>> = {
  mattermost: { url: 'webhook' },
  signal: { group_id: 'group' },
};

function inConfigTerms(name: ChannelName, message: string): string {
  let text = message.startsWith(`${name}: `) ? message.slice(name.length + 2) : message;
  for (const [option, key] of Object.entries(OPTION_KEYS[name] ?? {})) {
    text = text.replace(new RegExp(`\\b${option}\\b`, 'g'), key);
  }
  return text;
}
