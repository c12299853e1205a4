import type { Config } from '../config/schema.js';
import type { NotifySettings } from '../notify/settings.js';

/**
 * The notify engine's settings from the config: the `notify` section (seconds in the config,
 * ms inside), and the isolation window and settle time derived from the live keys `grace` and
 * `interval` (a reload passes the result to `NotifyEngine.reload`).
 */
export function notifySettingsOf(config: Pick<Config, 'notify' | 'interval' | 'grace'>): NotifySettings {
  const notify = config.notify;
  const ms = (seconds: number) => seconds * 1000;
  return {
    groupWaitMs: ms(notify.group_wait),
    groupBy: notify.group_by,
    repeatMs: ms(notify.repeat),
    restartGraceMs: ms(notify.restart_grace),
    announceNewProblems: notify.announce_new_problems,
    deadlineMs: ms(notify.deadline),
    delivery: {
      concurrency: notify.concurrency,
      ratePerMinute: notify.rate_limit,
      retryMinMs: ms(notify.retry_min),
      retryMaxMs: ms(notify.retry_max),
      alertAfterMs: ms(notify.channel_alert_after),
    },
    isolation: notify.isolation && {
      share: notify.isolation.share,
      minHosts: notify.isolation.min_hosts,
      // "Together" means within one grace period; a grace of 0 still needs some span.
      windowMs: Math.max(ms(config.grace), 1000),
    },
    // Hosts that are back need one interval to be heard from before the rest are called down.
    isolationSettleMs: ms(config.interval),
    flapping: notify.flapping && {
      windowMs: ms(notify.flapping.window),
      threshold: notify.flapping.threshold,
      settle: notify.flapping.settle,
    },
  };
}
