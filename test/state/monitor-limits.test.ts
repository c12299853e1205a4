/**
 * What the monitor does against hosts an outsider can make: which hosts are established (and so
 * count for the isolation guard), and a host whose status flaps stored as one episode.
 */
import { describe, expect, it } from 'vitest';
import { STATUS_FLAPPING } from '../../src/model/events.js';
import { hb, monitorHarness } from '../helpers/monitor-harness.js';

const setup = () => monitorHarness({ stepMs: 1000 });

describe('Monitor: established hosts', () => {
  it('a host that beats once is never established, however long it stays', () => {
    const { monitor, slotOf, wait } = setup();
    monitor.beat(hb('once'), '192.0.2.7', false);
    wait(3600);
    expect(monitor.isEstablished(slotOf('once'))).toBe(false);
  });

  it('three beats within less than one interval are not enough; three over one interval are', () => {
    const { monitor, slotOf, wait } = setup();
    for (let i = 0; i < 10; i++) monitor.beat(hb('burst'), '192.0.2.7', false);
    expect(monitor.isEstablished(slotOf('burst'))).toBe(false);
    monitor.beat(hb('steady'), '192.0.2.8', false);
    wait(30);
    monitor.beat(hb('steady'), '192.0.2.8', false);
    expect(monitor.isEstablished(slotOf('steady'))).toBe(false);
    wait(30);
    monitor.beat(hb('steady'), '192.0.2.8', false);
    expect(monitor.isEstablished(slotOf('steady'))).toBe(true);
    wait(30);
    monitor.beat(hb('burst'), '192.0.2.7', false);
    expect(monitor.isEstablished(slotOf('burst'))).toBe(true);
  });

  it("a short `every` chosen by the sender does not shorten the span below the config's interval", () => {
    const { monitor, slotOf, wait } = setup();
    for (let i = 0; i < 10; i++) {
      monitor.beat(hb('quick', { every: 1 }), '192.0.2.7', false);
      wait(1);
    }
    expect(monitor.isEstablished(slotOf('quick'))).toBe(false);
    wait(50);
    monitor.beat(hb('quick', { every: 1 }), '192.0.2.7', false);
    expect(monitor.isEstablished(slotOf('quick'))).toBe(true);
  });

  it('a restored host is established when its first and last heartbeats are an interval apart', () => {
    const first = setup();
    first.monitor.beat(hb('old'), '192.0.2.7', false);
    first.monitor.beat(hb('fresh'), '192.0.2.8', false);
    first.wait(61);
    first.monitor.beat(hb('old'), '192.0.2.7', false);
    const stored = ['old', 'fresh'].map((name) => first.table.record(first.slotOf(name)));

    const second = setup();
    second.monitor.restore(stored);
    expect(second.monitor.isEstablished(second.slotOf('old'))).toBe(true);
    expect(second.monitor.isEstablished(second.slotOf('fresh'))).toBe(false);
  });

  it('a forgotten host that comes back starts over', () => {
    const { monitor, slotOf, wait } = setup();
    for (let i = 0; i < 3; i++) {
      monitor.beat(hb('web1'), '192.0.2.7', false);
      wait(40);
    }
    expect(monitor.isEstablished(slotOf('web1'))).toBe(true);
    monitor.forget('web1', 'test');
    monitor.beat(hb('web1'), '192.0.2.7', false);
    expect(monitor.isEstablished(slotOf('web1'))).toBe(false);
  });
});

describe('Monitor: status flapping', () => {
  const statusEvents = (sink: ReturnType<typeof setup>['sink']) =>
    sink.events.filter((e) => e.kind === 'status').map((e) => `${e.from}→${e.to}`);

  it('stores the first six changes, then one flapping episode, and keeps the exact status in the table', () => {
    const { monitor, sink, table, slotOf } = setup();
    monitor.beat(hb('flap'), '192.0.2.7', false);
    for (let i = 0; i < 500; i++) {
      monitor.beat(hb('flap', { status: i % 2 === 0 ? 'warn' : 'ok' }), '192.0.2.7', false);
      expect(table.getStatus(slotOf('flap'))).toBe(i % 2 === 0 ? 'warn' : 'ok');
    }
    expect(statusEvents(sink)).toEqual([
      'ok→warn',
      'warn→ok',
      'ok→warn',
      'warn→ok',
      'ok→warn',
      'warn→ok',
      `ok→${STATUS_FLAPPING}`,
    ]);
    expect(sink.events.at(-1)?.reason).toBe('7 status changes within 10m');
    expect(monitor.isStatusFlapping(slotOf('flap'))).toBe(true);
  });

  it('settles once its status stays the same for the window, with one event naming that status', () => {
    const { monitor, sink, wait, slotOf } = setup();
    monitor.beat(hb('flap'), '192.0.2.7', false);
    for (let i = 0; i < 20; i++)
      monitor.beat(hb('flap', { status: i % 2 === 0 ? 'fail' : 'ok' }), '192.0.2.7', false);
    monitor.beat(hb('flap', { status: 'fail' }), '192.0.2.7', false);
    const statuses = () => sink.events.filter((e) => e.kind === 'status');
    const stored = statuses().length;
    wait(599);
    expect(statuses()).toHaveLength(stored);
    wait(2);
    expect(statuses()).toHaveLength(stored + 1);
    expect(statuses().at(-1)).toMatchObject({
      kind: 'status',
      from: STATUS_FLAPPING,
      to: 'fail',
      reason: 'settled: no status change for 10m, after 21 changes',
    });
    expect(monitor.isStatusFlapping(slotOf('flap'))).toBe(false);
    // From here on changes are stored one by one again.
    monitor.beat(hb('flap', { status: 'ok' }), '192.0.2.7', false);
    expect(statusEvents(sink).at(-1)).toBe('fail→ok');
  });

  it('changes spread wider than the window are each stored', () => {
    const { monitor, sink, wait } = setup();
    monitor.beat(hb('slow'), '192.0.2.7', false);
    for (let i = 0; i < 30; i++) {
      monitor.beat(hb('slow', { status: i % 2 === 0 ? 'warn' : 'ok' }), '192.0.2.7', false);
      wait(101); // six changes take 505 s, the seventh falls outside 600 s of the first
    }
    expect(statusEvents(sink)).toHaveLength(30);
    expect(statusEvents(sink)).not.toContain(`ok→${STATUS_FLAPPING}`);
  });

  it('one flapping host leaves the others alone', () => {
    const { monitor, sink } = setup();
    for (let i = 0; i < 100; i++)
      monitor.beat(hb('flap', { status: i % 2 === 0 ? 'warn' : 'ok' }), '192.0.2.7', false);
    monitor.beat(hb('calm', { status: 'ok' }), '192.0.2.8', false);
    monitor.beat(hb('calm', { status: 'fail' }), '192.0.2.8', false);
    expect(sink.events.filter((e) => e.host === 'calm' && e.kind === 'status').map((e) => e.to)).toEqual([
      'fail',
    ]);
  });

  it('a policy set on reload applies to the next changes', () => {
    const { monitor, sink } = setup();
    monitor.setStatusFlapPolicy({ threshold: 2, windowMs: 60_000 });
    monitor.beat(hb('flap'), '192.0.2.7', false);
    for (let i = 0; i < 10; i++)
      monitor.beat(hb('flap', { status: i % 2 === 0 ? 'warn' : 'ok' }), '192.0.2.7', false);
    expect(statusEvents(sink)).toEqual(['ok→warn', 'warn→ok', `ok→${STATUS_FLAPPING}`]);
  });
});
