import type { DeliveryPolicy } from './channel-worker.js';
import type { FlapPolicy } from './flapping.js';
import type { IsolationPolicy } from './isolation.js';

/** What the notify engine is told by the config (mapped in `daemon/notify-settings.ts`), in ms. */
export interface NotifySettings {
  groupWaitMs: number;
  /** A host field whose value splits hosts into groups (one message per group); null: one group. */
  groupBy: string | null;
  /** Reminder period while a host stays down; 0: none. */
  repeatMs: number;
  /** After hbd starts, problems are held this long, then announced only if they still hold. */
  restartGraceMs: number;
  /** How long a message keeps being retried. */
  deadlineMs: number;
  delivery: DeliveryPolicy;
  isolation: IsolationPolicy | null;
  /** After hosts are heard again, how long to wait before announcing those still down. */
  isolationSettleMs: number;
  flapping: FlapPolicy | null;
  /** A host whose first heartbeat already reports warn or fail is announced. */
  announceNewProblems: boolean;
}
