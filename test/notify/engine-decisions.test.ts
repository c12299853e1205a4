/**
 * The engine's decisions on a manual clock: transitions go in as the daemon makes them
 * (stored with their triggers, then published), and what comes out is what a channel is
 * asked to send. For what only shows over seconds of a real run (reminders, flapping that
 * settles) this is where the order of events can be set exactly.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type HostEvent, type HostState, STATUS_FLAPPING } from '../../src/model/events.js';
import type { HostRecord } from '../../src/model/host.js';
import type { Notification } from '../../src/model/notification.js';
import { NotifyEngine, type NotifySettings } from '../../src/notify/engine.js';
import type { Notifier } from '../../src/notify/types.js';
import createSqliteStore from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { hostRecord } from '../helpers/host-record.js';

const GROUP_WAIT_MS = 10_000;
const START = Date.UTC(2026, 10, 25, 12, 0, 0);

function settings(overrides: Partial<NotifySettings> = {}): NotifySettings {
  return {
    groupWaitMs: GROUP_WAIT_MS,
    groupBy: null,
    repeatMs: 0,
    restartGraceMs: 0,
    deadlineMs: 86_400_000,
    delivery: { concurrency: 1, ratePerMinute: 0, retryMinMs: 1000, retryMaxMs: 5000, alertAfterMs: 300_000 },
    isolation: null,
    isolationSettleMs: 60_000,
    flapping: null,
    announceNewProblems: true,
    ...overrides,
  };
}

/** Hosts whose heartbeats are signed, and hosts not established (beat too few times to count). */
const signedHosts = new Set<string>();
const unestablished = new Set<string>();

function record(name: string, state: HostState, status: HostRecord['status'] = 'ok'): HostRecord {
  return hostRecord(name, {
    state,
    status,
    firstSeen: START,
    lastSeen: Date.now(),
    signed: signedHosts.has(name),
  });
}

let store: Store;
let engine: NotifyEngine;
let sent: Notification[];
const hosts = new Map<string, HostRecord>();

function start(overrides: Partial<NotifySettings> = {}): void {
  const channel: Notifier = {
    channel: 'webhook',
    send: async (notification) => {
      sent.push(notification);
      return { detail: 'ok' };
    },
  };
  engine = new NotifyEngine({
    settings: settings(overrides),
    channels: [channel],
    outbox: store.outbox,
    silences: { matching: () => undefined },
    host: (name) => hosts.get(name),
    knownHosts: () => {
      const established = [...hosts.keys()].filter((name) => !unestablished.has(name));
      return { all: established.length, signed: established.filter((name) => signedHosts.has(name)).length };
    },
    isEstablished: (name) => !unestablished.has(name),
    now: () => Date.now(),
    log: pino({ level: 'silent' }),
  });
  engine.start();
}

/** What the daemon does on a transition: store it with its triggers, then publish it. */
function transition(host: string, to: HostState): void {
  const from = hosts.get(host)?.state ?? null;
  hosts.set(host, record(host, to, hosts.get(host)?.status));
  publish({ at: Date.now(), host, kind: 'state', from, to, reason: 'test' });
}

/** A status event as the monitor stores it; `status` is what the host reports now. */
function statusEvent(host: string, from: string | null, to: string, status: HostRecord['status']): void {
  hosts.set(host, record(host, hosts.get(host)?.state ?? 'up', status));
  publish({ at: Date.now(), host, kind: 'status', from, to, reason: `${from}→${to}` });
}

function publish(event: Omit<HostEvent, 'id'>): void {
  const stored = store.commit({ deletes: [], upserts: [], timings: [], events: [event] }, (events) =>
    engine.inCommit(events),
  );
  for (const published of stored) engine.eventCommitted(published);
}

/** Lets the clock run, and the channel send what became due. */
async function wait(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

const titles = () => sent.map((notification) => notification.title);

beforeEach(() => {
  vi.useFakeTimers({ now: START });
  store = createSqliteStore({ path: ':memory:' });
  sent = [];
  hosts.clear();
  signedHosts.clear();
  unestablished.clear();
});

afterEach(() => {
  engine?.stop();
  store.close();
  vi.useRealTimers();
});

describe('what the engine announces', () => {
  it('a down, then its recovery, each once', async () => {
    start();
    transition('nas1', 'up');
    transition('nas1', 'down');
    await wait(GROUP_WAIT_MS + 100);
    transition('nas1', 'up');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['nas1 is down', 'nas1 is back up']);
  });

  it('a recovery that shares its group with a reminder drops the reminder, and the next outage is announced', async () => {
    start({ repeatMs: 60_000 });
    transition('nas1', 'up');
    transition('nas1', 'down');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['nas1 is down']);
    // The reminder joins a group at the first tick past 60 s; the recovery comes before that group is sent.
    await wait(60_000 + 1000);
    transition('nas1', 'up');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['nas1 is down', 'nas1 is back up']);

    transition('nas1', 'down');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['nas1 is down', 'nas1 is back up', 'nas1 is down']);
  });

  it('a host that settles while up and then goes down within group_wait has that down announced, and its recovery', async () => {
    start({ flapping: { windowMs: 60_000, threshold: 4, settle: 1 } });
    transition('wobbly', 'up');
    for (const state of ['down', 'up', 'down', 'up'] as const) {
      transition('wobbly', state);
      await wait(1000);
    }
    await wait(GROUP_WAIT_MS);
    expect(titles()).toEqual(['wobbly is flapping']);
    // 60 s after its third change only the last is in the window: it settles (up) at the
    // next tick, at 63 s, and goes down while that message waits out its group_wait.
    await wait(64_000 - 14_000);
    transition('wobbly', 'down');
    await wait(GROUP_WAIT_MS + 100);
    expect(sent).toHaveLength(2);
    expect(sent[1]?.title).toBe('1 host down, 1 host settled');
    expect(sent[1]?.details).toMatch(/wobbly has settled: up/);

    transition('wobbly', 'up');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles().at(-1)).toBe('wobbly is back up');
  });

  it('a host whose status flaps is announced once as flapping, then once where it settled', async () => {
    start();
    transition('nas1', 'up');
    const changes: [string, string][] = [
      ['ok', 'warn'],
      ['warn', 'ok'],
      ['ok', 'warn'],
      ['warn', 'ok'],
      ['ok', 'warn'],
      ['warn', 'ok'],
    ];
    for (const [from, to] of changes) statusEvent('nas1', from, to, to as HostRecord['status']);
    statusEvent('nas1', 'ok', STATUS_FLAPPING, 'warn');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['nas1 is flapping']);
    expect(sent[0]?.body).toContain('further changes are not reported until it settles');

    statusEvent('nas1', STATUS_FLAPPING, 'warn', 'warn');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['nas1 is flapping', 'nas1 reports warn']);
    statusEvent('nas1', 'warn', 'ok', 'ok');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['nas1 is flapping', 'nas1 reports warn', 'nas1 is ok again']);
  });

  it('a flapping host that settles on ok is told to be ok again', async () => {
    start();
    transition('nas1', 'up');
    statusEvent('nas1', 'ok', STATUS_FLAPPING, 'fail');
    await wait(GROUP_WAIT_MS + 100);
    statusEvent('nas1', STATUS_FLAPPING, 'ok', 'ok');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['nas1 is flapping', 'nas1 is ok again']);
  });

  it("a first heartbeat's problem is announced, unless announce_new_problems is off", async () => {
    start();
    transition('new1', 'up');
    statusEvent('new1', null, 'fail', 'fail');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['new1 reports fail']);
    engine.stop();

    sent = [];
    start({ announceNewProblems: false });
    transition('new2', 'up');
    statusEvent('new2', null, 'warn', 'warn');
    transition('new3', 'up');
    transition('new3', 'down');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['new3 is down']);
  });

  it('hosts that are not established neither trip the isolation guard nor count in its base', async () => {
    start({ isolation: { share: 0.5, minHosts: 10, windowMs: 60_000 } });
    const fakes = Array.from({ length: 20 }, (_, i) => `fake${i}`);
    for (const fake of fakes) unestablished.add(fake);
    for (const host of [...fakes, 'real1']) transition(host, 'up');
    for (const fake of fakes) transition(fake, 'down');
    transition('real1', 'down');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['21 hosts down']);
  });

  it("established unsigned hosts going silent together never hold a signed host's down", async () => {
    start({ isolation: { share: 0.5, minHosts: 10, windowMs: 60_000 } });
    signedHosts.add('signed1');
    const unsigned = Array.from({ length: 12 }, (_, i) => `node${i}`);
    for (const host of [...unsigned, 'signed1']) transition(host, 'up');
    for (const host of unsigned) transition(host, 'down');
    transition('signed1', 'down');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['hbd may be isolated', 'signed1 is down']);
  });

  it('signed hosts going silent together hold every down, signed or not', async () => {
    start({ isolation: { share: 0.5, minHosts: 10, windowMs: 60_000 } });
    const signed = Array.from({ length: 10 }, (_, i) => `s${i}`);
    for (const host of signed) signedHosts.add(host);
    for (const host of [...signed, 'plain1']) transition(host, 'up');
    for (const host of [...signed, 'plain1']) transition(host, 'down');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['hbd may be isolated']);
    expect(sent[0]?.body).toMatch(/^10 of 11 established hosts went silent/);
  });

  it('after a reload, isolation is judged by the new window and ends after the new settle time', async () => {
    const isolation = { share: 0.5, minHosts: 10, windowMs: 1000 };
    // A group waits longer than the silences take, so none is decided before the guard trips.
    start({ isolation, isolationSettleMs: 60_000, groupWaitMs: 30_000 });
    const fleet = Array.from({ length: 12 }, (_, i) => `node${i}`);
    for (const host of fleet) transition(host, 'up');
    // What a reload to `grace: 60, interval: 5` derives.
    engine.reload(settings({ isolation: { ...isolation, windowMs: 60_000 }, isolationSettleMs: 5000 }));
    // Two seconds apart: together only within the new window.
    for (const host of fleet) {
      transition(host, 'down');
      await wait(2000);
    }
    await wait(30_000);
    expect(titles()).toEqual(['hbd may be isolated']);
    expect(sent[0]?.body).toMatch(/ within 60 s /);

    for (const host of fleet.slice(2)) transition(host, 'up');
    await wait(5000 + 100);
    expect(titles()).toEqual(['hbd may be isolated', 'hbd hears its hosts again']);
  });
});
