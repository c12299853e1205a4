import { formatDuration } from '../lib/duration.js';
import { errorMessage } from '../lib/error-message.js';
import type { Logger } from '../lib/log.js';
import type { WriteFailure } from '../store/write-retry.js';

const DOING = {
  share: 'share the heartbeats this node hears',
  read: 'read the heartbeats the other nodes share',
} as const;

/** At the first failure, then at most once a minute (the share's retry decides). */
export function reportClusterShareFailure(log: Logger, what: keyof typeof DOING, error: unknown): void {
  log.error(
    { err: error, what },
    `cluster: cannot ${DOING[what]}: ${errorMessage(error)}; this node keeps hearing and serving from memory and retries`,
  );
}

export function reportClusterShareRecovered(
  log: Logger,
  what: keyof typeof DOING,
  outage: WriteFailure,
  now: number = performance.now(),
): void {
  log.info(
    { what, failedAttempts: outage.attempts },
    `cluster: this node can ${DOING[what]} again, after ${formatDuration(now - outage.since)}`,
  );
}
