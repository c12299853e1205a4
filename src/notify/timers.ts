/**
 * How the notify path waits. Injected so that tests run it on a manual clock: grouping, rate
 * limits and backoff then come out the same however fast or loaded the machine is.
 */
export interface Timers {
  /** Calls `callback` once, `ms` from now; returns what cancels it. Never keeps the process alive. */
  after(ms: number, callback: () => void): Cancel;
}

export type Cancel = () => void;

export const systemTimers: Timers = {
  after(ms, callback) {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};
