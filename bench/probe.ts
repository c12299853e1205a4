/**
 * What a receiver reports about itself during a trial, to tell why it lost datagrams:
 * out of CPU, or stalled (while its event loop is blocked, datagrams pile up in the
 * socket buffer, and past its size are lost).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface ReceiverProbe {
  /** CPU time (user + system) used since the previous reading. */
  cpuSeconds: number;
  /** Longest time the event loop did not turn since the previous reading (10 ms resolution). */
  maxStallMs: number;
}

/** Receiver side: starts watching, and returns a read-and-reset function. */
export function startProbe(): () => ReceiverProbe {
  const stalls = monitorEventLoopDelay({ resolution: 10 });
  stalls.enable();
  let cpuSince = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(cpuSince);
    cpuSince = process.cpuUsage();
    const maxStallMs = stalls.max / 1e6;
    stalls.reset();
    return { cpuSeconds: (used.user + used.system) / 1e6, maxStallMs };
  };
}
