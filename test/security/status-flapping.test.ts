/**
 * Finding 7, the state half: 5 unsigned hosts flipping ok/warn stored 50,000 events in 10 s,
 * one per status change, pushing every other host's history out. Now a host that changes status
 * more than `limits.status_flap_threshold` times within `limits.status_flap_window` is stored as
 * one flapping episode, then one event with the status it settled on; its current status stays
 * exact, and it is announced once as flapping rather than once per change.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeHeartbeat } from '../../src/protocol/encode.js';
import { eventually, getJson, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ReceivedWebhook, type Standin, startWebhookStandin } from '../helpers/standins/webhook.js';

const THRESHOLD = 6;
const WINDOW = 1.5;
const FLIPS = 200;
const HOSTS = ['flap1', 'flap2', 'flap3', 'flap4', 'flap5'];

let hbd: TestDaemon | undefined;
let webhook: Standin<ReceivedWebhook> | undefined;

afterEach(async () => {
  await hbd?.stop();
  hbd = undefined;
  await webhook?.close();
});

interface EventJson {
  kind: string;
  from: string | null;
  to: string | null;
  reason: string;
}

async function eventsOf(host: string): Promise<EventJson[]> {
  const { body } = await getJson<EventJson[]>(hbd!.url(`/api/events?host=${host}&limit=1000`));
  return body.reverse();
}

async function statusOf(host: string): Promise<string> {
  const { body } = await getJson<{ status: string }>(hbd!.url(`/api/hosts/${host}`));
  return body.status;
}

describe('a host whose status flaps', () => {
  it('is stored as one flapping episode, keeps its exact status, and is announced once', async () => {
    webhook = await startWebhookStandin();
    hbd = await startTestDaemon({
      interval: 60,
      grace: 60,
      limits: { status_flap_threshold: THRESHOLD, status_flap_window: WINDOW },
      notify: {
        group_wait: 0.3,
        restart_grace: 0,
        rate_limit: 0,
        retry_min: 0.05,
        retry_max: 0.2,
        webhook: { url: `${webhook.url}/hooks/hbd` },
      },
    });
    for (let flip = 0; flip < FLIPS; flip++) {
      for (const host of HOSTS)
        await hbd.send(encodeHeartbeat({ host, status: flip % 2 === 0 ? 'ok' : 'warn' }));
      // The daemon reads its socket on this same event loop: let it, so the kernel buffer never fills.
      if (flip % 10 === 9) await new Promise((resolve) => setImmediate(resolve));
    }
    // The last heartbeat of each said warn: that is what the table and the API must say.
    await eventually(async () => {
      for (const host of HOSTS) expect(await statusOf(host)).toBe('warn');
    }, 5000);

    // ~200 changes each; stored: the first appearance, six changes, the episode, where it settled.
    await eventually(async () => {
      const events = await eventsOf('flap1');
      expect(events.at(-1)).toMatchObject({ kind: 'status', from: 'flapping', to: 'warn' });
    }, 5000);
    for (const host of HOSTS) {
      const events = await eventsOf(host);
      expect(events.length).toBeLessThanOrEqual(THRESHOLD + 3);
      const statuses = events.filter((event) => event.kind === 'status');
      expect(statuses.map((event) => event.to)).toEqual([
        'warn',
        'ok',
        'warn',
        'ok',
        'warn',
        'ok',
        'flapping',
        'warn',
      ]);
      expect(statuses[6]!.reason).toMatch(/^7 status changes within \d+s$/);
      expect(statuses[7]!.reason).toMatch(/^settled: no status change for \d+s, after \d+ changes$/);
    }

    // Notifications follow the stored events: flapping once, then where it settled.
    await eventually(() => {
      const about = (host: string) =>
        webhook!.requests.filter((request) => request.body.hosts.some((notified) => notified.name === host));
      for (const host of HOSTS) {
        expect(
          about(host).flatMap((request) =>
            request.body.hosts.filter((notified) => notified.name === host).map(() => request.body.kind),
          ),
        ).toEqual(['flapping', 'status']);
      }
    }, 5000);
  });
});
