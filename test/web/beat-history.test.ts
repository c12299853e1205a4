import { describe, expect, it } from 'vitest';
import { BEATS_KEPT, BeatHistory } from '../../src/state/beat-history.js';

describe('BeatHistory: the recent heartbeats behind the dashboard chart', () => {
  it('gives each host its arrivals, oldest first, with the gap before each and what was lost', () => {
    const history = new BeatHistory();
    history.record(3, 1_000_000, 0, true);
    history.record(3, 1_030_000, 0, false);
    history.record(3, 1_061_500, 2, false);
    expect(history.recent(3)).toEqual([
      { at: 1_000_000, gapMs: null, lost: 0 },
      { at: 1_030_000, gapMs: 30_000, lost: 0 },
      { at: 1_061_500, gapMs: 31_500, lost: 2 },
    ]);
    expect(history.recent(4)).toEqual([]);
    expect(history.recent(10_000)).toEqual([]);
  });

  it(`keeps the last ${BEATS_KEPT} heartbeats of a host`, () => {
    const history = new BeatHistory();
    for (let i = 0; i < BEATS_KEPT + 10; i++) history.record(0, 5_000 + i * 1000, i % 3, i === 0);
    const beats = history.recent(0);
    expect(beats).toHaveLength(BEATS_KEPT);
    expect(beats[0]).toEqual({ at: 5_000 + 10 * 1000, gapMs: null, lost: 10 % 3 });
    expect(beats.at(-1)).toEqual({
      at: 5_000 + (BEATS_KEPT + 9) * 1000,
      gapMs: 1000,
      lost: (BEATS_KEPT + 9) % 3,
    });
  });

  it('starts afresh when a slot is given to a new host, and keeps hosts apart', () => {
    const history = new BeatHistory();
    history.record(1, 1000, 0, true);
    history.record(1, 2000, 0, false);
    history.record(2, 1500, 0, true);
    history.record(1, 9000, 0, true);
    expect(history.recent(1)).toEqual([{ at: 9000, gapMs: null, lost: 0 }]);
    expect(history.recent(2)).toEqual([{ at: 1500, gapMs: null, lost: 0 }]);
  });

  it('costs 330 bytes per beating host and 4 per slot', () => {
    const history = new BeatHistory();
    for (let slot = 0; slot < 4096; slot++) history.record(slot, 1000, 0, true);
    // Arrays double when full: 4096 is a power of two, so nothing is spare here.
    expect(history.bytes / 4096).toBe(BEATS_KEPT * 5 + 10 + 4);
  });

  it('caps what one beat says was lost at 255 and a clock stepping back at a zero gap', () => {
    const history = new BeatHistory();
    history.record(0, 10_000, 0, true);
    history.record(0, 9_000, 70_000, false);
    expect(history.recent(0)[1]).toMatchObject({ gapMs: 0, lost: 255 });
  });
});
