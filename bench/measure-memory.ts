/**
 * Measurement 4: bytes of memory per known host, in-process (no sockets). The baseline
 * is the least any name→state index costs: a Map from the same host names to a number.
 */
import { BenchChild } from './ipc.js';
import type { MemoryReport, MemoryVariant } from './memory-worker.js';

export const MEMORY_HOSTS = 1_000_000;

export async function measureMemory(variant: MemoryVariant): Promise<MemoryReport> {
  const worker = await BenchChild.start('memory', new URL('./memory-worker.js', import.meta.url), [
    '--expose-gc',
    '--max-old-space-size=4096',
  ]);
  try {
    return await worker.request<MemoryReport>('measure', { variant, hosts: MEMORY_HOSTS }, 120_000);
  } finally {
    worker.kill();
  }
}
