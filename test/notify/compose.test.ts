import { describe, expect, it } from 'vitest';
import {
  compose,
  describe as describeItem,
  type Item,
  type ItemKind,
  latest,
} from '../../src/notify/compose.js';

const T = Date.UTC(2026, 10, 25, 12, 0, 0);
const HOUR = 3_600_000;
const REASON = 'no heartbeat for 61 s (interval 30 s + grace 30 s)';

function item(kind: ItemKind, host: string, overrides: Partial<Item> = {}): Item {
  return {
    kind,
    host,
    at: T,
    state: kind === 'down' || kind === 'reminder' ? 'down' : 'up',
    status: 'ok',
    msg: 'load 0.42',
    addr: '192.0.2.7',
    reason: REASON,
    previousFor: null,
    ...overrides,
  };
}

const one = (items: Item[], group = '') => compose(items, { dedupKey: 'hbd-key', group });

describe('compose: a message about one host', () => {
  it.each([
    ['web1 is down', 'down', item('down', 'web1')],
    ['web1 is back up', 'up', item('up', 'web1')],
    ['web1 reports fail', 'status', item('status', 'web1', { status: 'fail' })],
    ['web1 reports warn', 'status', item('status', 'web1', { status: 'warn' })],
    ['web1 is ok again', 'status', item('status-ok', 'web1')],
    ['web1 is still down', 'reminder', item('reminder', 'web1')],
    ['web1 is flapping', 'flapping', item('flapping', 'web1')],
    ['web1 has settled: down', 'flapping', item('settled', 'web1', { state: 'down' })],
    ['web1 has settled: up', 'flapping', item('settled', 'web1', { state: 'up' })],
  ])('titles "%s" with kind %s', (title, kind, single) => {
    const message = one([single]);
    expect(message.title).toBe(title);
    expect(message.kind).toBe(kind);
    expect(message.dedupKey).toBe('hbd-key');
    expect(message.hosts).toEqual([
      {
        name: 'web1',
        state: single.state,
        status: single.status,
        msg: 'load 0.42',
        addr: '192.0.2.7',
        previousFor: null,
      },
    ]);
  });

  it('says how long a host that went down had been up, why, and what it last reported', () => {
    const message = one([item('down', 'web1', { previousFor: 3 * HOUR })]);
    expect(message.body).toBe(
      [
        'web1 is down (2026-11-25 12:00:00 UTC)',
        `It had been up for 3h; ${REASON}.`,
        'Last status ok, "load 0.42"; address 192.0.2.7.',
      ].join('\n'),
    );
    expect(message.details).toBe(message.body);
    expect(message.at).toBe(T);
  });

  it('gives the reason alone when the time before is unknown', () => {
    const message = one([item('down', 'web1', { msg: null })]);
    expect(message.body).toBe(
      [
        'web1 is down (2026-11-25 12:00:00 UTC)',
        'No heartbeat for 61 s (interval 30 s + grace 30 s).',
        'Last status ok; address 192.0.2.7.',
      ].join('\n'),
    );
  });

  it('renders the time before for a return and for a reminder', () => {
    expect(one([item('up', 'web1', { previousFor: 90 * 60_000 })]).body).toContain(
      'It had been down for 1h 30m.',
    );
    expect(one([item('reminder', 'web1', { previousFor: 3 * 86_400_000 })]).body).toContain('Down for 3d.');
  });

  it('prefixes the group in brackets, and nothing without one', () => {
    expect(one([item('down', 'web1')], 'dc1').title).toBe('[dc1] web1 is down');
    expect(one([item('down', 'web1')], '').title).toBe('web1 is down');
  });
});

describe('compose: a group', () => {
  const fourteen = Array.from({ length: 14 }, (_, i) => item('down', `h${i + 1}`, { at: T + i }));

  it('counts 14 hosts down and names the first ten', () => {
    const message = one(fourteen);
    expect(message.title).toBe('14 hosts down');
    expect(message.body).toBe('14 hosts down: h1, h2, h3, h4, h5, h6, h7, h8, h9, h10 (and 4 more)');
    expect(message.kind).toBe('down');
    expect(message.hosts.map((host) => host.name)).toEqual(fourteen.map((i) => i.host));
    expect(message.at).toBe(T + 13);
  });

  it('names all of a group of exactly ten without "more"', () => {
    const message = one(fourteen.slice(0, 10));
    expect(message.body).toBe('10 hosts down: h1, h2, h3, h4, h5, h6, h7, h8, h9, h10');
  });

  it('prefixes the group of a grouped message', () => {
    expect(one(fourteen, 'dc1').title).toBe('[dc1] 14 hosts down');
  });

  it('puts mixed kinds in order of urgency and takes the kind of the most urgent', () => {
    const message = one([
      item('up', 'a'),
      item('status', 'b', { status: 'warn' }),
      item('down', 'c'),
      item('up', 'd'),
      item('reminder', 'e'),
      item('flapping', 'f'),
    ]);
    expect(message.title).toBe(
      '1 host down, 1 host warn or fail, 1 host flapping, 1 host still down, 2 hosts back up',
    );
    expect(message.body.split('\n')).toEqual([
      '1 host down: c',
      '1 host warn or fail: b',
      '1 host flapping: f',
      '1 host still down: e',
      '2 hosts back up: a, d',
    ]);
    expect(message.kind).toBe('down');
  });

  it.each<[ItemKind[], string, string]>([
    [['up', 'status-ok'], '1 host ok again, 1 host back up', 'status'],
    [['settled', 'reminder'], '1 host still down, 1 host settled', 'reminder'],
    [['up', 'flapping'], '1 host flapping, 1 host back up', 'flapping'],
    [['up', 'settled'], '1 host settled, 1 host back up', 'flapping'],
    [['status-ok', 'status'], '1 host warn or fail, 1 host ok again', 'status'],
  ])('%j → "%s", kind %s', (kinds, title, kind) => {
    const message = one(kinds.map((k, i) => item(k, `h${i}`)));
    expect(message.title).toBe(title);
    expect(message.kind).toBe(kind);
  });

  it('resolves only when every item resolves', () => {
    expect(one([item('up', 'a'), item('status-ok', 'b')]).resolves).toBe(true);
    expect(one([item('up', 'a'), item('settled', 'b', { state: 'up' })]).resolves).toBe(true);
    expect(one([item('up', 'a'), item('down', 'b')]).resolves).toBe(false);
    expect(one([item('up', 'a'), item('settled', 'b', { state: 'down' })]).resolves).toBe(false);
    expect(one([item('status-ok', 'a'), item('reminder', 'b')]).resolves).toBe(false);
    expect(one([item('flapping', 'a')]).resolves).toBe(false);
    expect(one([item('status', 'a')]).resolves).toBe(false);
  });

  it('gives one block of details per item, with its address, status and last msg', () => {
    const items = [
      item('down', 'web1', { addr: '192.0.2.1', status: 'ok', msg: 'fine', previousFor: 3 * HOUR }),
      item('status', 'db1', { addr: '2001:db8::5', status: 'fail', msg: 'disk full' }),
      item('up', 'mail', { addr: '198.51.100.9', status: 'warn', msg: null }),
    ];
    const message = one(items);
    const blocks = message.details!.split('\n\n');
    expect(blocks).toEqual(items.map(describeItem));
    expect(blocks[0]).toContain('It had been up for 3h');
    expect(blocks[0]).toContain('Last status ok, "fine"; address 192.0.2.1.');
    expect(blocks[1]).toContain('db1 reports fail');
    expect(blocks[1]).toContain('Last status fail, "disk full"; address 2001:db8::5.');
    expect(blocks[2]).toContain('Last status warn; address 198.51.100.9.');
  });

  it('refuses an empty group', () => {
    expect(() => one([])).toThrow(RangeError);
  });

  it('composes a group of 200,000 hosts, dated by the latest of them', () => {
    // Too many to spread into Math.max: it would throw a RangeError, in a timer.
    const huge = Array.from({ length: 200_000 }, (_, i) =>
      item('down', `h${i}`, { at: T + ((i * 7) % 200_000) }),
    );
    const message = one(huge);
    expect(message.title).toBe('200000 hosts down');
    expect(message.at).toBe(T + 199_999);
  });
});

describe('latest', () => {
  it('finds the largest of 200,000 times, wherever it is', () => {
    const times = Array.from({ length: 200_000 }, (_, i) => T - i);
    expect(latest(times)).toBe(T);
    times.reverse();
    expect(latest(times)).toBe(T);
    expect(latest([T, T + 5, T - 5])).toBe(T + 5);
  });
});
