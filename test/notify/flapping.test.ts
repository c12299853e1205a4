import { describe, expect, it } from 'vitest';
import { FlapDetector } from '../../src/notify/flapping.js';

const T = Date.UTC(2026, 10, 25, 12, 0, 0);
const S = 1000;
const WINDOW = 600 * S;

/** Threshold 4 and settle 1 keep a clear gap between them, so each side of the hysteresis shows. */
function detector() {
  return new FlapDetector({ windowMs: WINDOW, threshold: 4, settle: 1 });
}

/** Records changes at the given offsets (seconds after T); returns what each record() answered. */
function record(flaps: FlapDetector, host: string, offsets: number[]): boolean[] {
  return offsets.map((offset) => flaps.record(host, T + offset * S));
}

describe('FlapDetector', () => {
  it('says true once, for the change that reaches the threshold', () => {
    const flaps = detector();
    expect(record(flaps, 'web1', [0, 10, 20, 30])).toEqual([false, false, false, true]);
    expect(flaps.isFlapping('web1')).toBe(true);
    expect(flaps.changesWithinWindow('web1')).toBe(4);
  });

  it('does not say it again while the host keeps flapping', () => {
    const flaps = detector();
    record(flaps, 'web1', [0, 10, 20, 30]);
    expect(record(flaps, 'web1', [40, 50, 60, 70, 80])).toEqual([false, false, false, false, false]);
    expect(flaps.isFlapping('web1')).toBe(true);
  });

  it('does not count one host against another', () => {
    const flaps = detector();
    record(flaps, 'web1', [0, 10]);
    expect(record(flaps, 'web2', [20, 30])).toEqual([false, false]);
    expect(flaps.isFlapping('web1')).toBe(false);
    expect(flaps.isFlapping('web2')).toBe(false);
  });

  it('leaves a host at threshold - 1 changes alone', () => {
    const flaps = detector();
    expect(record(flaps, 'web1', [0, 10, 20])).toEqual([false, false, false]);
    expect(flaps.isFlapping('web1')).toBe(false);
    expect(flaps.settle(T + 30 * S)).toEqual([]);
  });

  it('lets old changes leave the window, so slow changes never add up to flapping', () => {
    const flaps = detector();
    // Each change falls out of the window before the fourth one arrives.
    expect(record(flaps, 'web1', [0, 200, 400, 600, 800, 1000])).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(flaps.changesWithinWindow('web1')).toBe(3);
    expect(flaps.isFlapping('web1')).toBe(false);
  });

  it('keeps a flapping host flapping while it has more than `settle` changes in the window', () => {
    const flaps = detector();
    record(flaps, 'web1', [0, 100, 200, 300]);
    // At 750 s the first two have left the window: two remain, one more than settle.
    expect(flaps.settle(T + 750 * S)).toEqual([]);
    expect(flaps.isFlapping('web1')).toBe(true);
    expect(flaps.changesWithinWindow('web1')).toBe(2);
  });

  it('releases a flapping host once its changes in the window fall to `settle`, and only once', () => {
    const flaps = detector();
    record(flaps, 'web1', [0, 100, 200, 300]);
    record(flaps, 'web2', [0, 10, 20, 30, 500, 510]);
    expect(flaps.settle(T + 850 * S)).toEqual(['web1']);
    expect(flaps.isFlapping('web1')).toBe(false);
    expect(flaps.isFlapping('web2')).toBe(true);
    expect(flaps.settle(T + 851 * S)).toEqual([]);
    // web2 keeps two changes in the window until the one at 500 s leaves it, at 1100 s.
    expect(flaps.settle(T + 1100 * S)).toEqual(['web2']);
  });

  it('needs the full threshold again to flag a host that settled', () => {
    const flaps = detector();
    record(flaps, 'web1', [0, 100, 200, 300]);
    expect(flaps.settle(T + 850 * S)).toEqual(['web1']);
    // One change (300 s) is still in the window: two more make three, below the threshold.
    expect(record(flaps, 'web1', [860, 870])).toEqual([false, false]);
    expect(record(flaps, 'web1', [880])).toEqual([true]);
  });

  it('forgets a host entirely', () => {
    const flaps = detector();
    record(flaps, 'web1', [0, 10, 20, 30]);
    flaps.forget('web1');
    expect(flaps.isFlapping('web1')).toBe(false);
    expect(flaps.changesWithinWindow('web1')).toBe(0);
    expect(flaps.settle(T + 40 * S)).toEqual([]);
    expect(record(flaps, 'web1', [40, 50, 60])).toEqual([false, false, false]);
    expect(record(flaps, 'web1', [70])).toEqual([true]);
  });
});
