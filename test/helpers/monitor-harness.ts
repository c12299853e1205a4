import { Bus } from '../../src/lib/bus.js';
import type { Heartbeat } from '../../src/protocol/types.js';
import { DeadlineWheel } from '../../src/state/deadline-wheel.js';
import { HostTable } from '../../src/state/host-table.js';
import { Monitor, type TimingPolicy } from '../../src/state/monitor.js';
import { ManualClock } from './manual-clock.js';
import { RecordingSink } from './recording-sink.js';

export const DEFAULT_TIMING: TimingPolicy = { interval: 60, grace: 30, overrideFor: () => ({}) };

export interface MonitorHarnessOptions {
  timing?: TimingPolicy;
  /**
   * How far `wait` moves the clock between sweeps. The daemon sweeps every 100 ms; tests of
   * day-long jobs step a second at a time so they stay fast.
   */
  stepMs?: number;
}

/** A Monitor on a manual clock, with the table, wheel, sink and bus a test may want to look at. */
export function monitorHarness({ timing = DEFAULT_TIMING, stepMs = 1000 }: MonitorHarnessOptions = {}) {
  const clock = new ManualClock();
  const sink = new RecordingSink();
  const bus = new Bus();
  const table = new HostTable(4);
  const monitor = new Monitor({
    table,
    wheel: new DeadlineWheel(100, clock.mono()),
    clock,
    sink,
    bus,
    timing,
  });
  const stepsPerSecond = 1000 / stepMs;
  /** Lets time pass in steps of `stepMs`, sweeping after each. */
  const wait = (seconds: number) => {
    for (let step = Math.round(seconds * stepsPerSecond); step > 0; step--) {
      clock.advance(stepMs);
      monitor.sweep();
    }
  };
  const slotOf = (name: string) => table.find(name);
  const stateOf = (name: string) => table.getState(table.find(name));
  return { clock, sink, bus, table, monitor, wait, slotOf, stateOf };
}

/** A plain unsigned `ok` heartbeat from `host`. */
export function hb(host: string, extra: Partial<Heartbeat> = {}): Heartbeat {
  return { host, status: 'ok', fields: {}, compressed: false, ...extra };
}
