/**
 * Pushover (https://pushover.net/api): one form POST to /1/messages.json per notification.
 *
 * Emergency priority (2) repeats on the phone until acknowledged or expired; when the host comes
 * back that alarm is stale, so emergency messages carry one tag per host and a resolving message
 * first cancels every emergency still retrying for its hosts (/1/receipts/cancel_by_tag).
 */

import { z } from 'zod';
import { intAtLeast, intRange } from '../../lib/schema-leaves.js';
import type { DeliveryReceipt, Notification } from '../../model/notification.js';
import { type Notifier, NotifyError } from '../types.js';
import { defineChannel, httpUrl, optionalText, text, timeout, timeoutMs } from './define-channel.js';
import { clip, type HttpResponse, postForm, retryAfterFromUnixSeconds } from './http.js';

export const PUSHOVER_CHANNEL = 'pushover';

export const PUSHOVER_API_URL = 'https://api.pushover.net';
export const PUSHOVER_MESSAGE_LIMIT = 1024;
export const PUSHOVER_TITLE_LIMIT = 250;
export const PUSHOVER_MIN_RETRY = 30;
export const PUSHOVER_MAX_EXPIRE = 10_800;

const KEY = /^[A-Za-z0-9]{30}$/;
const DEVICE = /^[A-Za-z0-9_-]{1,25}(,[A-Za-z0-9_-]{1,25})*$/;
const SOUND = /^[A-Za-z0-9_-]{1,20}$/;
const PRIORITY = 'expected null or an integer from -2 to 2';

const schema = z
  .object(
    {
      token: text(
        'the application API token',
        KEY,
        'the 30-character application API token (letters and digits)',
      ),
      user: text('the user or group key', KEY, 'the 30-character user or group key (letters and digits)'),
      // For every message that is not a "down".
      priority: intRange(-2, 2).default(0),
      // null: the same as priority. 2 makes the phone repeat until acknowledged.
      down_priority: z.int(PRIORITY).min(-2, PRIORITY).max(2, PRIORITY).nullable().default(null),
      sound: optionalText('a sound name such as pushover or siren', SOUND),
      // null: all of the user's devices.
      device: optionalText(
        'device names (up to 25 letters, digits, _ or - each), separated by commas',
        DEVICE,
      ),
      // Seconds between emergency repeats, and how long they go on for.
      retry: intAtLeast(PUSHOVER_MIN_RETRY).default(60),
      expire: intRange(1, PUSHOVER_MAX_EXPIRE).default(3600),
      // For a stand-in.
      api_url: httpUrl('an http(s) URL').default(PUSHOVER_API_URL),
      timeout: timeout(10),
    },
    'expected a map with token and user',
  )
  .superRefine(
    (section, ctx) => {
      // With `when` below, invalid values get here too; those already have their own problem.
      const { retry, expire } = section as { retry: unknown; expire: unknown };
      if (typeof retry !== 'number' || typeof expire !== 'number' || retry <= expire) return;
      ctx.addIssue({
        code: 'custom',
        path: ['retry'],
        message: `expected at most expire (${expire} s), got ${retry}: an emergency would never repeat`,
      });
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  );

export type PushoverSection = z.output<typeof schema>;

export default defineChannel({
  name: PUSHOVER_CHANNEL,
  schema,
  secretKeys: ['token', 'user'],
  pushService: true,
  example: '{token: <application token>, user: <user or group key>, down_priority: 1}',
  create: (section, context) => createPushover(section, context.now),
});

function createPushover(section: PushoverSection, now: () => number): Notifier {
  const apiUrl = section.api_url.replace(/\/+$/, '');
  const downPriority = section.down_priority ?? section.priority;
  const emergencyConfigured = section.priority === 2 || downPriority === 2;
  const http = {
    timeoutMs: timeoutMs(section.timeout),
    retryAfter: retryAfterFromUnixSeconds('x-limit-app-reset'),
    errorText: pushoverErrorText,
    now,
  };

  async function cancelEmergencies(notification: Notification, signal: AbortSignal | undefined) {
    for (const tag of hostTags(notification)) {
      const url = `${apiUrl}/1/receipts/cancel_by_tag/${encodeURIComponent(tag)}.json`;
      const response = await postForm(PUSHOVER_CHANNEL, url, { token: section.token }, { ...http, signal });
      expectSuccess(response);
    }
  }

  return {
    channel: PUSHOVER_CHANNEL,
    async send(notification: Notification, signal?: AbortSignal): Promise<DeliveryReceipt> {
      // Without state across restarts we cannot know whether an emergency went out, so a resolving
      // message always cancels when emergencies are possible; cancelling nothing is harmless.
      if (notification.resolves && emergencyConfigured) await cancelEmergencies(notification, signal);

      const priority = notification.kind === 'down' ? downPriority : section.priority;
      const emergency = priority === 2;
      const fields: Record<string, string | number | undefined> = {
        token: section.token,
        user: section.user,
        title: clip(notification.title, PUSHOVER_TITLE_LIMIT),
        // Pushover refuses an empty message.
        message: clip(notification.body || notification.title, PUSHOVER_MESSAGE_LIMIT),
        timestamp: Math.floor(notification.at / 1000),
        priority,
        device: section.device ?? undefined,
        sound: section.sound ?? undefined,
        retry: emergency ? section.retry : undefined,
        expire: emergency ? section.expire : undefined,
        tags: emergency ? hostTags(notification).join(',') : undefined,
      };
      const response = await postForm(PUSHOVER_CHANNEL, `${apiUrl}/1/messages.json`, fields, {
        ...http,
        signal,
      });
      const answer = expectSuccess(response);
      const receipt = typeof answer.receipt === 'string' ? answer.receipt : undefined;
      const request = typeof answer.request === 'string' ? answer.request : undefined;
      const remaining = response.headers.get('x-limit-app-remaining');
      const detail = [
        receipt ? `emergency receipt ${receipt}` : 'queued',
        request ? `request ${request}` : undefined,
        remaining ? `${remaining} messages left this month` : undefined,
      ]
        .filter(Boolean)
        .join(', ');
      const id = receipt ?? request;
      return id === undefined ? { detail } : { id, detail };
    },
  };
}

/** One tag per host; tags share Pushover's namespace with other apps of the account, hence the prefix. */
export function hostTags(notification: Pick<Notification, 'hosts'>): string[] {
  const tags = notification.hosts.map((host) => `hbd-${host.name.replace(/[^A-Za-z0-9_.-]/g, '_')}`);
  return [...new Set(tags)];
}

function expectSuccess(response: HttpResponse): Record<string, unknown> {
  const json = response.json;
  if (typeof json === 'object' && json !== null && (json as { status?: unknown }).status === 1) {
    return json as Record<string, unknown>;
  }
  // A 2xx without status 1 is not in the documented API; treat it as a refusal, not as a blip.
  const reason = pushoverErrorText(json, response.text) ?? clip(response.text, 300);
  throw new NotifyError(PUSHOVER_CHANNEL, `unexpected answer: ${reason}`, {
    retryable: false,
    status: response.status,
  });
}

function pushoverErrorText(json: unknown, _text: string): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const errors = (json as { errors?: unknown }).errors;
  if (!Array.isArray(errors)) return undefined;
  const parts = errors.filter((e): e is string => typeof e === 'string');
  return parts.length > 0 ? parts.join('; ') : undefined;
}
