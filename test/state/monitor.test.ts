import { describe, expect, it } from 'vitest';
import { decodeDatagram } from '../../src/protocol/decode.js';
import type { TimingPolicy } from '../../src/state/monitor.js';
import { DEFAULT_TIMING, hb, monitorHarness } from '../helpers/monitor-harness.js';

/** Steps of 100 ms, as the daemon's sweep tick, since these tests turn on jitter allowances under a second. */
const setup = (timing?: TimingPolicy) => monitorHarness({ timing, stepMs: 100 });

describe('Monitor: the up / late / down / left machine', () => {
  it('a first heartbeat makes a host up, with an event saying where it came from', () => {
    const { monitor, sink, stateOf } = setup();
    monitor.beat(hb('web1'), '192.0.2.7', false);
    expect(stateOf('web1')).toBe('up');
    expect(sink.events).toEqual([
      expect.objectContaining({
        host: 'web1',
        kind: 'state',
        from: null,
        to: 'up',
        reason: 'first heartbeat, from 192.0.2.7',
      }),
    ]);
  });

  it('a silent host goes late after its interval (plus a jitter allowance) and down after interval + grace', () => {
    const { monitor, sink, wait, stateOf } = setup();
    monitor.beat(hb('web1'), '192.0.2.7', false);
    wait(64.9); // 60 s + 10 % of it, at most 5 s
    expect(stateOf('web1')).toBe('up');
    wait(0.2);
    expect(stateOf('web1')).toBe('late');
    wait(24.7);
    expect(stateOf('web1')).toBe('late');
    wait(0.2);
    expect(stateOf('web1')).toBe('down');
    expect(sink.transitions()).toEqual(['web1 ∅→up', 'web1 up→late', 'web1 late→down']);
    expect(sink.events.at(-1)?.reason).toMatch(/^no heartbeat for 1m 30s \(interval 60 s \+ grace 30 s\)$/);
  });

  it('a heartbeat a little after its interval is network jitter: no late, no event', () => {
    const { monitor, sink, wait } = setup();
    for (let i = 0; i < 20; i++) {
      monitor.beat(hb('web1', { every: 60 }), '192.0.2.7', false);
      wait(60.3);
    }
    expect(sink.transitions()).toEqual(['web1 ∅→up']);
  });

  it('a heartbeat brings any state back to up and says how long the silence was', () => {
    const { monitor, sink, wait, stateOf } = setup();
    monitor.beat(hb('web1'), '192.0.2.7', false);
    wait(100);
    monitor.beat(hb('web1'), '192.0.2.8', false);
    expect(stateOf('web1')).toBe('up');
    expect(sink.events.at(-1)).toMatchObject({
      from: 'down',
      to: 'up',
      reason: 'heartbeat from 192.0.2.8 after 1m 40s of silence',
    });
  });

  it('regular heartbeats keep a host up with no events at all', () => {
    const { monitor, sink, wait } = setup();
    for (let i = 0; i < 50; i++) {
      monitor.beat(hb('web1'), '192.0.2.7', false);
      wait(55);
    }
    expect(sink.transitions()).toEqual(['web1 ∅→up']);
  });

  it("uses the host's announced `every` as its interval", () => {
    const { monitor, wait, stateOf } = setup();
    monitor.beat(hb('fast', { every: 5 }), '192.0.2.7', false);
    wait(5.4);
    expect(stateOf('fast')).toBe('up');
    wait(0.2);
    expect(stateOf('fast')).toBe('late');
  });

  it('a config override wins over `every`', () => {
    const { monitor, wait, stateOf } = setup({
      ...DEFAULT_TIMING,
      overrideFor: (name) => (name === 'fast' ? { interval: 20, grace: 1 } : {}),
    });
    monitor.beat(hb('fast', { every: 5 }), '192.0.2.7', false);
    wait(19.8);
    expect(stateOf('fast')).toBe('up');
    wait(1.4);
    expect(stateOf('fast')).toBe('down');
  });

  it('a shorter `every` takes effect at once, even while a later deadline is pending', () => {
    const { monitor, wait, stateOf } = setup();
    monitor.beat(hb('web1'), '192.0.2.7', false);
    monitor.beat(hb('web1', { every: 2 }), '192.0.2.7', false);
    wait(2.4);
    expect(stateOf('web1')).toBe('late');
  });

  it('status=bye makes the host left, and its silence raises nothing', () => {
    const { monitor, sink, wait, stateOf } = setup();
    monitor.beat(hb('web1'), '192.0.2.7', false);
    monitor.beat(hb('web1', { status: 'bye', msg: 'rebooting' }), '192.0.2.7', false);
    wait(1000);
    expect(stateOf('web1')).toBe('left');
    expect(sink.transitions()).toEqual(['web1 ∅→up', 'web1 up→left']);
    expect(sink.events.at(-1)?.reason).toBe('said bye: rebooting');
    expect(sink.events.filter((e) => e.kind === 'status')).toEqual([]);
  });

  it('across a bye, a status is compared with the one before it: a reboot into a problem, or out of one, is an event', () => {
    const { monitor, sink } = setup();
    // (A first heartbeat that reports a problem is an event of its own, from null.)
    const statusEvents = () =>
      sink.events
        .filter((e) => e.kind === 'status' && e.from !== null)
        .map((e) => `${e.host} ${e.from}→${e.to}`);
    for (const [host, before, after] of [
      ['a1', 'ok', 'fail'],
      ['c1', 'fail', 'ok'],
      ['w1', 'warn', 'warn'],
      ['o1', 'ok', 'ok'],
    ] as const) {
      monitor.beat(hb(host, { status: before }), '192.0.2.7', false);
      monitor.beat(hb(host, { status: 'bye' }), '192.0.2.7', false);
      monitor.beat(hb(host, { status: after }), '192.0.2.7', false);
    }
    expect(statusEvents()).toEqual(['a1 ok→fail', 'c1 fail→ok']);
  });

  it('a host whose first heartbeat is a bye is compared with nothing when it comes back: only a problem is news', () => {
    const { monitor, sink } = setup();
    monitor.beat(hb('n1', { status: 'bye' }), '192.0.2.7', false);
    monitor.beat(hb('n1', { status: 'ok' }), '192.0.2.7', false);
    monitor.beat(hb('n2', { status: 'bye' }), '192.0.2.7', false);
    monitor.beat(hb('n2', { status: 'fail' }), '192.0.2.7', false);
    expect(sink.events.filter((e) => e.kind === 'status').map((e) => `${e.host} ${e.from}→${e.to}`)).toEqual([
      'n2 bye→fail',
    ]);
  });

  it('a change of status is an event; the same status again is not', () => {
    const { monitor, sink } = setup();
    monitor.beat(hb('db1'), '192.0.2.7', false);
    monitor.beat(hb('db1', { status: 'fail', msg: 'disk full' }), '192.0.2.7', false);
    monitor.beat(hb('db1', { status: 'fail', msg: 'disk full' }), '192.0.2.7', false);
    monitor.beat(hb('db1', { status: 'ok' }), '192.0.2.7', false);
    expect(
      sink.events.filter((e) => e.kind === 'status').map((e) => `${e.from}→${e.to} ${e.reason}`),
    ).toEqual(['ok→fail reported: disk full', 'fail→ok reported']);
  });

  it('a new host that reports a problem at once gets a status event too', () => {
    const { monitor, sink } = setup();
    monitor.beat(hb('db1', { status: 'warn' }), '192.0.2.7', false);
    expect(sink.events.map((e) => `${e.kind} ${e.from}→${e.to}`)).toEqual([
      'state null→up',
      'status null→warn',
    ]);
  });

  it('a wall-clock step does not make hosts late: deadlines run on monotonic time', () => {
    const { monitor, clock, sink, stateOf } = setup();
    monitor.beat(hb('web1'), '192.0.2.7', false);
    clock.stepWall(3_600_000);
    monitor.sweep();
    expect(stateOf('web1')).toBe('up');
    expect(sink.transitions()).toEqual(['web1 ∅→up']);
  });

  it('estimates loss from gaps in seq, and starts afresh when the sender restarts', () => {
    const { monitor, table } = setup();
    for (const seq of [1, 2, 5, 6, 1, 2]) monitor.beat(hb('web1', { seq }), '192.0.2.7', false);
    const host = table.record(table.find('web1'));
    expect(host.received).toBe(6);
    expect(host.lost).toBe(2);
  });

  it('estimates loss exactly for a 64-bit seq counter, as decoded from the wire', () => {
    const { monitor, table } = setup();
    for (const last of ['10', '11', '14']) {
      const decoded = decodeDatagram(Buffer.from(`host=web1 seq=184467440737095516${last}`));
      if (!decoded.ok) throw new Error(decoded.detail);
      monitor.beat(decoded.value, '192.0.2.7', false);
    }
    const host = table.record(table.find('web1'));
    expect(host.received).toBe(3);
    expect(host.lost).toBe(2);
  });

  it('keeps the ts of signed heartbeats only, for replay protection', () => {
    const { monitor, table, sink } = setup();
    monitor.beat(hb('web1', { ts: 1_764_080_000.123 }), '192.0.2.7', true);
    monitor.beat(hb('web1', { ts: 1_764_080_001 }), '192.0.2.7', false);
    expect(table.record(table.find('web1')).lastTs).toBe(1_764_080_000.123);
    expect(sink.changed.map((c) => c.urgent)).toEqual([true, false]);
  });

  it('tells a routine beat (timing only) from one that changes what the host reports', () => {
    const { monitor, sink } = setup();
    monitor.beat(hb('web1', { msg: 'ok', fields: { rack: 'r1' } }), '192.0.2.7', false);
    monitor.beat(hb('web1', { msg: 'ok', fields: { rack: 'r1' } }), '192.0.2.7', false);
    monitor.beat(hb('web1', { msg: 'ok', fields: { rack: 'r2' } }), '192.0.2.7', false);
    monitor.beat(hb('web1', { msg: 'ok', fields: { rack: 'r2' } }), '192.0.2.8', false);
    monitor.beat(hb('web1', { msg: 'ok', fields: { rack: 'r2' }, status: 'warn' }), '192.0.2.8', false);
    expect(sink.changed.map((c) => c.content)).toEqual([true, false, true, true, true]);
  });

  it('forget removes the host and records who asked', () => {
    const { monitor, table, sink } = setup();
    monitor.beat(hb('web1'), '192.0.2.7', false);
    expect(monitor.forget('web1', 'forgotten through the API')).toBe(true);
    expect(table.find('web1')).toBe(-1);
    expect(sink.forgotten).toEqual(['web1']);
    expect(sink.events.at(-1)).toMatchObject({ kind: 'forget', from: 'up', to: null });
    expect(monitor.forget('web1', 'again')).toBe(false);
  });

  it('grows past its initial capacity and reuses forgotten slots', () => {
    const { monitor, table } = setup();
    for (let i = 0; i < 100; i++) monitor.beat(hb(`h${i}`), '192.0.2.7', false);
    monitor.forget('h3', 'test');
    monitor.beat(hb('new'), '192.0.2.7', false);
    expect(table.size).toBe(100);
    expect(table.slotLimit).toBe(100);
    expect(table.record(table.find('h99')).name).toBe('h99');
  });
});

describe('Monitor: restart', () => {
  it('restored hosts get a fresh interval + grace, then a silent one is declared down', () => {
    const first = setup();
    first.monitor.beat(hb('web1'), '192.0.2.7', false);
    first.monitor.beat(hb('web2'), '192.0.2.8', false);
    first.wait(80); // both late when hbd stops
    const stored = ['web1', 'web2'].map((name) => first.table.record(first.table.find(name)));

    const second = setup();
    second.monitor.restore(stored);
    second.monitor.listening();
    second.wait(85);
    expect(second.sink.events).toEqual([]);
    second.monitor.beat(hb('web1'), '192.0.2.7', false);
    second.wait(10);
    expect(second.stateOf('web1')).toBe('up');
    expect(second.stateOf('web2')).toBe('down');
    expect(second.sink.transitions()).toEqual(['web1 late→up', 'web2 late→down']);
  });

  it('timing replayed from the beat log reschedules: a host that shortened its every just before a crash is held to the new one', () => {
    const first = setup();
    first.monitor.beat(hb('web1', { every: 3600 }), '192.0.2.7', false);
    const stored = first.table.record(first.table.find('web1'));
    first.wait(1);
    // The store last took in every=3600; the beat log holds the heartbeat that said every=10.
    first.monitor.beat(hb('web1', { every: 10 }), '192.0.2.7', false);
    const logged = first.table.timing(first.table.find('web1'));

    const second = setup();
    second.monitor.restore([stored]);
    second.monitor.restoreTimings([logged]);
    second.monitor.listening();
    second.wait(10 + 30 + 1);
    expect(second.stateOf('web1')).toBe('down');
  });

  it("a slow start does not eat into the restored hosts' fresh interval: it runs from when hbd listens", () => {
    const first = setup();
    first.monitor.beat(hb('web1'), '192.0.2.7', false);
    first.monitor.beat(hb('web2'), '192.0.2.8', false);
    const stored = ['web1', 'web2'].map((name) => first.table.record(first.table.find(name)));

    const second = setup();
    second.monitor.restore(stored);
    second.clock.advance(50_000); // loading a large store, replaying a long beat log
    second.monitor.beat(hb('web2'), '192.0.2.8', false); // (heard before the rest: its own time)
    second.monitor.listening();
    second.wait(60 + 30 - 1);
    expect(second.stateOf('web1')).toBe('late');
    second.wait(2);
    expect(second.stateOf('web1')).toBe('down');
    expect(second.stateOf('web2')).toBe('down');
  });

  it('a host that was down stays down, with no new event', () => {
    const first = setup();
    first.monitor.beat(hb('web1'), '192.0.2.7', false);
    first.wait(100);
    const second = setup();
    second.monitor.restore([first.table.record(first.table.find('web1'))]);
    second.monitor.listening();
    second.wait(200);
    expect(second.stateOf('web1')).toBe('down');
    expect(second.sink.events).toEqual([]);
  });
});
