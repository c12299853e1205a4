/**
 * The one interface every notification channel implements. A channel is built by a
 * factory from its own config section and turns a `Notification` into one message
 * for its service; the outbox (retries, dedup, rate limits) lives outside it.
 */

export type NotificationKind =
  | 'down'
  | 'up'
  | 'status'
  | 'reminder'
  | 'flapping'
  | 'isolated'
  | 'digest'
  | 'channel'
  | 'test';

/** One message to send: already grouped, already decided. */
export interface Notification {
  /** Stable across retries and restarts; providers that support it pass it on (webhook header, Pushover tag). */
  dedupKey: string;
  kind: NotificationKind;
  /** Short, for push services: "web1 is down", "14 hosts down". */
  title: string;
  /** Plain text, a few lines: what happened, when, since when, last msg and status, address. */
  body: string;
  /**
   * The full account, for channels with room for it (email, webhook): every host on its own
   * lines with all it reported. Push services use `body`.
   */
  details?: string;
  /** The hosts it is about (one for a single transition, many for a group). */
  hosts: readonly NotifiedHost[];
  /** Wall time of the transition(s), ms. */
  at: number;
  /** True when this message resolves an earlier one (the host is back): Pushover cancels its emergency retries. */
  resolves: boolean;
}

export interface NotifiedHost {
  name: string;
  state: string;
  status: string;
  msg: string | null;
  addr: string;
  /** How long it had been in its previous state, ms. */
  previousFor: number | null;
}

/** What the provider answered: shown by `hbd notify test`, kept in the outbox. */
export interface DeliveryReceipt {
  /** Provider-side id (Pushover receipt, Mattermost post id …), when it gives one. */
  id?: string;
  detail: string;
}

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
