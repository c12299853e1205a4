import type { DeliveryReceipt, Notification } from '../model/notification.js';

/**
 * The one interface every notification channel implements. A channel is built by a
 * factory from its own config section and turns a `Notification` into one message
 * for its service; the outbox (retries, dedup, rate limits) lives outside it.
 */

export interface Notifier {
  /** Channel name as configured: email, pushover, mattermost, signal, webhook, ntfy. */
  readonly channel: string;
  send(notification: Notification, signal?: AbortSignal): Promise<DeliveryReceipt>;
  close?(): Promise<void>;
}

/**
 * A failed delivery. `retryable`: a later attempt may succeed (network error, 5xx, 429);
 * otherwise the message is failed for good (bad credentials, 4xx) with this reason.
 */
export class NotifyError extends Error {
  readonly channel: string;
  readonly retryable: boolean;
  /** From Retry-After, a rate-limit reset header, or a provider's own field (Signal's retryAfterSeconds). */
  readonly retryAfterMs: number | undefined;
  readonly status: number | undefined;

  constructor(
    channel: string,
    message: string,
    options: { retryable: boolean; retryAfterMs?: number; status?: number; cause?: unknown },
  ) {
    super(`${channel}: ${message}`, { cause: options.cause });
    this.name = 'NotifyError';
    this.channel = channel;
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
  }
}
