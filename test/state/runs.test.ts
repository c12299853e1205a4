import { describe, expect, it } from 'vitest';
import type { HeartbeatNotice } from '../../src/model/events.js';
import type { TimingPolicy } from '../../src/state/monitor.js';
import { hb, monitorHarness } from '../helpers/monitor-harness.js';

/** A daily job with an hour of grace, as a push host is usually set up. */
const daily: TimingPolicy = { interval: 86_400, grace: 3600, overrideFor: () => ({}) };

const setup = (timing: TimingPolicy = daily) => monitorHarness({ timing });

describe('Monitor: runs (a job that said it started must finish within its grace)', () => {
  it('a run that does not finish within its grace makes the host down, and says when it started', () => {
    const { monitor, sink, wait, stateOf, clock } = setup();
    monitor.beat(hb('backup'), '192.0.2.7', false);
    wait(600);
    const startedAt = clock.wall();
    monitor.startRun('backup');
    wait(3599);
    expect(stateOf('backup')).toBe('up');
    wait(2);
    expect(stateOf('backup')).toBe('down');
    expect(sink.transitions()).toEqual(['backup ∅→up', 'backup up→down']);
    expect(sink.events.at(-1)?.reason).toBe(
      `run started at ${new Date(startedAt).toISOString()} and did not finish within its grace of 3600 s`,
    );
    expect(monitor.currentRun('backup')).toBeUndefined();
  });

  it('a run that finishes in time raises nothing, and the interval counts from the finish', () => {
    const { monitor, sink, wait, stateOf } = setup();
    monitor.beat(hb('backup'), '192.0.2.7', false);
    monitor.startRun('backup');
    wait(3000);
    monitor.endRun('backup');
    monitor.beat(hb('backup'), '192.0.2.7', false);
    wait(86_400);
    expect(stateOf('backup')).toBe('up');
    wait(3600 + 2);
    expect(stateOf('backup')).toBe('down');
    expect(sink.events.at(-1)?.reason).toMatch(
      /^no heartbeat for 1d 1h \(interval 86400 s \+ grace 3600 s\)$/,
    );
  });

  it('a later start replaces the run: the grace counts from the last start', () => {
    const { monitor, wait, stateOf } = setup();
    monitor.beat(hb('backup'), '192.0.2.7', false);
    monitor.startRun('backup', 'a');
    wait(3000);
    monitor.startRun('backup', 'b');
    expect(monitor.currentRun('backup')?.id).toBe('b');
    wait(3000);
    expect(stateOf('backup')).toBe('up');
    wait(601);
    expect(stateOf('backup')).toBe('down');
  });

  it('the interval still applies while a run is open: whichever deadline comes first wins', () => {
    const { monitor, sink, wait, stateOf } = setup({
      interval: 60,
      grace: 3600,
      overrideFor: () => ({}),
    });
    monitor.beat(hb('job'), '192.0.2.7', false);
    monitor.startRun('job');
    wait(66);
    expect(stateOf('job')).toBe('late');
    wait(3600);
    expect(stateOf('job')).toBe('down');
    // The run's deadline (3600 s after its start) came before interval + grace (3660 s).
    expect(sink.events.at(-1)?.reason).toMatch(/^run started at .* and did not finish/);
  });

  it("uses the host's own grace (its config override)", () => {
    const { monitor, wait, stateOf } = setup({
      ...daily,
      overrideFor: (name) => (name === 'quick' ? { grace: 30 } : {}),
    });
    monitor.beat(hb('quick'), '192.0.2.7', false);
    monitor.startRun('quick');
    wait(29);
    expect(stateOf('quick')).toBe('up');
    wait(2);
    expect(stateOf('quick')).toBe('down');
  });

  it('a host that is already down is left as it is: a start raises nothing more', () => {
    const { monitor, sink, wait, stateOf } = setup({
      interval: 10,
      grace: 10,
      overrideFor: () => ({}),
    });
    monitor.beat(hb('job'), '192.0.2.7', false);
    wait(30);
    expect(stateOf('job')).toBe('down');
    monitor.startRun('job');
    expect(monitor.currentRun('job')).toBeUndefined();
    wait(100);
    expect(sink.transitions()).toEqual(['job ∅→up', 'job up→late', 'job late→down']);
  });

  it('a config reload keeps an open run and its deadline', () => {
    const { monitor, wait, stateOf } = setup();
    monitor.beat(hb('backup'), '192.0.2.7', false);
    monitor.startRun('backup');
    wait(1000);
    monitor.setTiming({ ...daily, interval: 7 * 86_400 });
    wait(2601);
    expect(stateOf('backup')).toBe('down');
  });

  it('forgetting a host drops its run', () => {
    const { monitor, wait, table } = setup();
    monitor.beat(hb('backup'), '192.0.2.7', false);
    monitor.startRun('backup');
    monitor.forget('backup', 'test');
    monitor.beat(hb('other'), '192.0.2.8', false);
    // The freed slot is taken by the next new host: the old run must not follow it.
    expect(table.find('other')).toBe(0);
    expect(monitor.currentRun('other')).toBeUndefined();
    wait(4000);
    expect(table.getState(0)).toBe('up');
  });
});

describe('Monitor: note (a message that is not a heartbeat)', () => {
  it('replaces the message and leaves state, status and timing alone', () => {
    const { monitor, sink, table, wait, slotOf, clock } = setup();
    monitor.beat(hb('backup', { status: 'warn', msg: 'slow', fields: { disk: '91%' } }), '192.0.2.7', false);
    const seen = clock.wall();
    wait(100);
    sink.changed.length = 0;
    monitor.note('backup', 'copied 3 of 7 volumes');
    const record = table.record(slotOf('backup'));
    expect(record).toMatchObject({
      state: 'up',
      status: 'warn',
      msg: 'copied 3 of 7 volumes',
      lastSeen: seen,
    });
    expect(record.fields).toEqual({ disk: '91%' });
    expect(sink.changed).toEqual([{ slot: slotOf('backup'), urgent: false, content: true }]);
    expect(sink.transitions()).toEqual(['backup ∅→up']);
  });

  it('stores nothing when the message is the same', () => {
    const { monitor, sink } = setup();
    monitor.beat(hb('backup', { msg: 'same' }), '192.0.2.7', false);
    sink.changed.length = 0;
    monitor.note('backup', 'same');
    expect(sink.changed).toEqual([]);
  });
});

describe('Monitor: heartbeats that came over HTTP', () => {
  it('say so to listeners, and datagrams do not', () => {
    const { monitor, bus } = setup();
    const notices: HeartbeatNotice[] = [];
    bus.on('heartbeat', (notice) => notices.push(notice));
    monitor.beat(hb('backup'), '192.0.2.7', false, 'http');
    monitor.beat(hb('web1'), '192.0.2.8', false);
    expect(notices.map((notice) => [notice.host, notice.via])).toEqual([
      ['backup', 'http'],
      ['web1', undefined],
    ]);
  });
});
