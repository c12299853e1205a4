/**
 * Mattermost incoming webhook: POST {text, channel?, username?, icon_url?} as JSON; it answers
 * 200 "ok" and gives no post id back.
 */

import { z } from 'zod';
import type { DeliveryReceipt, Notification } from '../../model/notification.js';
import type { Notifier } from '../types.js';
import { inertChatText } from './chat-text.js';
import { defineChannel, httpUrl, optionalText, timeout, timeoutMs } from './define-channel.js';
import { clip, postJson } from './http.js';

export const MATTERMOST_CHANNEL = 'mattermost';

/** Mattermost's post size limit (runes); longer webhook text would be split over several posts. */
export const MATTERMOST_TEXT_LIMIT = 16_383;

// Checked on the path only; the message never shows the URL, since the hook id in it is the secret.
const HOOK_URL = /^[^?#]*\/hooks\/[a-z0-9]{26}(?:[?#].*)?$/;
const HOOK = 'expected the incoming webhook URL, ending in /hooks/<26-character webhook id>';
const CHANNEL = /^(@[a-z0-9._-]{1,64}|[a-z0-9_-]{1,64})$/;
const USERNAME = /^(?=.*\S).{1,64}$/s;

function hookUrl() {
  return httpUrl('the incoming webhook URL').regex(HOOK_URL, HOOK).optional();
}

const schema = z
  .object(
    {
      webhook: hookUrl(),
      // Other tools call the same setting url.
      url: hookUrl(),
      // Post into this channel (its name as in its URL, or @user) instead of the hook's own.
      channel: optionalText('a channel name (lower case, as in its URL) or @user', CHANNEL),
      // Shown as the author; needs "Enable integrations to override usernames" on the server.
      username: optionalText('a user name to post as (up to 64 characters)', USERNAME),
      // Shown as the avatar; needs "Enable integrations to override profile picture icons".
      icon_url: httpUrl('null or an http(s) URL').nullable().default(null),
      timeout: timeout(10),
    },
    'expected a map with webhook',
  )
  .superRefine(({ webhook, url }, ctx) => {
    if (webhook === undefined && url === undefined) {
      ctx.addIssue({ code: 'custom', path: ['webhook'], message: 'expected the incoming webhook URL' });
    } else if (webhook !== undefined && url !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'url is the same setting as webhook; set one' });
    }
  })
  .transform(({ webhook, url, ...rest }) => ({ webhook: (webhook ?? url)!, ...rest }));

export type MattermostSection = z.output<typeof schema>;

export default defineChannel({
  name: MATTERMOST_CHANNEL,
  schema,
  // The hook id in the URL is all it takes to post.
  secretKeys: ['webhook', 'url'],
  pushService: true,
  example: '{webhook: "https://chat.example.org/hooks/<id>", channel: ops}',
  create: (section, context) => createMattermost(section, context.now),
});

function createMattermost(section: MattermostSection, now: () => number): Notifier {
  return {
    channel: MATTERMOST_CHANNEL,
    async send(notification: Notification, signal?: AbortSignal): Promise<DeliveryReceipt> {
      const payload: Record<string, string> = { text: formatText(notification) };
      if (section.channel !== null) payload.channel = section.channel;
      if (section.username !== null) payload.username = section.username;
      if (section.icon_url !== null) payload.icon_url = section.icon_url;
      const response = await postJson(MATTERMOST_CHANNEL, section.webhook, payload, {
        signal,
        timeoutMs: timeoutMs(section.timeout),
        errorText: mattermostErrorText,
        now,
      });
      const where = section.channel ? ` to ${section.channel}` : '';
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
