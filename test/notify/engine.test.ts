/**
 * Notifications end to end: a real hbd hears real UDP heartbeats, and its messages reach local
 * stand-ins of the webhook and ntfy APIs. Timings are scaled down (an interval of 0.4 s) so
 * that a host goes down in under a second; the rules are the same at any scale.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeHeartbeat, type HeartbeatInput } from '../../src/protocol/encode.js';
import { eventually, getJson, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { type NtfyRequest, STANDIN_NTFY_TOPIC, startNtfyStandin } from '../helpers/standins/ntfy.js';
import { type ReceivedWebhook, type Standin, startWebhookStandin } from '../helpers/standins/webhook.js';

const INTERVAL = 0.4;
const GRACE = 0.4;
const GROUP_WAIT = 0.5;

let hbd: TestDaemon | undefined;
let webhook: Standin<ReceivedWebhook>;
let ntfy: Standin<NtfyRequest>;
const timers: NodeJS.Timeout[] = [];

afterEach(async () => {
  for (const timer of timers.splice(0)) clearInterval(timer);
  await hbd?.stop();
  hbd = undefined;
  await webhook?.close();
  await ntfy?.close();
});

async function start(
  notify: Record<string, unknown> = {},
  config: Record<string, unknown> = {},
  clock?: ManualClock,
) {
  webhook = await startWebhookStandin();
  ntfy = await startNtfyStandin();
  hbd = await startTestDaemon(
    {
      interval: INTERVAL,
      grace: GRACE,
      api_token: 'a-token-for-the-notify-tests',
      notify: {
        group_wait: GROUP_WAIT,
        restart_grace: 0,
        retry_min: 0.05,
        retry_max: 0.2,
        rate_limit: 0,
        flapping: false,
        webhook: { url: `${webhook.url}/hooks/hbd` },
        ntfy: { url: `${ntfy.url}/${STANDIN_NTFY_TOPIC}` },
        ...notify,
      },
      ...config,
    },
    undefined,
    clock,
  );
  return hbd;
}

const names = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);

async function beat(hosts: readonly string[], extra: Omit<HeartbeatInput, 'host'> = {}): Promise<void> {
  for (const host of hosts) await hbd!.send(encodeHeartbeat({ host, ts: Date.now() / 1000, ...extra }));
}

/** Beats `hosts` four times, 200 ms apart: over more than one interval, so they are established. */
async function establish(hosts: readonly string[]): Promise<void> {
  for (let round = 0; round < 4; round++) {
    if (round > 0) await sleep(200);
    await beat(hosts);
  }
}

/** Keeps `hosts` beating every 150 ms until the test ends (or `stop` is called). */
function keepBeating(hosts: readonly string[]): () => void {
  const timer = setInterval(() => void beat(hosts).catch(() => {}), 150);
  timers.push(timer);
  return () => clearInterval(timer);
}

async function hostStates(): Promise<Map<string, string>> {
  const { body } = await getJson<{ name: string; state: string }[]>(hbd!.url('/api/hosts'));
  return new Map(body.map((host) => [host.name, host.state]));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const titles = () => webhook.requests.map((request) => request.body.title);

describe('notifications', () => {
  it('groups 50 hosts that go silent together into one message per channel, within group_wait of their deadline', async () => {
    await start();
    const fleet = names('web', 120);
    await beat(fleet);
    keepBeating(fleet.slice(50));
    const unplugged = fleet.slice(0, 50);
    const lastBeat = Date.now();

    await eventually(() => expect(webhook.requests).toHaveLength(1), 5000);
    await eventually(() => expect(ntfy.requests).toHaveLength(1), 2000);
    const arrived = Date.now();
    const message = webhook.requests[0]!.body;
    expect(message.kind).toBe('down');
    expect(message.title).toBe('50 hosts down');
    expect(message.body).toMatch(/^50 hosts down: web\d+, .* \(and 40 more\)$/);
    expect(message.hosts.map((host) => host.name).sort()).toEqual([...unplugged].sort());
    expect(message.hosts.every((host) => host.addr.startsWith('127.0.0.1'))).toBe(true);
    expect(ntfy.requests[0]!.title).toBe('50 hosts down');
    // The deadline is interval + grace after the last beat (plus one sweep and the late allowance).
    expect(arrived - lastBeat).toBeLessThan((INTERVAL + GRACE + GROUP_WAIT) * 1000 + 1000);

    // Nothing more for the same outage.
    await sleep(1500);
    expect(webhook.requests).toHaveLength(1);
    expect(ntfy.requests).toHaveLength(1);

    keepBeating(unplugged);
    await eventually(() => expect(webhook.requests).toHaveLength(2), 3000);
    const back = webhook.requests[1]!.body;
    expect(back.title).toBe('50 hosts back up');
    expect(back.kind).toBe('up');
    expect(back.resolves).toBe(true);
  });

  it('says nothing about a first appearance, a planned shutdown or a late beat', async () => {
    await start();
    await beat(['db1', 'db2']);
    const stop = keepBeating(['db1']);
    await beat(['db2'], { status: 'bye' });
    await sleep((INTERVAL + GRACE) * 1000 + GROUP_WAIT * 1000 + 500);
    stop();
    expect((await hostStates()).get('db2')).toBe('left');
    expect(webhook.requests).toHaveLength(0);
    expect(ntfy.requests).toHaveLength(0);
  });

  it('reports a host down, then back up, with what it last said and for how long', async () => {
    await start();
    await beat(['app1'], { msg: 'serving' });
    await eventually(async () => expect((await hostStates()).get('app1')).toBe('down'), 3000);
    await eventually(() => expect(webhook.requests).toHaveLength(1), 3000);
    const down = webhook.requests[0]!.body;
    expect(down.title).toBe('app1 is down');
    expect(down.details).toContain('"serving"');
    expect(down.details).toContain('127.0.0.1');
    expect(down.hosts[0]!.previous_for_ms).toBeGreaterThan(0);

    await beat(['app1']);
    await eventually(() => expect(titles()).toEqual(['app1 is down', 'app1 is back up']), 3000);
    expect(webhook.requests[1]!.body.details).toMatch(/had been down for \d+s\b/);
  });

  it('reports a status turning fail, and back to ok', async () => {
    await start();
    await beat(['batch1']);
    const failing = setInterval(() => void beat(['batch1'], { status: 'fail', msg: 'disk full' }), 150);
    timers.push(failing);
    await eventually(() => expect(titles()).toEqual(['batch1 reports fail']), 3000);
    expect(webhook.requests[0]!.body.details).toContain('disk full');
    clearInterval(failing);
    keepBeating(['batch1']);
    await eventually(() => expect(titles()).toEqual(['batch1 reports fail', 'batch1 is ok again']), 3000);
  });

  it('suspects its own network when most hosts go silent at once, and holds the per-host messages', async () => {
    await start({ isolation: { share: 0.5, min_hosts: 10 } });
    const fleet = names('node', 12);
    // Only established hosts count: three beats or more, over at least one interval.
    await establish(fleet);
    await eventually(() => expect(webhook.requests).toHaveLength(1), 4000);
    expect(webhook.requests[0]!.body.kind).toBe('isolated');
    expect(webhook.requests[0]!.body.title).toBe('hbd may be isolated');
    await sleep(GROUP_WAIT * 1000 + 500);
    expect(titles()).toEqual(['hbd may be isolated']);

    // The network is back, except for two hosts that really are down.
    keepBeating(fleet.slice(2));
    await eventually(
      () => expect(titles()).toEqual(['hbd may be isolated', 'hbd hears its hosts again', '2 hosts down']),
      5000,
    );
    expect(webhook.requests[2]!.body.hosts.map((host) => host.name).sort()).toEqual(['node1', 'node2']);
  });

  it('reports a flapping host once, then stays quiet until it settles', async () => {
    await start({ flapping: { window: 4, threshold: 4, settle: 1 } });
    for (let change = 0; change < 4; change++) {
      await beat(['wobbly']);
      await eventually(async () => expect((await hostStates()).get('wobbly')).toBe('down'), 3000);
    }
    await beat(['wobbly']);
    await eventually(() => expect(titles()).toContain('wobbly is flapping'), 3000);
    const flappingAt = titles().indexOf('wobbly is flapping');
    await eventually(async () => expect((await hostStates()).get('wobbly')).toBe('down'), 3000);
    await beat(['wobbly']);
    await sleep(GROUP_WAIT * 1000 + 300);
    expect(titles().slice(flappingAt + 1)).toEqual([]);

    keepBeating(['wobbly']);
    await eventually(() => expect(titles().at(-1)).toBe('wobbly has settled: up'), 8000);
  });

  it('mutes a silenced host, and announces neither its down nor its recovery', async () => {
    const daemon = await start();
    const token = 'a-token-for-the-notify-tests';
    const response = await fetch(daemon.url('/api/silences'), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ pattern: 'maint*', duration: '1h', reason: 'kernel upgrade' }),
    });
    expect(response.status).toBe(201);
    await beat(['maint1', 'other1']);
    await eventually(() => expect(titles()).toEqual(['other1 is down']), 4000);
    await beat(['maint1', 'other1']);
    await eventually(() => expect(titles()).toEqual(['other1 is down', 'other1 is back up']), 3000);
    expect(webhook.requests.flatMap((request) => request.body.hosts.map((host) => host.name))).not.toContain(
      'maint1',
    );
  });

  it('retries a channel that answers 503 and 429 and delivers once; fails a 400 at once with the reason', async () => {
    await start();
    webhook.failNext(503, 2);
    ntfy.failNext(429, 1, { 'retry-after': '1' });
    await beat(['retry1']);
    await eventually(() => expect(webhook.requests).toHaveLength(1), 5000);
    await eventually(() => expect(ntfy.requests).toHaveLength(1), 5000);
    await sleep(500);
    expect(webhook.requests).toHaveLength(1);

    const { body } = await getJson<{ messages: { channel: string; state: string; attempts: number }[] }>(
      hbd!.url('/api/outbox'),
    );
    expect(body.messages.find((m) => m.channel === 'webhook')).toMatchObject({ state: 'sent', attempts: 3 });
    expect(body.messages.find((m) => m.channel === 'ntfy')).toMatchObject({ state: 'sent', attempts: 2 });

    webhook.failNext(400, 1);
    await beat(['retry1']);
    await eventually(async () => {
      const { body: failed } = await getJson<{ messages: { last_error: string; title: string }[] }>(
        hbd!.url('/api/outbox?state=failed&channel=webhook'),
      );
      expect(failed.messages).toHaveLength(1);
      expect(failed.messages[0]!.title).toBe('retry1 is back up');
      expect(failed.messages[0]!.last_error).toMatch(/400/);
    }, 3000);
    const metrics = await (await fetch(hbd!.url('/metrics'))).text();
    expect(metrics).toContain('hbd_notification_retries_total{channel="webhook"} 2');
    expect(metrics).toContain('hbd_notifications_failed_total{channel="webhook"} 1');
    expect(metrics).toContain('hbd_notifications_sent_total{channel="ntfy"} 2');
  });

  it('delivers every message, in order, to a provider that was unreachable for a while', async () => {
    await start();
    const port = Number(new URL(webhook.url).port);
    await webhook.close();
    await beat(['first1']);
    await eventually(() => expect(ntfy.requests.map((r) => r.title)).toEqual(['first1 is down']), 3000);
    await beat(['second1']);
    await eventually(
      () => expect(ntfy.requests.map((r) => r.title)).toEqual(['first1 is down', 'second1 is down']),
      3000,
    );
    await sleep(1000);
    webhook = await startWebhookStandin({ port });
    await eventually(() => expect(titles()).toEqual(['first1 is down', 'second1 is down']), 3000);
    await sleep(500);
    expect(titles()).toHaveLength(2);
  });

  it('tells the other channels when one keeps failing, and when it works again', async () => {
    await start({ channel_alert_after: 0.5, retry_min: 0.2, retry_max: 0.2 });
    // Each retry comes 0.1 to 0.2 s after the last: eight failures span more than 0.5 s.
    webhook.failNext(503, 8);
    await beat(['edge1']);
    const ntfyTitles = () => ntfy.requests.map((request) => request.title);
    await eventually(
      () =>
        expect(ntfyTitles()).toEqual([
          'edge1 is down',
          'hbd cannot deliver to webhook',
          'hbd delivers to webhook again',
        ]),
      6000,
    );
    expect(ntfy.requests[1]!.message).toContain('503');
    expect(titles()).toEqual(['edge1 is down']);
  });

  it('sends a reminder while a host stays down, when asked to', async () => {
    await start({ repeat: 1 });
    await beat(['nas1']);
    await eventually(() => expect(titles()).toEqual(['nas1 is down']), 3000);
    await eventually(() => expect(titles()).toEqual(['nas1 is down', 'nas1 is still down']), 4000);
  });

  it('collapses what passes the rate limit into one digest', async () => {
    // On a manual clock the five hosts beat at the same instant, so they go down in the same
    // sweep and their five groups are decided together, however slow the machine: the first
    // message goes out, the other four in the last slot of the minute's two.
    const clock = new ManualClock(Date.now());
    await start({ rate_limit: 2, group_by: 'site' }, {}, clock);
    const sites = ['ams', 'fra', 'lon', 'par', 'ber'];
    for (const site of sites) await beat([`gw-${site}`], { fields: { site } });
    await eventually(async () => expect((await hostStates()).size).toBe(5), 4000);
    clock.advance((INTERVAL + GRACE) * 1000 + 1000);
    await eventually(
      async () => expect([...(await hostStates()).values()]).toEqual(sites.map(() => 'down')),
      4000,
    );
    clock.advance(GROUP_WAIT * 1000);
    await eventually(
      () => expect([webhook.requests.length, webhook.rejected.map((r) => r.body)]).toEqual([2, []]),
      4000,
    );
    await sleep(500);
    expect(webhook.requests).toHaveLength(2);
    const digest = webhook.requests.find((request) => request.body.kind === 'digest')!.body;
    expect(digest.title).toBe('4 notifications (rate limit reached)');
    expect(digest.hosts).toHaveLength(4);
    const { body } = await getJson<{ messages: unknown[] }>(
      hbd!.url('/api/outbox?state=merged&channel=webhook'),
    );
    expect(body.messages).toHaveLength(4);
  });

  // Regression: a reload applied grace to the hosts but the isolation window kept the old one.
  it('follows a reload: the isolation window is the new grace', async () => {
    const daemon = await start({ isolation: { share: 0.5, min_hosts: 10 } });
    // A grace of 0.4 s gives the smallest window, 1 s; the reload widens it to 2 s.
    daemon.daemon.reload({ ...daemon.config, grace: 2 });
    await establish(names('node', 12));
    await eventually(() => expect(webhook.requests).toHaveLength(1), 6000);
    expect(webhook.requests[0]!.body.title).toBe('hbd may be isolated');
    expect(webhook.requests[0]!.body.body).toMatch(/ went silent within 2 s /);
  });
});
