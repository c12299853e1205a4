import { describe, expect, it } from 'vitest';
import { CheckQueue } from '../../src/auth/check-queue.js';

/** A check that ends when the test says so. */
function heldCheck() {
  let release!: () => void;
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  let started = false;
  return {
    run: async () => {
      started = true;
      await done;
      return true;
    },
    release,
    get started() {
      return started;
    },
  };
}

describe('the password check queue', () => {
  it('runs one check at a time, keeps 16 waiting in order, and refuses the next at once without running it', async () => {
    const queue = new CheckQueue({ concurrency: 1, maxWaiting: 16 });
    const checks = Array.from({ length: 18 }, () => heldCheck());
    const results = checks.map((check) => queue.tryRun(check.run));
    expect(results.slice(0, 17).every((result) => result instanceof Promise)).toBe(true);
    expect(results[17]).toBeUndefined();
    await Promise.resolve();
    expect(checks.map((check) => check.started)).toEqual([true, ...Array(17).fill(false)]);
    expect({ running: queue.running, waiting: queue.waiting }).toEqual({ running: 1, waiting: 16 });

    const order: number[] = [];
    for (let i = 0; i < 17; i++) {
      void results[i]!.then(() => order.push(i));
      checks[i]!.release();
    }
    await Promise.all(results.slice(0, 17));
    expect(order).toEqual(Array.from({ length: 17 }, (_, i) => i));
    expect(checks[17]!.started).toBe(false);
    expect({ running: queue.running, waiting: queue.waiting }).toEqual({ running: 0, waiting: 0 });
  });

  it('frees the place of a check that fails', async () => {
    const queue = new CheckQueue({ concurrency: 1, maxWaiting: 0 });
    await expect(queue.tryRun(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await queue.tryRun(async () => 'next')).toBe('next');
    expect(queue.running).toBe(0);
  });
});
