/**
 * The engine's decisions on a manual clock: transitions go in as the daemon makes them
 * (stored with their triggers, then published), and what comes out is what a channel is
 * asked to send. For what only shows over seconds of a real run (reminders, flapping that
 * settles) this is where the order of events can be set exactly.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NotifyEngine, type NotifySettings } from '../../src/notify/engine.js';
import type { Notification, Notifier } from '../../src/notify/types.js';
import type { HostEvent, HostState } from '../../src/state/events.js';
import type { HostRecord } from '../../src/state/host-table.js';
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
    ...overrides,
  };
}

function record(name: string, state: HostState): HostRecord {
  return hostRecord(name, { state, firstSeen: START, lastSeen: Date.now() });
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
    knownHosts: () => hosts.size,
    now: () => Date.now(),
    log: pino({ level: 'silent' }),
  });
  engine.start();
}

/** What the daemon does on a transition: store it with its triggers, then publish it. */
function transition(host: string, to: HostState): void {
  const from = hosts.get(host)?.state ?? null;
  hosts.set(host, record(host, to));
  const event: Omit<HostEvent, 'id'> = { at: Date.now(), host, kind: 'state', from, to, reason: 'test' };
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
});
