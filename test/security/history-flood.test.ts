/**
 * Finding 7, the store half: 5 unsigned hosts flipping ok/warn stored 50,000 events in 10 s,
 * and `history.max_events` was enforced only by the hourly prune, which then kept the newest
 * events of all: the flood's. A few minutes of it pushed every real host's history (and the
 * uptime figures built on it) out. Now each host keeps at most `limits.events_per_host` events
 * and the total at most `history.max_events`, both enforced in the commit that writes them.
 *
 * Status flapping is also collapsed into one episode (status-flapping.test.ts); it is turned
 * off here, so that the store's own bounds are what is tested.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeHeartbeat } from '../../src/protocol/encode.js';
import { eventually, getJson, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

const MAX_EVENTS = 200;
const PER_HOST = 20;

let hbd: TestDaemon | undefined;

afterEach(async () => {
  await hbd?.stop();
  hbd = undefined;
});

async function start(): Promise<TestDaemon> {
  return startTestDaemon({
    interval: 60,
    grace: 60,
    history: { max_events: MAX_EVENTS },
    limits: { events_per_host: PER_HOST, status_flap_threshold: 1_000_000 },
  });
}

/** Stored events, read from the state file itself, as another process would. */
function storedEvents(daemon: TestDaemon, host?: string): number {
  const db = new Database(join(daemon.dir, 'state.sqlite'), { readonly: true });
  try {
    const row = (
      host === undefined
        ? db.prepare('SELECT COUNT(*) AS n FROM events').get()
        : db.prepare('SELECT COUNT(*) AS n FROM events WHERE host = ?').get(host)
    ) as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}

async function eventsOf(host: string): Promise<{ kind: string; to: string | null }[]> {
  const { body } = await getJson<{ kind: string; to: string | null }[]>(
    hbd!.url(`/api/events?host=${host}&limit=1000`),
  );
  return body.reverse();
}

/** `flips` status changes of each host: warn, ok, warn, … */
async function flap(hosts: readonly string[], flips: number): Promise<void> {
  for (let flip = 1; flip <= flips; flip++) {
    for (const host of hosts) await hbd!.send(encodeHeartbeat({ host, status: flip % 2 ? 'warn' : 'ok' }));
    // The daemon reads its socket on this same event loop: let it, so the kernel buffer never fills.
    if (flip % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('an event flood', () => {
  it("from one host cannot push out another host's history, now or at the next prune", async () => {
    hbd = await start();
    await hbd.send(encodeHeartbeat({ host: 'quiet', status: 'ok' }));
    await hbd.send(encodeHeartbeat({ host: 'quiet', status: 'warn' }));
    await hbd.send(encodeHeartbeat({ host: 'quiet', status: 'ok' }));
    await eventually(async () => expect(await eventsOf('quiet')).toHaveLength(3));

    // Twice the total cap from one host, flipping ok/warn.
    await flap(['flood'], 2 * MAX_EVENTS + 1);
    await eventually(async () => {
      const events = await eventsOf('flood');
      expect(events.at(-1)).toMatchObject({ kind: 'status', to: 'warn' });
      expect(events.length).toBeLessThanOrEqual(PER_HOST);
    }, 5000);
    expect(storedEvents(hbd, 'flood')).toBeLessThanOrEqual(PER_HOST);
    expect(await eventsOf('quiet')).toHaveLength(3);

    // A restart runs the prune that hbd otherwise runs hourly: the quiet host's history stays.
    await hbd.restart();
    expect(await eventsOf('quiet')).toHaveLength(3);
    expect(storedEvents(hbd, 'quiet')).toBe(3);
  });

  it('from many hosts never holds more than history.max_events', async () => {
    hbd = await start();
    const hosts = Array.from({ length: 25 }, (_, i) => `flood${i}`);
    let largest = 0;
    for (let round = 0; round < 4; round++) {
      await flap(hosts, 10);
      const last = hosts.at(-1)!;
      // Ten flips end on ok.
      await eventually(async () => expect((await eventsOf(last)).at(-1)).toMatchObject({ to: 'ok' }), 5000);
      largest = Math.max(largest, storedEvents(hbd));
    }
    // 25 hosts × (1 appearance + 40 changes) = 1,025 events written, each host over its own cap.
    expect(largest).toBeGreaterThan(MAX_EVENTS / 2);
    expect(largest).toBeLessThanOrEqual(MAX_EVENTS);
    for (const host of hosts) expect(storedEvents(hbd, host)).toBeLessThanOrEqual(PER_HOST);
  });
});
