/**
 * The engine's decisions on a manual clock (vitest's fake timers): transitions go in as the
 * daemon makes them (stored with their triggers in one transaction, then published: the events,
 * then the triggers), and what comes out is what a channel is asked to send. For what only shows over seconds of a real run (reminders, flapping that
 * settles) this is where the order of events can be set exactly.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type HostEvent, type HostState, STATUS_FLAPPING } from '../../src/model/events.js';
import type { HostRecord } from '../../src/model/host.js';
import type { Notification } from '../../src/model/notification.js';
import { NotifyEngine, type NotifySettings } from '../../src/notify/engine.js';
import { notifyTriggers, type TriggerDeriver } from '../../src/notify/triggers.js';
import type { Notifier } from '../../src/notify/types.js';
import type { OutboxStore } from '../../src/store/outbox-store.js';
import type { Store } from '../../src/store/store.js';
import { hostRecord } from '../helpers/host-record.js';
import { openTestStore } from '../helpers/notify-store.js';

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
/** The fields a host reports (for `group_by`). */
const fieldsOf = new Map<string, Record<string, string>>();

function record(name: string, state: HostState, status: HostRecord['status'] = 'ok'): HostRecord {
  return hostRecord(name, {
    state,
    status,
    firstSeen: START,
    lastSeen: Date.now(),
    signed: signedHosts.has(name),
    fields: fieldsOf.get(name) ?? {},
  });
}

let store: Store;
let engine: NotifyEngine;
let deriveTriggers: TriggerDeriver;
let sent: Notification[];
const hosts = new Map<string, HostRecord>();

/** The outbox the engine writes to: the store's, unless a test puts a failing one in between. */
let outbox: () => OutboxStore;

async function start(overrides: Partial<NotifySettings> = {}): Promise<void> {
  const channel: Notifier = {
    channel: 'webhook',
    send: async (notification) => {
      sent.push(notification);
      return { detail: 'ok' };
    },
  };
  const chosen = settings(overrides);
  deriveTriggers = notifyTriggers({
    host: (name) => hosts.get(name),
    groupBy: chosen.groupBy,
    announceNewProblems: chosen.announceNewProblems,
  });
  engine = new NotifyEngine({
    settings: chosen,
    channels: [channel],
    outbox: outbox(),
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
  await engine.start();
}

/** What the daemon does on a transition: store it with its triggers, then publish it. */
async function transition(host: string, to: HostState): Promise<void> {
  const from = hosts.get(host)?.state ?? null;
  hosts.set(host, record(host, to, hosts.get(host)?.status));
  await publish({ at: Date.now(), host, kind: 'state', from, to, reason: 'test' });
}

/** A status event as the monitor stores it; `status` is what the host reports now. */
async function statusEvent(
  host: string,
  from: string | null,
  to: string,
  status: HostRecord['status'],
): Promise<void> {
  hosts.set(host, record(host, hosts.get(host)?.state ?? 'up', status));
  await publish({ at: Date.now(), host, kind: 'status', from, to, reason: `${from}→${to}` });
}

/** What the store writer does: events and their triggers in one transaction, then both published. */
async function publish(event: Omit<HostEvent, 'id'>): Promise<void> {
  const { events, triggers } = await store.transaction(async (tx) => {
    const events = await tx.events.append([event]);
    return { events, triggers: await tx.outbox.addTriggers(await deriveTriggers(events, tx)) };
  });
  for (const published of events) engine.eventCommitted(published);
  if (triggers.length > 0) engine.triggersCommitted(triggers);
}

/** Lets the clock run, and the channel send what became due. */
async function wait(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

const titles = () => sent.map((notification) => notification.title);

beforeEach(() => {
  vi.useFakeTimers({ now: START });
  store = openTestStore();
  outbox = () => store.outbox;
  sent = [];
  hosts.clear();
  signedHosts.clear();
  unestablished.clear();
  fieldsOf.clear();
});

afterEach(async () => {
  await engine?.stop();
  await store.close();
  vi.useRealTimers();
});

describe('what the engine announces', () => {
  it('a down, then its recovery, each once', async () => {
    await start();
    await transition('nas1', 'up');
    await transition('nas1', 'down');
    await wait(GROUP_WAIT_MS + 100);
    await transition('nas1', 'up');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['nas1 is down', 'nas1 is back up']);
  });

  it('a recovery that shares its group with a reminder drops the reminder, and the next outage is announced', async () => {
    await start({ repeatMs: 60_000 });
    await transition('nas1', 'up');
    await transition('nas1', 'down');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['nas1 is down']);
    // The reminder joins a group at the first tick past 60 s; the recovery comes before that group is sent.
    await wait(60_000 + 1000);
    await transition('nas1', 'up');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['nas1 is down', 'nas1 is back up']);

    await transition('nas1', 'down');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['nas1 is down', 'nas1 is back up', 'nas1 is down']);
  });

  it('a host that settles while up and then goes down within group_wait has that down announced, and its recovery', async () => {
    await start({ flapping: { windowMs: 60_000, threshold: 4, settle: 1 } });
    await transition('wobbly', 'up');
    for (const state of ['down', 'up', 'down', 'up'] as const) {
      await transition('wobbly', state);
      await wait(1000);
    }
    await wait(GROUP_WAIT_MS);
    expect(titles()).toEqual(['wobbly is flapping']);
    // 60 s after its third change only the last is in the window: it settles (up) at the
    // next tick, at 63 s, and goes down while that message waits out its group_wait.
    await wait(64_000 - 14_000);
    await transition('wobbly', 'down');
    await wait(GROUP_WAIT_MS + 100);
    expect(sent).toHaveLength(2);
    expect(sent[1]?.title).toBe('1 host down, 1 host settled');
    expect(sent[1]?.details).toMatch(/wobbly has settled: up/);

    await transition('wobbly', 'up');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles().at(-1)).toBe('wobbly is back up');
  });

  it('a host whose status flaps is announced once as flapping, then once where it settled', async () => {
    await start();
    await transition('nas1', 'up');
    const changes: [string, string][] = [
      ['ok', 'warn'],
      ['warn', 'ok'],
      ['ok', 'warn'],
      ['warn', 'ok'],
      ['ok', 'warn'],
      ['warn', 'ok'],
    ];
    for (const [from, to] of changes) await statusEvent('nas1', from, to, to as HostRecord['status']);
    await statusEvent('nas1', 'ok', STATUS_FLAPPING, 'warn');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['nas1 is flapping']);
    expect(sent[0]?.body).toContain('further changes are not reported until it settles');

    await statusEvent('nas1', STATUS_FLAPPING, 'warn', 'warn');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['nas1 is flapping', 'nas1 reports warn']);
    await statusEvent('nas1', 'warn', 'ok', 'ok');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['nas1 is flapping', 'nas1 reports warn', 'nas1 is ok again']);
  });

  it('a flapping host that settles on ok is told to be ok again', async () => {
    await start();
    await transition('nas1', 'up');
    await statusEvent('nas1', 'ok', STATUS_FLAPPING, 'fail');
    await wait(GROUP_WAIT_MS + 100);
    await statusEvent('nas1', STATUS_FLAPPING, 'ok', 'ok');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['nas1 is flapping', 'nas1 is ok again']);
  });

  it("a first heartbeat's problem is announced, unless announce_new_problems is off", async () => {
    await start();
    await transition('new1', 'up');
    await statusEvent('new1', null, 'fail', 'fail');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['new1 reports fail']);
    await engine.stop();

    sent = [];
    await start({ announceNewProblems: false });
    await transition('new2', 'up');
    await statusEvent('new2', null, 'warn', 'warn');
    await transition('new3', 'up');
    await transition('new3', 'down');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['new3 is down']);
  });

  it('hosts that are not established neither trip the isolation guard nor count in its base', async () => {
    await start({ isolation: { share: 0.5, minHosts: 10, windowMs: 60_000 } });
    const fakes = Array.from({ length: 20 }, (_, i) => `fake${i}`);
    for (const fake of fakes) unestablished.add(fake);
    for (const host of [...fakes, 'real1']) await transition(host, 'up');
    for (const fake of fakes) await transition(fake, 'down');
    await transition('real1', 'down');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['21 hosts down']);
  });

  it("established unsigned hosts going silent together never hold a signed host's down", async () => {
    await start({ isolation: { share: 0.5, minHosts: 10, windowMs: 60_000 } });
    signedHosts.add('signed1');
    const unsigned = Array.from({ length: 12 }, (_, i) => `node${i}`);
    for (const host of [...unsigned, 'signed1']) await transition(host, 'up');
    for (const host of unsigned) await transition(host, 'down');
    await transition('signed1', 'down');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['hbd may be isolated', 'signed1 is down']);
  });

  it('signed hosts going silent together hold every down, signed or not', async () => {
    await start({ isolation: { share: 0.5, minHosts: 10, windowMs: 60_000 } });
    const signed = Array.from({ length: 10 }, (_, i) => `s${i}`);
    for (const host of signed) signedHosts.add(host);
    for (const host of [...signed, 'plain1']) await transition(host, 'up');
    for (const host of [...signed, 'plain1']) await transition(host, 'down');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['hbd may be isolated']);
    expect(sent[0]?.body).toMatch(/^10 of 11 established hosts went silent/);
  });

  it('after a reload, isolation is judged by the new window and ends after the new settle time', async () => {
    const isolation = { share: 0.5, minHosts: 10, windowMs: 1000 };
    // A group waits longer than the silences take, so none is decided before the guard trips.
    await start({ isolation, isolationSettleMs: 60_000, groupWaitMs: 30_000 });
    const fleet = Array.from({ length: 12 }, (_, i) => `node${i}`);
    for (const host of fleet) await transition(host, 'up');
    // What a reload to `grace: 60, interval: 5` derives.
    engine.reload(settings({ isolation: { ...isolation, windowMs: 60_000 }, isolationSettleMs: 5000 }));
    // Two seconds apart: together only within the new window.
    for (const host of fleet) {
      await transition(host, 'down');
      await wait(2000);
    }
    await wait(30_000);
    expect(titles()).toEqual(['hbd may be isolated']);
    expect(sent[0]?.body).toMatch(/ within 60 s /);

    for (const host of fleet.slice(2)) await transition(host, 'up');
    await wait(5000 + 100);
    expect(titles()).toEqual(['hbd may be isolated', 'hbd hears its hosts again']);
  });

  it('after a reload, isolation ends after the new settle time (the new interval)', async () => {
    const isolation = { share: 0.5, minHosts: 10, windowMs: 60_000 };
    await start({ isolation, isolationSettleMs: 60_000, groupWaitMs: 30_000 });
    const fleet = Array.from({ length: 12 }, (_, i) => `node${i}`);
    for (const host of fleet) await transition(host, 'up');
    // What a reload to `interval: 5` derives; the window stays.
    engine.reload(settings({ isolation, isolationSettleMs: 5000 }));
    for (const host of fleet) await transition(host, 'down');
    await wait(30_000 + 100);
    expect(titles()).toEqual(['hbd may be isolated']);
    expect(sent[0]?.body).toMatch(/ within 60 s /);

    for (const host of fleet.slice(2)) await transition(host, 'up');
    await wait(5000 + 100);
    expect(titles()).toEqual(['hbd may be isolated', 'hbd hears its hosts again']);
    expect(sent[1]?.body).toBe('2 hosts are still down; a message about them follows.');
    await wait(30_000 + 100);
    expect(titles()).toEqual(['hbd may be isolated', 'hbd hears its hosts again', '2 hosts down']);
  });

  // Regression: under load the five groups came out differently and no digest was sent. On a
  // manual clock they are decided in one flush, however slow the machine or the store.
  it('collapses what passes the rate limit into one digest, however slow the store', async () => {
    // Each decision takes the store 50 ms: the groups decided in one flush still reach the
    // channel together.
    outbox = () => ({
      ...store.outbox,
      decide: async (decision) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return store.outbox.decide(decision);
      },
    });
    await start({
      groupBy: 'site',
      delivery: {
        concurrency: 4,
        ratePerMinute: 2,
        retryMinMs: 1000,
        retryMaxMs: 5000,
        alertAfterMs: 300_000,
      },
    });
    const sites = ['ams', 'fra', 'lon', 'par', 'ber'];
    for (const site of sites) fieldsOf.set(`gw-${site}`, { site });
    for (const site of sites) await transition(`gw-${site}`, 'up');
    for (const site of sites) await transition(`gw-${site}`, 'down');
    await wait(GROUP_WAIT_MS + 5 * 50 + 100);
    expect(sent).toHaveLength(2);
    expect(titles()[0]).toBe('[ams] gw-ams is down');
    expect(sent[1]?.kind).toBe('digest');
    expect(sent[1]?.title).toBe('4 notifications (rate limit reached)');
    expect(sent[1]?.hosts.map((host) => host.name)).toEqual(['gw-fra', 'gw-lon', 'gw-par', 'gw-ber']);
    expect(await store.outbox.list({ state: 'merged', limit: 10 })).toHaveLength(4);
    // Nothing more within the minute.
    await wait(50_000);
    expect(sent).toHaveLength(2);
  });

  it('holds problems for the restart grace, then announces those that still hold', async () => {
    await start({ restartGraceMs: 60_000 });
    await transition('web1', 'up');
    await transition('web2', 'up');
    await transition('web1', 'down');
    await transition('web2', 'down');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual([]);
    // web2 was only hbd's restart: it is back before the grace ends.
    await transition('web2', 'up');
    await wait(60_000 - GROUP_WAIT_MS);
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['web1 is down']);
  });

  it('keeps a group whose decision could not be stored, and stores it a second later', async () => {
    let failures = 1;
    outbox = () => ({
      ...store.outbox,
      decide: (decision) =>
        failures-- > 0 ? Promise.reject(new Error('database is locked')) : store.outbox.decide(decision),
    });
    await start();
    await transition('nas1', 'up');
    await transition('nas1', 'down');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual([]);
    expect(await store.outbox.pendingTriggers()).toHaveLength(1);
    await wait(1000);
    expect(titles()).toEqual(['nas1 is down']);
    expect(await store.outbox.pendingTriggers()).toEqual([]);
  });

  it('resumes after a restart: what was announced, undecided triggers and unsent messages', async () => {
    await start();
    await transition('nas1', 'up');
    await transition('nas1', 'down');
    await wait(GROUP_WAIT_MS + 100);
    await transition('nas2', 'up');
    await transition('nas2', 'down');
    await engine.stop();
    expect(titles()).toEqual(['nas1 is down']);
    // A message stored but not sent when hbd stopped.
    await store.outbox.decide({
      consumed: [],
      messages: [
        {
          channel: 'webhook',
          notification: { ...sent[0]!, dedupKey: 'unsent', title: 'unsent' },
          createdAt: Date.now(),
          deadlineAt: Date.now() + 60_000,
        },
      ],
      notified: [],
    });

    await start();
    await wait(100);
    expect(titles()).toEqual(['nas1 is down', 'unsent']);
    // nas2's trigger was stored but not decided: it is decided now, and nas1's recovery is
    // announced because its down was.
    await transition('nas1', 'up');
    await wait(GROUP_WAIT_MS + 100);
    expect(titles()).toEqual(['nas1 is down', 'unsent', '1 host down, 1 host back up']);
    expect(sent[2]?.hosts.map((host) => [host.name, host.state])).toEqual([
      ['nas2', 'down'],
      ['nas1', 'up'],
    ]);
  });
});
