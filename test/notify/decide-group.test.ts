/**
 * The decision policy alone, on tables: a group's triggers and extras, what was announced, the
 * hosts as they are, and the moment's holds go in; the lines, the consumed and held triggers and
 * the new announced state come out. No clock, no store, no timer.
 */
import { describe, expect, it } from 'vitest';
import { STATUS_FLAPPING } from '../../src/model/events.js';
import type { HostRecord } from '../../src/model/host.js';
import type { AnnouncedHost, Trigger, TriggerKind } from '../../src/model/outbox.js';
import { decideGroup, type GroupInput } from '../../src/notify/decide-group.js';
import { type Extra, reminderExtra, settledExtra } from '../../src/notify/items.js';
import { hostRecord } from '../helpers/host-record.js';

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const EARLIER = NOW - 600_000;

let nextId = 1;
function trigger(host: string, kind: TriggerKind, to: string): Trigger {
  return {
    id: nextId++,
    eventId: nextId,
    at: NOW - 10_000,
    host,
    kind,
    detail: {
      from: null,
      to,
      reason: 'test',
      status: 'ok',
      msg: null,
      addr: '192.0.2.7',
      group: '',
      previousFor: 60_000,
    },
  };
}
const down = (host: string) => trigger(host, 'down', 'down');
const up = (host: string) => trigger(host, 'up', 'up');
const status = (host: string, to: string) => trigger(host, 'status', to);

const host = (name: string, overrides: Partial<HostRecord> = {}) =>
  hostRecord(name, { state: 'down', ...overrides });
const announced = (name: string, overrides: Partial<AnnouncedHost>): AnnouncedHost => ({
  host: name,
  downAt: null,
  status: null,
  remindedAt: null,
  ...overrides,
});

interface Case {
  triggers?: Trigger[];
  extras?: Extra[];
  announced?: AnnouncedHost[];
  hosts?: HostRecord[];
  muted?: string[];
  flapping?: string[];
  restartGrace?: boolean;
  /** Which hosts the isolation holds: none, unsigned ones, or all. */
  isolation?: 'none' | 'unsigned' | 'all';
}

interface Outcome {
  /** kind:host per line. */
  items: string[];
  /** Which of the triggers (by index) are consumed, which held. */
  consumed: number[];
  held: number[];
  announced: AnnouncedHost[];
}

function decide(c: Case): Outcome {
  const triggers = c.triggers ?? [];
  const isolation = c.isolation ?? 'none';
  const input: GroupInput = {
    triggers,
    extras: c.extras ?? [],
    announced: new Map((c.announced ?? []).map((a) => [a.host, a])),
    hosts: new Map((c.hosts ?? []).map((h) => [h.name, h])),
    muted: (name) => (c.muted ?? []).includes(name),
    flapping: (name) => (c.flapping ?? []).includes(name),
    restartGrace: c.restartGrace ?? false,
    isolationHolds: (signed) => isolation === 'all' || (isolation === 'unsigned' && !signed),
    now: NOW,
  };
  const decision = decideGroup(input);
  const index = (t: Trigger) => triggers.indexOf(t);
  return {
    items: decision.items.map((item) => `${item.kind}:${item.host}`),
    consumed: decision.consumed.map((id) => triggers.findIndex((t) => t.id === id)),
    held: decision.held.map(index),
    announced: decision.announced,
  };
}

const wentDown = (name: string) => announced(name, { downAt: NOW });

describe('decideGroup: state changes', () => {
  it.each<[string, Case, Outcome]>([
    [
      'a down is announced, and remembered',
      { triggers: [down('a')], hosts: [host('a')] },
      { items: ['down:a'], consumed: [0], held: [], announced: [wentDown('a')] },
    ],
    [
      'a down announced before is not announced again',
      { triggers: [down('a')], hosts: [host('a')], announced: [announced('a', { downAt: EARLIER })] },
      { items: [], consumed: [0], held: [], announced: [] },
    ],
    [
      'a host already back (its up in the same group) is not news',
      { triggers: [down('a'), up('a')], hosts: [host('a', { state: 'up' })] },
      { items: [], consumed: [0, 1], held: [], announced: [] },
    ],
    [
      'a down whose host is up again by the decision is not announced',
      { triggers: [down('a')], hosts: [host('a', { state: 'up' })] },
      { items: [], consumed: [0], held: [], announced: [] },
    ],
    [
      'a recovery is announced when its down was',
      {
        triggers: [up('a')],
        hosts: [host('a', { state: 'up' })],
        announced: [announced('a', { downAt: EARLIER })],
      },
      { items: ['up:a'], consumed: [0], held: [], announced: [announced('a', {})] },
    ],
    [
      'a recovery whose down was never announced is not',
      { triggers: [up('a')], hosts: [host('a', { state: 'up' })] },
      { items: [], consumed: [0], held: [], announced: [] },
    ],
    [
      'a forgotten host gets no line, its trigger is consumed',
      { triggers: [down('a')], hosts: [] },
      { items: [], consumed: [0], held: [], announced: [] },
    ],
    [
      'several hosts, one line each, in trigger order',
      { triggers: [down('a'), down('b')], hosts: [host('a'), host('b')] },
      { items: ['down:a', 'down:b'], consumed: [0, 1], held: [], announced: [wentDown('a'), wentDown('b')] },
    ],
  ])('%s', (_, input, expected) => {
    expect(decide(input)).toEqual(expected);
  });
});

describe('decideGroup: status', () => {
  it.each<[string, Case, Outcome]>([
    [
      'a status turning warn is announced',
      { triggers: [status('a', 'warn')], hosts: [host('a', { state: 'up', status: 'warn' })] },
      { items: ['status:a'], consumed: [0], held: [], announced: [announced('a', { status: 'warn' })] },
    ],
    [
      'the same status again is not',
      {
        triggers: [status('a', 'warn')],
        hosts: [host('a', { state: 'up', status: 'warn' })],
        announced: [announced('a', { status: 'warn' })],
      },
      { items: [], consumed: [0], held: [], announced: [] },
    ],
    [
      'warn turning fail is',
      {
        triggers: [status('a', 'fail')],
        hosts: [host('a', { state: 'up', status: 'fail' })],
        announced: [announced('a', { status: 'warn' })],
      },
      { items: ['status:a'], consumed: [0], held: [], announced: [announced('a', { status: 'fail' })] },
    ],
    [
      'back to ok after an announced problem',
      {
        triggers: [status('a', 'ok')],
        hosts: [host('a', { state: 'up', status: 'ok' })],
        announced: [announced('a', { status: 'fail' })],
      },
      { items: ['status-ok:a'], consumed: [0], held: [], announced: [announced('a', {})] },
    ],
    [
      'back to ok after a problem never announced: nothing',
      { triggers: [status('a', 'ok')], hosts: [host('a', { state: 'up', status: 'ok' })] },
      { items: [], consumed: [0], held: [], announced: [] },
    ],
    [
      'a status flapping episode, once',
      { triggers: [status('a', STATUS_FLAPPING)], hosts: [host('a', { state: 'up', status: 'warn' })] },
      {
        items: ['flapping:a'],
        consumed: [0],
        held: [],
        announced: [announced('a', { status: STATUS_FLAPPING })],
      },
    ],
    [
      'a status flapping episode already announced',
      {
        triggers: [status('a', STATUS_FLAPPING)],
        hosts: [host('a', { state: 'up', status: 'warn' })],
        announced: [announced('a', { status: STATUS_FLAPPING })],
      },
      { items: [], consumed: [0], held: [], announced: [] },
    ],
  ])('%s', (_, input, expected) => {
    expect(decide(input)).toEqual(expected);
  });
});

describe('decideGroup: muted, flapping, held', () => {
  it.each<[string, Case, Outcome]>([
    [
      'muted: no line, nothing remembered as announced',
      { triggers: [down('a')], hosts: [host('a')], muted: ['a'] },
      { items: [], consumed: [0], held: [], announced: [] },
    ],
    [
      'muted recovery: no line, but the down is no longer outstanding',
      {
        triggers: [up('a')],
        hosts: [host('a', { state: 'up' })],
        announced: [announced('a', { downAt: EARLIER })],
        muted: ['a'],
      },
      { items: [], consumed: [0], held: [], announced: [announced('a', {})] },
    ],
    [
      'muted status: no line, not remembered',
      { triggers: [status('a', 'fail')], hosts: [host('a', { state: 'up', status: 'fail' })], muted: ['a'] },
      { items: [], consumed: [0], held: [], announced: [] },
    ],
    [
      'a flapping host: its down is summed up by the flapping line instead',
      { triggers: [down('a')], hosts: [host('a')], flapping: ['a'] },
      { items: [], consumed: [0], held: [], announced: [] },
    ],
    [
      'held by the restart grace: a down',
      { triggers: [down('a')], hosts: [host('a')], restartGrace: true },
      { items: [], consumed: [], held: [0], announced: [] },
    ],
    [
      'held by the restart grace: a problem status',
      {
        triggers: [status('a', 'warn')],
        hosts: [host('a', { state: 'up', status: 'warn' })],
        restartGrace: true,
      },
      { items: [], consumed: [], held: [0], announced: [] },
    ],
    [
      'not held by the restart grace: a status flapping episode (heartbeats were heard)',
      {
        triggers: [status('a', STATUS_FLAPPING)],
        hosts: [host('a', { state: 'up', status: 'warn' })],
        restartGrace: true,
      },
      {
        items: ['flapping:a'],
        consumed: [0],
        held: [],
        announced: [announced('a', { status: STATUS_FLAPPING })],
      },
    ],
    [
      'not held by the restart grace: a recovery',
      {
        triggers: [up('a')],
        hosts: [host('a', { state: 'up' })],
        announced: [announced('a', { downAt: EARLIER })],
        restartGrace: true,
      },
      { items: ['up:a'], consumed: [0], held: [], announced: [announced('a', {})] },
    ],
    [
      'held by the isolation: an unsigned host while unsigned hosts are held',
      {
        triggers: [down('a'), down('s')],
        hosts: [host('a'), host('s', { signed: true })],
        isolation: 'unsigned',
      },
      { items: ['down:s'], consumed: [1], held: [0], announced: [wentDown('s')] },
    ],
    [
      'held by the isolation: every host while signed hosts went silent together',
      { triggers: [down('a'), down('s')], hosts: [host('a'), host('s', { signed: true })], isolation: 'all' },
      { items: [], consumed: [], held: [0, 1], announced: [] },
    ],
    [
      'a held down and a status of the same host: the status still goes out',
      {
        triggers: [down('a'), status('a', 'fail')],
        hosts: [host('a', { status: 'fail' })],
        isolation: 'all',
      },
      { items: ['status:a'], consumed: [1], held: [0], announced: [announced('a', { status: 'fail' })] },
    ],
  ])('%s', (_, input, expected) => {
    expect(decide(input)).toEqual(expected);
  });
});

describe('decideGroup: reminders and settled hosts', () => {
  const stillDown = announced('a', { downAt: EARLIER });
  const reminder = reminderExtra({ ...stillDown, downAt: EARLIER }, host('a'), NOW);

  it.each<[string, Case, Outcome]>([
    [
      'a reminder while the host is still down, remembered',
      { extras: [reminder], hosts: [host('a')], announced: [stillDown] },
      { items: ['reminder:a'], consumed: [], held: [], announced: [{ ...stillDown, remindedAt: NOW }] },
    ],
    [
      'a reminder whose recovery is in the same group is dropped',
      {
        triggers: [up('a')],
        extras: [reminder],
        hosts: [host('a', { state: 'up' })],
        announced: [stillDown],
      },
      { items: ['up:a'], consumed: [0], held: [], announced: [announced('a', {})] },
    ],
    [
      'a reminder for a host forgotten meanwhile is dropped',
      { extras: [reminder], hosts: [], announced: [stillDown] },
      { items: [], consumed: [], held: [], announced: [] },
    ],
    [
      'a flapping host settled down: a line, and it is known as down',
      { extras: [settledExtra(host('a'), NOW)], hosts: [host('a')] },
      { items: ['settled:a'], consumed: [], held: [], announced: [announced('a', { downAt: NOW })] },
    ],
    [
      'settled up, then down in the same group: the down stands on the settled state',
      {
        triggers: [down('a')],
        extras: [settledExtra(host('a', { state: 'up' }), NOW)],
        hosts: [host('a')],
        announced: [announced('a', { downAt: EARLIER })],
      },
      { items: ['down:a', 'settled:a'], consumed: [0], held: [], announced: [wentDown('a')] },
    ],
  ])('%s', (_, input, expected) => {
    expect(decide(input)).toEqual(expected);
  });
});
