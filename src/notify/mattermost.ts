/**
 * Mattermost incoming webhook: POST {text, channel?, username?, icon_url?} as JSON; it answers
 * 200 "ok" and gives no post id back.
 */

import type { DeliveryReceipt, Notification } from '../model/notification.js';
import { inertChatText } from './chat-text.js';
import { clip, postJson } from './http.js';
import type { Notifier } from './types.js';

export const MATTERMOST_CHANNEL = 'mattermost';

/** Mattermost's post size limit (runes); longer webhook text would be split over several posts. */
export const MATTERMOST_TEXT_LIMIT = 16_383;

export interface MattermostOptions {
  /** The incoming webhook URL, https://chat.example.org/hooks/<26-character id>. */
  url: string;
  /** Post into this channel (its name, or @user) instead of the hook's own. */
  channel?: string;
  /** Shown as the author; needs "Enable integrations to override usernames" on the server. */
  username?: string;
  /** Shown as the avatar; needs "Enable integrations to override profile picture icons". */
  icon_url?: string;
  timeout_ms?: number;
}

const HOOK_PATH = /\/hooks\/[a-z0-9]{26}$/;
const CHANNEL = /^(@[a-z0-9._-]{1,64}|[a-z0-9_-]{1,64})$/;

export default function createMattermost(options: MattermostOptions): Notifier {
  const config = checkOptions(options);
  return {
    channel: MATTERMOST_CHANNEL,
    async send(notification: Notification, signal?: AbortSignal): Promise<DeliveryReceipt> {
      const payload: Record<string, string> = { text: formatText(notification) };
      if (config.channel !== undefined) payload.channel = config.channel;
      if (config.username !== undefined) payload.username = config.username;
      if (config.icon_url !== undefined) payload.icon_url = config.icon_url;
      const response = await postJson(MATTERMOST_CHANNEL, config.url, payload, {
        signal,
        timeoutMs: config.timeout_ms,
        errorText: mattermostErrorText,
      });
      const where = config.channel ? ` to ${config.channel}` : '';
      return { detail: `posted${where} (${response.status} ${clip(response.text.trim(), 40) || 'ok'})` };
    },
  };
}

/**
 * Bold title, then the body; both escaped, since host names like web_1_a would otherwise turn
 * italic, and made inert, since `@channel` in a host's message would otherwise alert everyone.
 */
export function formatText(notification: Pick<Notification, 'title' | 'body'>): string {
  const title = `**${escapeMarkdown(notification.title)}**`;
  const body = notification.body.trim();
  return clip(inertChatText(body ? `${title}\n${escapeMarkdown(body)}` : title), MATTERMOST_TEXT_LIMIT);
}

export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\`*_~[\]<>|]/g, (c) => `\\${c}`)
    .replace(/^(\s*)([#+-])(?=\s)/gm, '$1\\$2')
    .replace(/^(\s*\d+)\.(?=\s)/gm, '$1\\.');
}

function mattermostErrorText(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const { message, detailed_error: detail } = json as { message?: unknown; detailed_error?: unknown };
  if (typeof message !== 'string') return undefined;
  return typeof detail === 'string' && detail !== '' ? `${message} (${detail})` : message;
}

function checkOptions(options: MattermostOptions): MattermostOptions {
  const bad = (option: string, why: string): never => {
    throw new Error(`${MATTERMOST_CHANNEL}: ${option} ${why}`);
  };
  if (typeof options.url !== 'string') return bad('url', 'is required (the incoming webhook URL)');
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    return bad('url', 'is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') bad('url', 'must be an http(s) URL');
  // Said without the URL itself: the hook id in it is the secret.
  if (!HOOK_PATH.test(url.pathname)) bad('url', 'must end in /hooks/<26-character webhook id>');
  if (options.channel !== undefined && !CHANNEL.test(options.channel)) {
    bad(
      'channel',
      `must be a channel name (lowercase, as in its URL) or @username, not "${options.channel}"`,
    );
  }
  if (options.username !== undefined && (options.username.trim() === '' || options.username.length > 64)) {
    bad('username', 'must be 1 to 64 characters');
  }
  if (options.icon_url !== undefined) {
    let icon: URL | undefined;
    try {
      icon = new URL(options.icon_url);
    } catch {
      icon = undefined;
    }
    if (!icon || (icon.protocol !== 'https:' && icon.protocol !== 'http:'))
      bad('icon_url', 'must be an http(s) URL');
  }
  if (
    options.timeout_ms !== undefined &&
    (!Number.isInteger(options.timeout_ms) || options.timeout_ms <= 0)
  ) {
    bad('timeout_ms', 'must be a positive whole number of milliseconds');
  }
  return options;
}
