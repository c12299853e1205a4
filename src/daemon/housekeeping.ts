import type { Config } from '../config/schema.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import type { HostEvent } from '../model/events.js';
import { triggerKindOf } from '../notify/triggers.js';
import type { Store } from '../store/store.js';

/** Deletes events and finished messages past `history.days` and `history.max_events`. */
export async function pruneHistory(store: Store, config: Config, clock: Clock, log: Logger): Promise<void> {
  try {
    const olderThan = clock.wall() - config.history.days * 86_400_000;
    const removed =
      (await store.events.prune({ olderThan, maxEvents: config.history.max_events })) +
      (await store.outbox.prune(olderThan));
    if (removed > 0) log.debug({ removed }, 'pruned old events');
  } catch (error) {
    log.error({ err: error }, 'cannot prune old events');
  }
}

/** The last window of state changes, oldest first, so flapping is still recognised after a restart. */
export async function recentStateChanges(store: Store, clock: Clock, windowMs: number): Promise<HostEvent[]> {
  if (windowMs <= 0) return [];
  const events = await store.events.list({ since: clock.wall() - windowMs, limit: 100_000 });
  return (
    events
      // The changes the detector counts while running: going down and coming back.
      .filter((event) => triggerKindOf(event) === 'down' || triggerKindOf(event) === 'up')
      .reverse()
  );
}

/** A timer that runs `work` every `ms` and is stopped with the daemon; never keeps the process alive. */
export function every(name: string, ms: number, work: () => unknown) {
  let timer: NodeJS.Timeout | undefined;
  return {
    name,
    start() {
      timer = setInterval(work, ms);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
