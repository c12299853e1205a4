/**
 * ntfy (https://docs.ntfy.sh/publish/): POST {server}/{topic} with the message as the plain-text
 * body and Title, Priority and Tags as headers; it answers 200 with the published message as JSON,
 * whose `id` is the receipt.
 */

import { z } from 'zod';
import type { DeliveryReceipt, Notification } from '../../model/notification.js';
import type { Notifier } from '../types.js';
import { defineChannel, optionalText, timeout, timeoutMs } from './define-channel.js';
import { postText } from './http.js';

export const NTFY_CHANNEL = 'ntfy';

/** ntfy's message size limit in bytes; a longer body would be turned into an attachment. */
export const NTFY_MESSAGE_LIMIT = 4096;

const NTFY_URL = 'expected the http(s) URL of the topic, such as https://ntfy.sh/mytopic';

const schema = z.object(
  {
    // The topic (1 to 64 letters, digits, - and _) is the last path segment; anything before it is
    // the server, which may sit under a path. No query or fragment: the server is a base URL.
    url: z
      .url({ protocol: /^https?$/, error: NTFY_URL, abort: true })
      .regex(/^[^?#]*\/[-_A-Za-z0-9]{1,64}\/?$/, NTFY_URL),
    // Sent as Authorization: Bearer.
    token: optionalText('an access token', /^[\x21-\x7e]+$/, 'an access token without spaces'),
    timeout: timeout(10),
  },
  'expected a map with url',
);

export type NtfySection = z.output<typeof schema>;

export default defineChannel({
  name: NTFY_CHANNEL,
  schema,
  // On a public server, whoever knows the topic can read it.
  secretKeys: ['url', 'token'],
  example: '{url: "https://ntfy.sh/<topic>", token: <access token>}',
  create: (section, context) => createNtfy(section, context.now),
});

function createNtfy(section: NtfySection, now: () => number): Notifier {
  const { server, topic } = splitTopicUrl(section.url);
  const url = `${server}/${topic}`;
  return {
    channel: NTFY_CHANNEL,
    async send(notification: Notification, signal?: AbortSignal): Promise<DeliveryReceipt> {
      const headers: Record<string, string> = { priority: String(ntfyPriority(notification)) };
      const title = notification.title.replace(/\s+/g, ' ').trim();
      if (title !== '') headers.title = encodeHeader(title);
      const tags = ntfyTags(notification);
      if (tags !== undefined) headers.tags = tags;
      if (section.token !== null) headers.authorization = `Bearer ${section.token}`;
      const message = clipBytes(notification.body.trim() || title || notification.kind, NTFY_MESSAGE_LIMIT);
      const response = await postText(NTFY_CHANNEL, url, message, {
        headers,
        signal,
        timeoutMs: timeoutMs(section.timeout),
        errorText: ntfyErrorText,
        now,
      });
      const id = messageId(response.json);
      return id === undefined
        ? { detail: `published to ${topic} (HTTP ${response.status})` }
        : { id, detail: `published to ${topic} as ${id}` };
    },
  };
}

/** `https://example.org/ntfy/alerts` is the server `https://example.org/ntfy` and the topic `alerts`. */
export function splitTopicUrl(url: string): { server: string; topic: string } {
  const trimmed = url.replace(/\/+$/, '');
  const cut = trimmed.lastIndexOf('/');
  return { server: trimmed.slice(0, cut), topic: trimmed.slice(cut + 1) };
}

/** 5 (max: a long vibration, breaks through Do Not Disturb) when hosts are lost, 3 otherwise. */
export function ntfyPriority(notification: Pick<Notification, 'kind'>): number {
  return notification.kind === 'down' || notification.kind === 'isolated' ? 5 : 3;
}

/** Emoji shortcodes ntfy shows in front of the title. */
export function ntfyTags(notification: Pick<Notification, 'kind' | 'resolves'>): string | undefined {
  if (notification.resolves || notification.kind === 'up') return 'white_check_mark';
  switch (notification.kind) {
    case 'down':
    case 'isolated':
    case 'status':
    case 'flapping':
      return 'warning';
    default:
      return undefined;
  }
}

/**
 * fetch refuses header values beyond Latin-1 and ntfy reads headers as UTF-8, so anything not
 * printable ASCII goes as RFC 2047 encoded-words (which ntfy decodes), each within the 75-character
 * limit and never splitting a character.
 */
export function encodeHeader(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  const words: string[] = [];
  let chunk: Buffer[] = [];
  let size = 0;
  const flush = () => {
    words.push(`=?UTF-8?B?${Buffer.concat(chunk).toString('base64')}?=`);
    chunk = [];
    size = 0;
  };
  for (const char of text) {
    const bytes = Buffer.from(char, 'utf8');
    // 45 bytes are 60 base64 characters: 75 with the 12 of =?UTF-8?B? and ?=, plus room to spare.
    if (size + bytes.length > 45) flush();
    chunk.push(bytes);
    size += bytes.length;
  }
  if (size > 0) flush();
  return words.join(' ');
}

/** Clips to a byte budget on a character boundary, marking the cut with an ellipsis. */
export function clipBytes(text: string, limit: number): string {
  if (Buffer.byteLength(text, 'utf8') <= limit) return text;
  const budget = limit - Buffer.byteLength('…', 'utf8');
  let used = 0;
  let out = '';
  for (const char of text) {
    const size = Buffer.byteLength(char, 'utf8');
    if (used + size > budget) break;
    out += char;
    used += size;
  }
  return `${out}…`;
}

function messageId(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const { id } = json as { id?: unknown };
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** ntfy's errors are {code, http, error, link}; `error` is the human part. */
function ntfyErrorText(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const { error } = json as { error?: unknown };
  return typeof error === 'string' ? error : undefined;
}
