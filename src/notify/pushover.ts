/**
 * Pushover (https://pushover.net/api): one form POST to /1/messages.json per notification.
 *
 * Emergency priority (2) repeats on the phone until acknowledged or expired; when the host comes
 * back that alarm is stale, so emergency messages carry one tag per host and a resolving message
 * first cancels every emergency still retrying for its hosts (/1/receipts/cancel_by_tag).
 */

import type { DeliveryReceipt, Notification } from '../model/notification.js';
import { clip, type HttpResponse, postForm, retryAfterFromUnixSeconds } from './http.js';
import { type Notifier, NotifyError } from './types.js';

export const PUSHOVER_CHANNEL = 'pushover';

export const PUSHOVER_API_URL = 'https://api.pushover.net';
export const PUSHOVER_MESSAGE_LIMIT = 1024;
export const PUSHOVER_TITLE_LIMIT = 250;
export const PUSHOVER_MIN_RETRY = 30;
export const PUSHOVER_MAX_EXPIRE = 10_800;

export interface PushoverOptions {
  /** Application API token: 30 letters and digits. */
  token: string;
  /** User or group key: 30 letters and digits. */
  user: string;
  /** Only these devices (comma-separated names); all of the user's devices otherwise. */
  device?: string;
  sound?: string;
  /** -2..2 for every message that is not a "down"; default 0. */
  priority?: number;
  /** -2..2 for "down" messages; default `priority`. 2 makes the phone repeat until acknowledged. */
  down_priority?: number;
  /** Seconds between emergency repeats, ≥ 30; default 60. */
  retry?: number;
  /** Seconds emergency repeats go on for, ≤ 10800; default 3600. */
  expire?: number;
  /** Base URL, for a stand-in; default https://api.pushover.net. */
  api_url?: string;
  timeout_ms?: number;
}

const KEY = /^[A-Za-z0-9]{30}$/;
const DEVICE = /^[A-Za-z0-9_-]{1,25}(,[A-Za-z0-9_-]{1,25})*$/;
const SOUND = /^[A-Za-z0-9_-]{1,20}$/;

export default function createPushover(options: PushoverOptions): Notifier {
  const config = checkOptions(options);
  const emergencyConfigured = config.priority === 2 || config.downPriority === 2;
  const http = {
    timeoutMs: config.timeoutMs,
    retryAfter: retryAfterFromUnixSeconds('x-limit-app-reset'),
    errorText: pushoverErrorText,
  };

  async function cancelEmergencies(notification: Notification, signal: AbortSignal | undefined) {
    for (const tag of hostTags(notification)) {
      const url = `${config.apiUrl}/1/receipts/cancel_by_tag/${encodeURIComponent(tag)}.json`;
      const response = await postForm(PUSHOVER_CHANNEL, url, { token: config.token }, { ...http, signal });
      expectSuccess(response);
    }
  }

  return {
    channel: PUSHOVER_CHANNEL,
    async send(notification: Notification, signal?: AbortSignal): Promise<DeliveryReceipt> {
      // Without state across restarts we cannot know whether an emergency went out, so a resolving
      // message always cancels when emergencies are possible; cancelling nothing is harmless.
      if (notification.resolves && emergencyConfigured) await cancelEmergencies(notification, signal);

      const priority = notification.kind === 'down' ? config.downPriority : config.priority;
      const emergency = priority === 2;
      const fields: Record<string, string | number | undefined> = {
        token: config.token,
        user: config.user,
        title: clip(notification.title, PUSHOVER_TITLE_LIMIT),
        // Pushover refuses an empty message.
        message: clip(notification.body || notification.title, PUSHOVER_MESSAGE_LIMIT),
        timestamp: Math.floor(notification.at / 1000),
        priority,
        device: config.device,
        sound: config.sound,
        retry: emergency ? config.retry : undefined,
        expire: emergency ? config.expire : undefined,
        tags: emergency ? hostTags(notification).join(',') : undefined,
      };
      const response = await postForm(PUSHOVER_CHANNEL, `${config.apiUrl}/1/messages.json`, fields, {
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

interface PushoverConfig {
  token: string;
  user: string;
  device: string | undefined;
  sound: string | undefined;
  priority: number;
  downPriority: number;
  retry: number;
  expire: number;
  apiUrl: string;
  timeoutMs: number | undefined;
}

function checkOptions(options: PushoverOptions): PushoverConfig {
  const bad = (option: string, why: string): never => {
    throw new Error(`${PUSHOVER_CHANNEL}: ${option} ${why}`);
  };
  if (typeof options.token !== 'string' || !KEY.test(options.token)) {
    bad('token', 'must be the 30-character application API token (letters and digits)');
  }
  if (typeof options.user !== 'string' || !KEY.test(options.user)) {
    bad('user', 'must be the 30-character user or group key (letters and digits)');
  }
  if (options.device !== undefined && !DEVICE.test(options.device)) {
    bad('device', 'must be device names of up to 25 letters, digits, _ or -, separated by commas');
  }
  if (options.sound !== undefined && !SOUND.test(options.sound)) {
    bad('sound', 'must be a sound name such as "pushover" or "siren"');
  }
  const priority = options.priority ?? 0;
  const downPriority = options.down_priority ?? priority;
  for (const [name, value] of [
    ['priority', priority],
    ['down_priority', downPriority],
  ] as const) {
    if (!Number.isInteger(value) || value < -2 || value > 2)
      bad(name, `must be an integer from -2 to 2, not ${value}`);
  }
  const retry = options.retry ?? 60;
  const expire = options.expire ?? 3600;
  if (!Number.isInteger(retry) || retry < PUSHOVER_MIN_RETRY) {
    bad('retry', `must be a whole number of seconds ≥ ${PUSHOVER_MIN_RETRY}, not ${retry}`);
  }
  if (!Number.isInteger(expire) || expire < 1 || expire > PUSHOVER_MAX_EXPIRE) {
    bad('expire', `must be a whole number of seconds from 1 to ${PUSHOVER_MAX_EXPIRE}, not ${expire}`);
  }
  if (retry > expire) bad('retry', `(${retry} s) is longer than expire (${expire} s): it would never repeat`);
  const apiUrl = checkBaseUrl(options.api_url ?? PUSHOVER_API_URL, bad);
  const timeoutMs = options.timeout_ms;
  if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs <= 0)) {
    bad('timeout_ms', `must be a positive whole number of milliseconds, not ${timeoutMs}`);
  }
  return {
    token: options.token,
    user: options.user,
    device: options.device,
    sound: options.sound,
    priority,
    downPriority,
    retry,
    expire,
    apiUrl,
    timeoutMs,
  };
}

function checkBaseUrl(value: string, bad: (option: string, why: string) => never): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return bad('api_url', `is not a URL: ${value}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') bad('api_url', 'must be an http(s) URL');
  return value.replace(/\/+$/, '');
}
