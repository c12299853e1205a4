import { Observable, useObservable } from './observable.js';

/**
 * The one ticking clock: every "12s ago" on the page reads it, so ten thousand hosts
 * cost one timer, not ten thousand.
 */
export const now = new Observable(Date.now());
setInterval(() => now.set(Date.now()), 1000);

export function useNow(): number {
  return useObservable(now);
}
