import { describe, expect, it } from 'vitest';
import { DeadlineWheel } from '../../src/state/deadline-wheel.js';

function due(wheel: DeadlineWheel, now: number): number[] {
  const slots: number[] = [];
  wheel.takeDue(now, (slot) => slots.push(slot));
  return slots;
}

describe('DeadlineWheel', () => {
  it('hands a slot over once its time has passed, never before', () => {
    const wheel = new DeadlineWheel(100, 0);
    wheel.schedule(7, 1_050);
    expect(due(wheel, 1_000)).toEqual([]);
    expect(due(wheel, 1_099)).toEqual([]);
    expect(due(wheel, 1_100)).toEqual([7]);
    expect(due(wheel, 5_000)).toEqual([]);
  });

  it('keeps one schedule per slot: rescheduling moves it', () => {
    const wheel = new DeadlineWheel(100, 0);
    wheel.schedule(1, 500);
    wheel.schedule(1, 2_000);
    expect(due(wheel, 1_000)).toEqual([]);
    expect(due(wheel, 2_000)).toEqual([1]);
  });

  it('scheduleNoLaterThan only ever brings a deadline forward', () => {
    const wheel = new DeadlineWheel(100, 0);
    wheel.scheduleNoLaterThan(1, 1_000);
    wheel.scheduleNoLaterThan(1, 3_000);
    expect(wheel.scheduledAt(1)).toBe(1_000);
    wheel.scheduleNoLaterThan(1, 500);
    expect(wheel.scheduledAt(1)).toBe(500);
  });

  it('cancels from the head, the middle and the tail of a tick', () => {
    const wheel = new DeadlineWheel(100, 0);
    for (const slot of [1, 2, 3, 4]) wheel.schedule(slot, 1_000);
    wheel.cancel(4); // head (last inserted)
    wheel.cancel(2); // middle
    wheel.cancel(1); // tail
    expect(due(wheel, 1_000)).toEqual([3]);
    expect(wheel.pending).toBe(0);
  });

  it('walks the ticks in order and skips over a long stall', () => {
    const wheel = new DeadlineWheel(100, 0);
    wheel.schedule(2, 86_400_000);
    wheel.schedule(1, 300);
    expect(due(wheel, 10 * 86_400_000)).toEqual([1, 2]);
  });

  it('a visit that reschedules into a tick already due is visited in the same call', () => {
    const wheel = new DeadlineWheel(100, 0);
    wheel.schedule(1, 100);
    const visits: number[] = [];
    wheel.takeDue(1_000, (slot) => {
      visits.push(slot);
      if (visits.length === 1) wheel.schedule(slot, 500);
    });
    expect(visits).toEqual([1, 1]);
  });

  it('never schedules into a tick it has already walked', () => {
    const wheel = new DeadlineWheel(100, 0);
    due(wheel, 1_000);
    wheel.schedule(1, 200);
    expect(due(wheel, 1_100)).toEqual([1]);
  });
});
