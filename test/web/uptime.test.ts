import { describe, expect, it } from 'vitest';
import { DAY_MS, uptimeJson, uptimeShare } from '../../src/http/uptime-json.js';
import type { HostEvent } from '../../src/model/events.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const HOUR = 3_600_000;
let nextId = 1;
function change(hoursAgo: number, from: string | null, to: string | null, kind: HostEvent['kind'] = 'state') {
  return {
    id: nextId++,
    at: NOW - hoursAgo * HOUR,
    host: 'web1',
    kind,
    from,
    to,
    reason: '',
  } satisfies HostEvent;
}

describe('uptime: time up or late, against time down', () => {
  it('is 1 for a host up the whole window, and counts from its first heartbeat when younger', () => {
    expect(
      uptimeShare({
        events: [change(2, null, 'up')],
        currentState: 'up',
        firstSeen: NOW - 2 * HOUR,
        now: NOW,
        windowMs: DAY_MS,
      }),
    ).toBe(1);
  });

  it('counts late as up and down as down', () => {
    const events = [
      change(10, null, 'up'),
      change(6, 'up', 'late'),
      change(5, 'late', 'down'),
      change(4, 'down', 'up'),
    ];
    const share = uptimeShare({
      events,
      currentState: 'up',
      firstSeen: NOW - 10 * HOUR,
      now: NOW,
      windowMs: DAY_MS,
    });
    expect(share).toBeCloseTo(9 / 10, 4);
  });

  it('takes the state before the window from the first change inside it', () => {
    // Down since before the window, up for the last 6 of its 24 hours.
    const share = uptimeShare({
      events: [change(6, 'down', 'up')],
      currentState: 'up',
      firstSeen: NOW - 30 * DAY_MS,
      now: NOW,
      windowMs: DAY_MS,
    });
    expect(share).toBe(0.25);
  });

  it('leaves time spent left out of both sides, and is null when nothing else is in the window', () => {
    const events = [change(8, 'up', 'left'), change(2, 'left', 'down')];
    const share = uptimeShare({
      events,
      currentState: 'down',
      firstSeen: NOW - 30 * DAY_MS,
      now: NOW,
      windowMs: DAY_MS,
    });
    expect(share).toBeCloseTo(16 / 18, 4);
    expect(
      uptimeShare({
        events: [],
        currentState: 'left',
        firstSeen: NOW - 30 * DAY_MS,
        now: NOW,
        windowMs: DAY_MS,
      }),
    ).toBeNull();
  });

  it('uses the current state when nothing changed in the window', () => {
    expect(uptimeJson({ events: [], currentState: 'down', firstSeen: NOW - 30 * DAY_MS, now: NOW })).toEqual({
      day: 0,
      week: 0,
    });
  });

  it('ignores what happened before a forget', () => {
    const events = [change(20, 'up', 'down'), change(12, 'down', null, 'forget'), change(6, null, 'up')];
    const share = uptimeShare({
      events,
      currentState: 'up',
      firstSeen: NOW - 6 * HOUR,
      now: NOW,
      windowMs: DAY_MS,
    });
    expect(share).toBe(1);
  });
});
