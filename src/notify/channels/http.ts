/**
 * The one fetch wrapper every HTTP notifier uses, so that all of them classify failures the same
 * way for the outbox: what may be retried, when, and what to show when it may not.
 */

import { errorMessage } from '../../lib/error-message.js';
import { NotifyError } from '../types.js';

export const DEFAULT_TIMEOUT_MS = 10_000;

/** How much of a provider's error answer ends up in the reason; enough for its message, not a whole HTML page. */
export const ERROR_TEXT_LIMIT = 300;

export interface HttpRequest {
  channel: string;
  url: string;
  method?: 'POST' | 'PUT' | 'GET';
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
  /** The caller's own signal (shutdown); merged with the timeout. */
  signal?: AbortSignal;
  /**
   * Providers that announce their reset elsewhere than Retry-After (Pushover's X-Limit-App-Reset).
   * Consulted first on a 429; returns ms to wait, or undefined to fall back to Retry-After.
   */
  retryAfter?: (headers: Headers, now: number) => number | undefined;
  /** Picks the human part out of a provider's error answer (Pushover's errors[]); falls back to the raw body. */
  errorText?: (json: unknown, text: string) => string | undefined;
  /** For tests. */
  now?: () => number;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON when it is JSON, otherwise undefined. */
  json: unknown;
}

export interface PostOptions
  extends Pick<HttpRequest, 'headers' | 'timeoutMs' | 'signal' | 'retryAfter' | 'errorText' | 'now'> {}

export function postForm(
  channel: string,
  url: string,
  fields: Record<string, string | number | undefined>,
  options: PostOptions = {},
): Promise<HttpResponse> {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) form.set(key, String(value));
  }
  return request({
    ...options,
    channel,
    url,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...options.headers },
    body: form.toString(),
  });
}

export function postJson(
  channel: string,
  url: string,
  payload: unknown,
  options: PostOptions = {},
): Promise<HttpResponse> {
  return postRaw(channel, url, JSON.stringify(payload), 'application/json', options);
}

export function postText(
  channel: string,
  url: string,
  text: string,
  options: PostOptions = {},
): Promise<HttpResponse> {
  return postRaw(channel, url, text, 'text/plain; charset=utf-8', options);
}

/** For callers that must sign exactly the bytes they send (webhook HMAC). */
export function postRaw(
  channel: string,
  url: string,
  body: string,
  contentType: string,
  options: PostOptions = {},
): Promise<HttpResponse> {
  return request({
    ...options,
    channel,
    url,
    method: 'POST',
    headers: { 'content-type': contentType, ...options.headers },
    body,
  });
}

export async function request(req: HttpRequest): Promise<HttpResponse> {
  const { channel } = req;
  const timeoutMs = req.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;

  let response: Response;
  let text: string;
  try {
    response = await fetch(req.url, {
      method: req.method ?? 'POST',
      headers: req.headers,
      body: req.body,
      signal,
      redirect: 'follow',
    });
    // Read under the same signal: a server that sends headers and then stalls is just as stuck.
    text = await response.text();
  } catch (error) {
    throw transportError(channel, req.url, error, timeout.aborted, timeoutMs);
  }

  const json = parseJson(text, response.headers.get('content-type'));
  const result: HttpResponse = { status: response.status, headers: response.headers, text, json };
  if (response.ok) return result;

  const status = response.status;
  const reason = describeFailure(status, response.statusText, json, text, req.errorText);
  if (status === 429) {
    const now = (req.now ?? Date.now)();
    const retryAfterMs =
      req.retryAfter?.(response.headers, now) ?? parseRetryAfter(response.headers.get('retry-after'), now);
    throw new NotifyError(channel, reason, {
      retryable: true,
      status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  if (status >= 500 || status === 408) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), (req.now ?? Date.now)());
    throw new NotifyError(channel, reason, {
      retryable: true,
      status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  throw new NotifyError(channel, reason, { retryable: false, status });
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3); anything else is ignored. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value == null) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = parseHttpDate(trimmed, now);
  return at === undefined ? undefined : Math.max(0, at - now);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
// The three forms of RFC 9110 §5.6.7, all in UTC: IMF-fixdate, and the obsolete RFC 850 and
// asctime forms that recipients must still accept. Date.parse would read asctime, which names
// no zone, as local time.
const TIME = '(?<hour>\\d{2}):(?<minute>\\d{2}):(?<second>\\d{2})';
const HTTP_DATE_FORMS = [
  new RegExp(`^[a-z]{3}, (?<day>\\d{2}) (?<month>[a-z]{3}) (?<year>\\d{4}) ${TIME} GMT$`, 'i'),
  new RegExp(`^[a-z]{6,9}, (?<day>\\d{2})-(?<month>[a-z]{3})-(?<year>\\d{2}) ${TIME} GMT$`, 'i'),
  new RegExp(`^[a-z]{3} (?<month>[a-z]{3}) (?<day>[ \\d]\\d) ${TIME} (?<year>\\d{4})$`, 'i'),
];

/** An HTTP date as wall ms, or undefined; `now` places RFC 850's two-digit year. */
export function parseHttpDate(value: string, now: number): number | undefined {
  const fields = HTTP_DATE_FORMS.map((form) => form.exec(value)?.groups).find((groups) => groups);
  if (!fields) return undefined;
  const number = (name: string) => Number(fields[name]);
  const year = fields.year!.length === 2 ? fullYear(number('year'), now) : number('year');
  const month = MONTHS.indexOf(fields.month!.toLowerCase());
  const day = number('day');
  const date = Date.UTC(year, month, day);
  // Date.UTC rolls 31 Feb over into March: a day that does not exist makes no date.
  if (month < 0 || new Date(date).getUTCDate() !== day) return undefined;
  const [hour, minute, second] = [number('hour'), number('minute'), number('second')];
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  return date + ((hour * 60 + minute) * 60 + second) * 1000;
}

/** RFC 9110: a two-digit year more than 50 years ahead is the latest past year with those digits. */
function fullYear(twoDigits: number, now: number): number {
  const current = new Date(now).getUTCFullYear();
  const year = current - (current % 100) + twoDigits;
  return year > current + 50 ? year - 100 : year;
}

/** For reset headers that carry a Unix time in seconds (Pushover's X-Limit-App-Reset). */
export function retryAfterFromUnixSeconds(
  header: string,
): (headers: Headers, now: number) => number | undefined {
  return (headers, now) => {
    const value = headers.get(header)?.trim();
    if (!value || !/^\d+$/.test(value)) return undefined;
    return Math.max(0, Number(value) * 1000 - now);
  };
}

export function clip(text: string, limit: number): string {
  const chars = Array.from(text);
  if (chars.length <= limit) return text;
  return `${chars.slice(0, limit - 1).join('')}…`;
}

function describeFailure(
  status: number,
  statusText: string,
  json: unknown,
  text: string,
  errorText: HttpRequest['errorText'],
): string {
  const own = errorText?.(json, text)?.trim();
  const detail = own || text.trim();
  const head = `HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
  return detail ? `${head}: ${clip(detail.replace(/\s+/g, ' '), ERROR_TEXT_LIMIT)}` : head;
}

function parseJson(text: string, contentType: string | null): unknown {
  // Some services answer JSON as text/plain, so try whenever it looks like JSON.
  const looksJson = /json/i.test(contentType ?? '') || /^\s*[[{]/.test(text);
  if (!looksJson) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function transportError(
  channel: string,
  url: string,
  error: unknown,
  timedOut: boolean,
  timeoutMs: number,
): NotifyError {
  const host = safeHost(url);
  if (timedOut) {
    return new NotifyError(channel, `no answer from ${host} within ${timeoutMs} ms`, {
      retryable: true,
      cause: error,
    });
  }
  if (error instanceof Error && error.name === 'AbortError') {
    return new NotifyError(channel, `request to ${host} aborted`, { retryable: true, cause: error });
  }
  // undici hides the useful part (ECONNREFUSED, ENOTFOUND) in the cause.
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  const why = cause?.message ?? errorMessage(error);
  return new NotifyError(channel, `cannot reach ${host}: ${why}`, { retryable: true, cause: error });
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'server';
  }
}
