import { describe, expect, it } from 'vitest';
import { type HostEvent, type HostEventKind, STATUS_FLAPPING } from '../../src/model/events.js';
import type { HostRecord } from '../../src/model/host.js';
import {
  notifyTriggers,
  type TriggerSources,
  triggerKindOf,
  triggersFor,
} from '../../src/notify/triggers.js';
import { hostRecord } from '../helpers/host-record.js';
import { openTestStore } from '../helpers/notify-store.js';

const T = Date.UTC(2026, 10, 25, 12, 0, 0);
const HOUR = 3_600_000;

describe('triggerKindOf', () => {
  it.each<[HostEventKind, string | null, string | null, string | undefined]>([
    // A first appearance is not news.
    ['state', null, 'up', undefined],
    ['state', null, 'down', undefined],
    ['state', 'up', 'down', 'down'],
    ['state', 'late', 'down', 'down'],
    ['state', 'down', 'up', 'up'],
    ['state', 'up', 'late', undefined],
    ['state', 'late', 'up', undefined],
    ['state', 'up', 'left', undefined],
    ['state', 'down', 'left', undefined],
    ['state', 'late', 'left', undefined],
    ['state', 'left', 'up', undefined],
    ['state', 'left', 'down', undefined],
    ['status', 'ok', 'warn', 'status'],
    ['status', 'ok', 'fail', 'status'],
    ['status', 'warn', 'fail', 'status'],
    ['status', 'fail', 'warn', 'status'],
    ['status', 'fail', 'ok', 'status'],
    ['status', 'warn', 'ok', 'status'],
    ['status', null, 'ok', undefined],
    ['status', null, 'warn', undefined],
    ['status', 'ok', 'bye', undefined],
    ['dns', null, '192.0.2.7', undefined],
    ['dns', '192.0.2.7', '192.0.2.8', undefined],
    ['forget', 'down', null, undefined],
    ['forget', 'up', null, undefined],
  ])('%s %s → %s: %s', (kind, from, to, expected) => {
    expect(triggerKindOf({ kind, from, to })).toBe(expected);
  });

  it('a status flapping episode and the status it settles on are triggers', () => {
    expect(triggerKindOf({ kind: 'status', from: 'ok', to: STATUS_FLAPPING })).toBe('status');
    expect(triggerKindOf({ kind: 'status', from: STATUS_FLAPPING, to: 'ok' })).toBe('status');
    expect(triggerKindOf({ kind: 'status', from: STATUS_FLAPPING, to: 'warn' })).toBe('status');
  });

  it("a first heartbeat's problem is a trigger when announce_new_problems is on, and only a problem", () => {
    const rules = { announceNewProblems: true };
    expect(triggerKindOf({ kind: 'status', from: null, to: 'fail' }, rules)).toBe('status');
    expect(triggerKindOf({ kind: 'status', from: null, to: 'warn' }, rules)).toBe('status');
    expect(triggerKindOf({ kind: 'status', from: null, to: 'ok' }, rules)).toBeUndefined();
    expect(triggerKindOf({ kind: 'state', from: null, to: 'up' }, rules)).toBeUndefined();
    expect(
      triggerKindOf({ kind: 'status', from: null, to: 'fail' }, { announceNewProblems: false }),
    ).toBeUndefined();
  });
});

function host(overrides: Partial<HostRecord> = {}): HostRecord {
  return hostRecord('web1', {
    state: 'down',
    status: 'warn',
    msg: 'disk 91% full',
    fields: { role: 'web', dc: 'fra' },
    firstSeen: T - 10 * HOUR,
    lastSeen: T - 61_000,
    every: 30,
    ...overrides,
  });
}

function event(overrides: Partial<HostEvent> & Pick<HostEvent, 'kind' | 'from' | 'to'>): HostEvent {
  return { id: 42, at: T, host: 'web1', reason: 'no heartbeat for 61 s', ...overrides };
}

function sources(overrides: Partial<TriggerSources> = {}): TriggerSources & { asked: [string, number][] } {
  const asked: [string, number][] = [];
  const hosts = new Map([['web1', host()]]);
  return {
    asked,
    host: (name) => hosts.get(name),
    previousStateChange: (name, before) => {
      asked.push([name, before]);
      return T - 3 * HOUR;
    },
    groupBy: null,
    ...overrides,
  };
}

describe('triggersFor', () => {
  it('describes a down from the host as it is now, with how long it had been up', () => {
    const from = sources();
    const triggers = triggersFor([event({ kind: 'state', from: 'up', to: 'down' })], from);
    expect(triggers).toEqual([
      {
        eventId: 42,
        at: T,
        host: 'web1',
        kind: 'down',
        detail: {
          from: 'up',
          to: 'down',
          reason: 'no heartbeat for 61 s',
          status: 'warn',
          msg: 'disk 91% full',
          addr: '192.0.2.7',
          group: '',
          previousFor: 3 * HOUR,
        },
      },
    ]);
    // Only changes before this very event count as "previous".
    expect(from.asked).toEqual([['web1', 42]]);
  });

  it('counts from the first sighting when there was no earlier state change', () => {
    const triggers = triggersFor(
      [event({ kind: 'state', from: 'down', to: 'up', reason: 'heartbeat' })],
      sources({ previousStateChange: () => undefined }),
    );
    expect(triggers.map((t) => [t.kind, t.detail.previousFor])).toEqual([['up', 10 * HOUR]]);
  });

  it('never gives a negative time before', () => {
    const triggers = triggersFor(
      [event({ kind: 'state', from: 'up', to: 'down' })],
      sources({ previousStateChange: () => T + 5000 }),
    );
    expect(triggers[0]!.detail.previousFor).toBe(0);
  });

  it('leaves the time before null for a status change, without looking it up', () => {
    const from = sources();
    const triggers = triggersFor(
      [event({ kind: 'status', from: 'ok', to: 'warn', reason: 'reported' })],
      from,
    );
    expect(triggers).toHaveLength(1);
    expect(triggers[0]!.kind).toBe('status');
    expect(triggers[0]!.detail.previousFor).toBeNull();
    expect(from.asked).toEqual([]);
  });

  it('takes the group from the group_by field, or "" when the host has no such field', () => {
    const down = [event({ kind: 'state', from: 'up', to: 'down' })];
    expect(triggersFor(down, sources({ groupBy: 'dc' }))[0]!.detail.group).toBe('fra');
    expect(triggersFor(down, sources({ groupBy: 'role' }))[0]!.detail.group).toBe('web');
    expect(triggersFor(down, sources({ groupBy: 'rack' }))[0]!.detail.group).toBe('');
    expect(triggersFor(down, sources({ groupBy: null }))[0]!.detail.group).toBe('');
  });

  it('keeps the events that matter, in order, and skips the rest and unknown hosts', () => {
    const triggers = triggersFor(
      [
        event({ id: 1, kind: 'state', from: null, to: 'up' }),
        event({ id: 2, kind: 'state', from: 'up', to: 'down' }),
        event({ id: 3, kind: 'dns', from: null, to: '192.0.2.7' }),
        event({ id: 4, host: 'ghost', kind: 'state', from: 'up', to: 'down' }),
        event({ id: 5, kind: 'status', from: 'warn', to: 'ok' }),
        event({ id: 6, kind: 'state', from: 'down', to: 'left' }),
      ],
      sources(),
    );
    expect(triggers.map((t) => [t.eventId, t.kind])).toEqual([
      [2, 'down'],
      [5, 'status'],
    ]);
  });
});

describe('notifyTriggers (what the store writer calls in its transaction)', () => {
  it('derives the triggers of stored events, with how long before from the same transaction', async () => {
    const store = openTestStore();
    const hosts = new Map([['web1', host({ fields: { dc: 'fra' } })]]);
    const derive = notifyTriggers({
      host: (name) => hosts.get(name),
      groupBy: 'dc',
      announceNewProblems: false,
    });
    const change = { host: 'web1', kind: 'state' as const, reason: 'test' };
    const triggers = await store.transaction(async (tx) => {
      await tx.events.append([{ ...change, at: T - 3 * HOUR, from: 'down', to: 'up' }]);
      const events = await tx.events.append([
        { ...change, at: T - HOUR, from: 'up', to: 'late' },
        { ...change, at: T, from: 'late', to: 'down' },
        { ...change, kind: 'status', at: T, from: null, to: 'warn' },
        { ...change, host: 'ghost', at: T, from: 'up', to: 'down' },
      ]);
      return derive(events, tx);
    });
    // Going late is no change of state: it had been up since T - 3 h. A first heartbeat's problem
    // is not announced here, and a host no longer in the table has no trigger.
    expect(triggers.map((t) => [t.kind, t.host, t.detail.previousFor, t.detail.group])).toEqual([
      ['down', 'web1', 3 * HOUR, 'fra'],
    ]);
    await store.close();
  });
});
