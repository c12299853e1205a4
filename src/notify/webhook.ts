/**
 * hbd's own webhook: a POST of one JSON document per notification, for anything that is not a
 * built-in channel. The payload is part of hbd's interface; change it only compatibly.
 *
 *   {
 *     "dedup_key": "…",            stable across retries: receivers drop repeats by it
 *     "kind": "down",              down | up | status | reminder | flapping | isolated | digest | channel | test
 *     "title": "web1 is down",
 *     "body": "…",                 plain text, a few lines
 *     "details": "…",              plain text, the full account: every host with all it reported
 *                                  (the same as body when there is no more to say)
 *     "at": "2025-05-06T12:30:00.000Z",   RFC 3339, UTC
 *     "resolves": false,           true when this clears an earlier message (the host is back)
 *     "hosts": [{ "name", "state", "status", "msg" (string|null), "addr", "previous_for_ms" (int|null) }]
 *                                  empty for messages about no host (test, channel, isolated)
 *   }
 *
 * Headers: Content-Type: application/json; X-Hbd-Dedup-Key: the dedup_key (percent-encoded unless
 * printable ASCII); and with a secret,
 * X-Hbd-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes with the secret>.
 */

import { createHmac } from 'node:crypto';
import type { DeliveryReceipt, Notification } from '../model/notification.js';
import { postRaw } from './http.js';
import type { Notifier } from './types.js';

export const WEBHOOK_CHANNEL = 'webhook';

export interface WebhookOptions {
  url: string;
  /** Signs every body so the receiver can tell it came from this hbd. */
  secret?: string;
  /** Extra headers, e.g. Authorization for a receiver behind a gateway. */
  headers?: Record<string, string>;
  timeout_ms?: number;
}

export interface WebhookPayload {
  dedup_key: string;
  kind: Notification['kind'];
  title: string;
  body: string;
  details: string;
  at: string;
  resolves: boolean;
  hosts: {
    name: string;
    state: string;
    status: string;
    msg: string | null;
    addr: string;
    previous_for_ms: number | null;
  }[];
}

const RESERVED_HEADERS = new Set([
  'content-type',
  'content-length',
  'host',
  'x-hbd-signature',
  'x-hbd-dedup-key',
]);

export default function createWebhook(options: WebhookOptions): Notifier {
  checkOptions(options);
  return {
    channel: WEBHOOK_CHANNEL,
    async send(notification: Notification, signal?: AbortSignal): Promise<DeliveryReceipt> {
      const raw = JSON.stringify(webhookPayload(notification));
      const headers: Record<string, string> = {
        ...options.headers,
        'x-hbd-dedup-key': dedupHeader(notification.dedupKey),
      };
      if (options.secret !== undefined) headers['x-hbd-signature'] = signBody(options.secret, raw);
      const response = await postRaw(WEBHOOK_CHANNEL, options.url, raw, 'application/json', {
        headers,
        signal,
        timeoutMs: options.timeout_ms,
      });
      return { detail: `delivered (HTTP ${response.status})` };
    },
  };
}

export function webhookPayload(notification: Notification): WebhookPayload {
  return {
    dedup_key: notification.dedupKey,
    kind: notification.kind,
    title: notification.title,
    body: notification.body,
    details: notification.details ?? notification.body,
    at: new Date(notification.at).toISOString(),
    resolves: notification.resolves,
    hosts: notification.hosts.map((host) => ({
      name: host.name,
      state: host.state,
      status: host.status,
      msg: host.msg,
      addr: host.addr,
      previous_for_ms: host.previousFor === null ? null : Math.round(host.previousFor),
    })),
  };
}

/** Header values must be printable ASCII (fetch throws otherwise), so other keys go percent-encoded. */
export function dedupHeader(key: string): string {
  return /^[\x20-\x7e]*$/.test(key) ? key : encodeURIComponent(key);
}

export function signBody(secret: string, raw: string): string {
  return `sha256=${createHmac('sha256', secret).update(raw, 'utf8').digest('hex')}`;
}

function checkOptions(options: WebhookOptions): void {
  const bad = (option: string, why: string): never => {
    throw new Error(`${WEBHOOK_CHANNEL}: ${option} ${why}`);
  };
  if (typeof options.url !== 'string') bad('url', 'is required');
  let url: URL | undefined;
  try {
    url = new URL(options.url);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) bad('url', 'must be an http(s) URL');
  if (options.secret !== undefined && (typeof options.secret !== 'string' || options.secret.length < 16)) {
    bad('secret', 'must be at least 16 characters; a short secret is easy to guess');
  }
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) bad('headers', `has an invalid header name "${name}"`);
    if (RESERVED_HEADERS.has(name.toLowerCase())) bad('headers', `may not set ${name}: hbd sets it`);
    if (typeof value !== 'string' || /[\r\n]/.test(value) || /[^\t\x20-\xff]/.test(value)) {
      bad('headers', `has an invalid value for ${name}`);
    }
  }
  if (
    options.timeout_ms !== undefined &&
    (!Number.isInteger(options.timeout_ms) || options.timeout_ms <= 0)
  ) {
    bad('timeout_ms', 'must be a positive whole number of milliseconds');
  }
}
