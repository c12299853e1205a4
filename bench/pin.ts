/** CPU affinity for bench children, so that the server and its load generator never share a core. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

/**
 * Pins this process (every thread of it: libuv's pool and V8's helpers too) to one CPU.
 * Returns false where that cannot be done: one CPU only, or no `taskset` (util-linux).
 */
export function pinToCpu(cpu: number): boolean {
  if (os.cpus().length < 2) return false;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
