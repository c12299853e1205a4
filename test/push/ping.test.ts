import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { pushOptionsOf } from '../../src/daemon/push-settings.js';
import { FAIL, type Ping, PushPings, SUCCESS, WARN } from '../../src/push/ping.js';
import { signalOf } from '../../src/push/protocols/healthchecks.js';
import { withPushTiming } from '../../src/push/tokens.js';
import { HostView } from '../../src/state/host-view.js';
import { DEFAULT_TIMING, monitorHarness } from '../helpers/monitor-harness.js';

const UUID = '5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278';
const RUN_A = '123e4567-e89b-12d3-a456-426614174000';
const RUN_B = '123e4567-e89b-12d3-a456-426614174001';

type PushPingsConfig = Pick<Config, 'push' | 'push_ping_key' | 'auth' | 'keys'>;

function setup(overrides: Partial<PushPingsConfig> = {}) {
  const config: PushPingsConfig = {
    push: { backup: { token: UUID, interval: 86_400, grace: 3600 } },
    push_ping_key: 'fqOOd6-F4MMNuCEnzTU01w',
    auth: 'optional',
    keys: {},
    ...overrides,
  };
  const { monitor, table, sink, wait } = monitorHarness({
    timing: { ...DEFAULT_TIMING, overrideFor: withPushTiming(config.push, () => ({})) },
  });
  const pings = new PushPings({
    hosts: new HostView(table, monitor),
    monitor,
    options: pushOptionsOf(config),
  });
  const ping = (signal: Ping['signal'], extra: Partial<Ping> = {}) =>
    pings.apply({
      protocol: 'healthchecks',
      host: 'backup',
      signal,
      msg: undefined,
      addr: '192.0.2.9',
      runId: undefined,
      ...extra,
    });
  const record = (host = 'backup') => table.record(table.find(host));
  return { pings, ping, monitor, table, sink, wait, record };
}

describe('signalOf: the URL suffix', () => {
  it('reads success, start, fail, log and exit codes as Healthchecks.io does', () => {
    expect(signalOf(undefined)).toEqual({ kind: 'success' });
    expect(signalOf('start')).toEqual({ kind: 'start' });
    expect(signalOf('fail')).toEqual({ kind: 'fail' });
    expect(signalOf('log')).toEqual({ kind: 'log' });
    expect(signalOf('0')).toEqual({ kind: 'success' });
    expect(signalOf('1')).toEqual({ kind: 'fail', exitCode: 1 });
    expect(signalOf('255')).toEqual({ kind: 'fail', exitCode: 255 });
  });

  it('refuses exit codes past 255, and means nothing by any other suffix', () => {
    expect(signalOf('256')).toBe('bad-exit-code');
    expect(signalOf('99999999999999999999')).toBe('bad-exit-code');
    expect(signalOf('abc')).toBeUndefined();
    expect(signalOf('-1')).toBeUndefined();
    expect(signalOf('START')).toBeUndefined();
  });
});

describe('PushPings: a ping is a heartbeat that came over HTTP', () => {
  it('a success makes the host up, from the client address, with the push entry interval and grace', () => {
    const { ping, record, monitor, table, sink } = setup();
    expect(ping(SUCCESS, { msg: '3 volumes copied' })).toEqual({ created: true });
    expect(record()).toMatchObject({ state: 'up', status: 'ok', msg: '3 volumes copied', addr: '192.0.2.9' });
    expect(record().signed).toBe(false);
    expect(monitor.intervalOf(table.find('backup'))).toBe(86_400);
    expect(monitor.graceOf(table.find('backup'))).toBe(3600);
    expect(sink.events.at(-1)?.reason).toBe('first heartbeat, from 192.0.2.9');
    expect(ping(SUCCESS)).toEqual({ created: false });
    // Each ping carries its message: one without a body has none.
    expect(record().msg).toBeNull();
  });

  it('a failure (or a non-zero exit code) reports fail, and the message names the exit code', () => {
    const { ping, record, sink } = setup();
    ping(SUCCESS);
    ping({ kind: 'fail', exitCode: 3 }, { msg: 'rsync: connection refused' });
    expect(record()).toMatchObject({
      state: 'up',
      status: 'fail',
      msg: 'exit code 3: rsync: connection refused',
    });
    expect(sink.events.at(-1)).toMatchObject({
      kind: 'status',
      from: 'ok',
      to: 'fail',
      reason: 'reported: exit code 3: rsync: connection refused',
    });
    ping({ kind: 'fail', exitCode: 1 });
    expect(record().msg).toBe('exit code 1');
    ping(FAIL, { msg: 'disk full' });
    expect(record().msg).toBe('disk full');
    ping(SUCCESS);
    expect(record().status).toBe('ok');
  });

  it('a warning reports warn: up and on time, with an event for the status and the message', () => {
    const { ping, record, sink, monitor } = setup();
    ping(SUCCESS);
    ping(WARN, { msg: 'disk 91% full' });
    expect(record()).toMatchObject({ state: 'up', status: 'warn', msg: 'disk 91% full' });
    expect(sink.events.at(-1)).toMatchObject({ kind: 'status', from: 'ok', to: 'warn' });
    // A warning is a finish: it ends the open run, as a success without a run id does.
    ping({ kind: 'start' });
    ping(WARN);
    expect(monitor.currentRun('backup')).toBeUndefined();
    ping(SUCCESS);
    expect(record().status).toBe('ok');
  });

  it('a warning for a host not heard of yet creates it with status warn', () => {
    const { ping, record } = setup();
    expect(ping(WARN)).toEqual({ created: true });
    expect(record()).toMatchObject({ state: 'up', status: 'warn', msg: null });
  });

  it('a silent push host goes late and down on its own interval and grace', () => {
    const { ping, record, wait } = setup();
    ping(SUCCESS);
    wait(86_400 + 6);
    expect(record().state).toBe('late');
    wait(3600);
    expect(record().state).toBe('down');
  });

  it('a log records the message and nothing else; for a host not heard of yet, nothing', () => {
    const { ping, record, wait, table, pings } = setup();
    expect(ping({ kind: 'log' }, { msg: 'before any run' })).toEqual({ created: false });
    expect(table.find('backup')).toBe(-1);
    ping(SUCCESS, { msg: 'done' });
    const before = record();
    wait(100);
    ping({ kind: 'log' }, { msg: 'step 2 of 5' });
    expect(record()).toMatchObject({ ...before, msg: 'step 2 of 5' });
    expect(pings.stats.applied).toBe(3);
  });
});

describe('PushPings: runs', () => {
  it('a start on a new host registers it; a run that never finishes is down after the grace', () => {
    const { ping, record, wait, sink } = setup();
    ping({ kind: 'start' });
    expect(record().state).toBe('up');
    wait(3601);
    expect(record().state).toBe('down');
    expect(sink.events.at(-1)?.reason).toMatch(
      /^run started at .* and did not finish within its grace of 3600 s$/,
    );
  });

  it('a start does not count as a success: the interval still runs from the last finish', () => {
    const { ping, record, wait } = setup({ push: { backup: { token: UUID, interval: 100, grace: 50 } } });
    ping(SUCCESS);
    wait(90);
    ping({ kind: 'start' });
    wait(16);
    expect(record().state).toBe('late');
    ping(SUCCESS);
    expect(record().state).toBe('up');
  });

  it('a finish ends the run: success, failure or exit code', () => {
    for (const finish of [SUCCESS, FAIL, { kind: 'fail' as const, exitCode: 2 }]) {
      const { ping, wait, monitor } = setup();
      ping({ kind: 'start' });
      wait(10);
      ping(finish);
      expect(monitor.currentRun('backup')).toBeUndefined();
    }
  });

  it('pairs starts and finishes by run id as Healthchecks.io does', () => {
    const { ping, monitor } = setup();
    ping({ kind: 'start' }, { runId: RUN_A });
    // A success of another run leaves this one running…
    ping(SUCCESS, { runId: RUN_B });
    expect(monitor.currentRun('backup')?.id).toBe(RUN_A);
    // …its own success ends it…
    ping(SUCCESS, { runId: RUN_A });
    expect(monitor.currentRun('backup')).toBeUndefined();
    // …as do a failure of any run, and a success that names none.
    ping({ kind: 'start' }, { runId: RUN_A });
    ping(FAIL, { runId: RUN_B });
    expect(monitor.currentRun('backup')).toBeUndefined();
    ping({ kind: 'start' }, { runId: RUN_A });
    ping(SUCCESS);
    expect(monitor.currentRun('backup')).toBeUndefined();
  });

  it('a log leaves an open run alone', () => {
    const { ping, monitor } = setup();
    ping({ kind: 'start' });
    ping({ kind: 'log' }, { msg: 'halfway' });
    expect(monitor.currentRun('backup')).toBeDefined();
  });
});

describe('PushPings: which hosts the ping key reaches', () => {
  it('push hosts, known hosts that need no signature, and new ones with create', () => {
    const { pings, ping } = setup();
    expect(pings.lookUpSlug('Backup', false)).toEqual({ found: true, host: 'backup' });
    expect(pings.lookUpSlug('web1', false)).toEqual({ found: false });
    expect(pings.lookUpSlug('web1', true)).toEqual({ found: true, host: 'web1' });
    ping(SUCCESS, { host: 'web1' });
    expect(pings.lookUpSlug('web1', false)).toEqual({ found: true, host: 'web1' });
    expect(pings.isPushHost('web1')).toBe(true);
    expect(pings.stats.created).toBe(1);
  });

  it('never a name that is not a host name', () => {
    const { pings } = setup();
    expect(pings.lookUpSlug('db_backup', true)).toEqual({ found: false });
    expect(pings.lookUpSlug('-x', true)).toEqual({ found: false });
  });

  it('never a host whose heartbeats must be signed: a ping cannot be', () => {
    expect(setup({ keys: { web1: 'secret-of-web1-secret' } }).pings.lookUpSlug('web1', true)).toEqual({
      found: false,
    });
    expect(setup({ keys: { '*': 'secret-for-everyone-1' } }).pings.lookUpSlug('web1', true)).toEqual({
      found: false,
    });
    expect(setup({ auth: 'required' }).pings.lookUpSlug('web1', true)).toEqual({ found: false });
    // A push host's token is its credential, whatever the key policy.
    expect(setup({ auth: 'required' }).pings.lookUpSlug('backup', false)).toEqual({
      found: true,
      host: 'backup',
    });
  });

  it('a reload brings new tokens and drops old ones', () => {
    const { pings } = setup();
    const other = '0f6e7c4e-53a1-4c2e-9d11-7b1a6e0c9f20';
    pings.reload(
      pushOptionsOf({ push: { nightly: { token: other } }, push_ping_key: null, auth: 'optional', keys: {} }),
    );
    expect(pings.hostOfToken(UUID)).toBeUndefined();
    expect(pings.hostOfToken(other)).toBe('nightly');
    expect(pings.isPingKey('fqOOd6-F4MMNuCEnzTU01w')).toBe(false);
  });
});
