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
import { z } from 'zod';
import type { DeliveryReceipt, Notification } from '../../model/notification.js';
import type { Notifier } from '../types.js';
import { defineChannel, httpUrl, optionalText, timeout, timeoutMs } from './define-channel.js';
import { postRaw } from './http.js';

export const WEBHOOK_CHANNEL = 'webhook';

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

/** Headers hbd sets itself, or that fetch owns. */
const RESERVED_HEADERS = new Set([
  'content-type',
  'content-length',
  'host',
  'x-hbd-signature',
  'x-hbd-dedup-key',
]);
const LONG = /^.{16,}$/su;
/** RFC 9110 token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What fetch sends as it is: no line breaks or other control characters but tab, nothing beyond Latin-1. */
const HEADER_VALUE = /^[\t\x20-\xff]*$/;

const schema = z.object(
  {
    url: httpUrl('an http(s) URL'),
    // Signs every body so the receiver can tell it came from this hbd.
    secret: optionalText(
      'a secret',
      LONG,
      'a secret of at least 16 characters (a short one is easy to guess)',
    ),
    // Extra headers, e.g. Authorization for a receiver behind a gateway.
    headers: z
      .record(
        z.string(),
        z
          .string('expected a header value')
          .regex(HEADER_VALUE, 'expected a header value without line breaks or control characters'),
        'expected a map of header name to value',
      )
      .superRefine((headers, ctx) => {
        for (const name of Object.keys(headers)) {
          if (!HEADER_NAME.test(name)) {
            ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" is not a valid header name` });
          } else if (RESERVED_HEADERS.has(name.toLowerCase())) {
            ctx.addIssue({ code: 'custom', path: [name], message: `${name} is set by hbd itself` });
          }
        }
      })
      .default({}),
    timeout: timeout(10),
  },
  'expected a map with url',
);

export type WebhookSection = z.output<typeof schema>;

export default defineChannel({
  name: WEBHOOK_CHANNEL,
  schema,
  // A URL may carry a token in its path or query, and header values are often credentials.
  secretKeys: ['url', 'secret', 'headers'],
  example: '{url: "https://hooks.example.org/hbd", secret: <16+ characters>}',
  create: (section, context) => createWebhook(section, context.now),
});

function createWebhook(section: WebhookSection, now: () => number): Notifier {
  const { url, secret, headers: extra } = section;
  return {
    channel: WEBHOOK_CHANNEL,
    async send(notification: Notification, signal?: AbortSignal): Promise<DeliveryReceipt> {
      const raw = JSON.stringify(webhookPayload(notification));
      const headers: Record<string, string> = {
        ...extra,
        'x-hbd-dedup-key': dedupHeader(notification.dedupKey),
      };
      if (secret !== null) headers['x-hbd-signature'] = signBody(secret, raw);
      const response = await postRaw(WEBHOOK_CHANNEL, url, raw, 'application/json', {
        headers,
        signal,
        timeoutMs: timeoutMs(section.timeout),
        now,
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
