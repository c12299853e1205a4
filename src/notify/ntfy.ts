/**
 * ntfy (https://docs.ntfy.sh/publish/): POST {server}/{topic} with the message as the plain-text
 * body and Title, Priority and Tags as headers; it answers 200 with the published message as JSON,
 * whose `id` is the receipt.
 */

import type { DeliveryReceipt, Notification } from '../model/notification.js';
import { postText } from './http.js';
import type { Notifier } from './types.js';

export const NTFY_CHANNEL = 'ntfy';

export const NTFY_DEFAULT_SERVER = 'https://ntfy.sh';
/** ntfy's message size limit in bytes; a longer body would be turned into an attachment. */
export const NTFY_MESSAGE_LIMIT = 4096;

export interface NtfyOptions {
  /** Base URL of the ntfy server; default https://ntfy.sh. */
  server?: string;
  /** 1 to 64 letters, digits, - and _. Anyone who knows it can read it on a public server. */
  topic: string;
  /** Access token (tk_…), sent as Authorization: Bearer. */
  token?: string;
  timeout_ms?: number;
}

const TOPIC = /^[-_A-Za-z0-9]{1,64}$/;

export default function createNtfy(options: NtfyOptions): Notifier {
  checkOptions(options);
  const url = `${(options.server ?? NTFY_DEFAULT_SERVER).replace(/\/+$/, '')}/${options.topic}`;
  return {
    channel: NTFY_CHANNEL,
    async send(notification: Notification, signal?: AbortSignal): Promise<DeliveryReceipt> {
      const headers: Record<string, string> = { priority: String(ntfyPriority(notification)) };
      const title = notification.title.replace(/\s+/g, ' ').trim();
      if (title !== '') headers.title = encodeHeader(title);
      const tags = ntfyTags(notification);
      if (tags !== undefined) headers.tags = tags;
      if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
      const message = clipBytes(notification.body.trim() || title || notification.kind, NTFY_MESSAGE_LIMIT);
      const response = await postText(NTFY_CHANNEL, url, message, {
        headers,
        signal,
        timeoutMs: options.timeout_ms,
        errorText: ntfyErrorText,
      });
      const id = messageId(response.json);
      return id === undefined
        ? { detail: `published to ${options.topic} (HTTP ${response.status})` }
        : { id, detail: `published to ${options.topic} as ${id}` };
    },
  };
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

function checkOptions(options: NtfyOptions): void {
  const bad = (option: string, why: string): never => {
    throw new Error(`${NTFY_CHANNEL}: ${option} ${why}`);
  };
  if (options.server !== undefined) {
    let url: URL | undefined;
    try {
      url = typeof options.server === 'string' ? new URL(options.server) : undefined;
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      bad('server', 'must be an http(s) URL');
    } else if (url.search !== '' || url.hash !== '') {
      bad('server', 'must be a base URL without ?query or #fragment');
    }
  }
  if (typeof options.topic !== 'string') bad('topic', 'is required');
  if (!TOPIC.test(options.topic)) bad('topic', 'must be 1 to 64 letters, digits, - or _');
  if (
    options.token !== undefined &&
    (typeof options.token !== 'string' || !/^[\x21-\x7e]+$/.test(options.token))
  ) {
    bad('token', 'must be a non-empty access token without spaces');
  }
  if (
    options.timeout_ms !== undefined &&
    (!Number.isInteger(options.timeout_ms) || options.timeout_ms <= 0)
  ) {
    bad('timeout_ms', 'must be a positive whole number of milliseconds');
  }
}
