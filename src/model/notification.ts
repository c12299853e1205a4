/** What a notification says, as the engine decides it and every channel sends it. */

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
  hosts: readonly MessageHost[];
  /** Wall time of the transition(s), ms. */
  at: number;
  /** True when this message resolves an earlier one (the host is back): Pushover cancels its emergency retries. */
  resolves: boolean;
}

export interface MessageHost {
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
