/** Measurement 5: the deadline wheel's cost per heartbeat, with 1,000,000 hosts scheduled. */
import { BenchChild } from './ipc.js';
import type { WheelReport } from './wheel-worker.js';

export const WHEEL_HOSTS = 1_000_000;
/** Timed runs of each (best taken): the machine is shared, and the least disturbed run is the truest. */
const RUNS = 3;

export async function measureWheel(): Promise<WheelReport> {
  const worker = await BenchChild.start('wheel', new URL('./wheel-worker.js', import.meta.url), [
    '--max-old-space-size=4096',
  ]);
  try {
    return await worker.request<WheelReport>('measure', { hosts: WHEEL_HOSTS, runs: RUNS }, 120_000);
  } finally {
    worker.kill();
  }
}
