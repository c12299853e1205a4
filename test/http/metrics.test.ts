/**
 * The gauges the shipped alert rules read besides the per-host series, against a real hbd:
 * `hbd_isolated` from the notification isolation guard, and `hbd_notification_channel_failing`
 * from a channel that a real HTTP receiver refuses and then accepts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { sampleNotification } from '../helpers/sample-notification.js';
import { byLabel, parseExposition, unlabelled } from '../prometheus/exposition.js';

let hbd: TestDaemon | undefined;
let receiver: Server | undefined;
afterEach(async () => {
  await hbd?.stop();
  hbd = undefined;
  await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve(undefined)));
  receiver = undefined;
});

async function scrape() {
  return parseExposition(await (await fetch(hbd!.url('/metrics'))).text());
}

async function metric(name: string, label: string): Promise<Record<string, number>> {
  return byLabel(await scrape(), name, label);
}

async function isolated(): Promise<number | undefined> {
  return unlabelled(await scrape(), 'hbd_isolated');
}

describe('hbd_isolated', () => {
  it('is 1 while so many hosts went silent at once that hbd may be cut off, and 0 once they are heard', async () => {
    const clock = new ManualClock();
    hbd = await startTestDaemon(
      {
        // The settle time after isolation is one interval (real time): kept short.
        interval: 1,
        grace: 5,
        notify: { restart_grace: 0, group_wait: 0, isolation: { share: 0.5, min_hosts: 2 } },
      },
      undefined,
      clock,
    );
    const hosts = ['h1', 'h2', 'h3'];
    // Three heartbeats spanning one interval (10 s): established, so their silence counts.
    for (let round = 0; round < 3; round++) {
      if (round > 0) clock.advance(5_000);
      for (const host of hosts) await hbd.send(`host=${host} every=10`);
      await eventually(() => {
        for (const host of hosts) expect(hbd!.daemon.hosts.find(host)?.lastSeen).toBe(clock.wall());
      }, 5000);
    }
    expect(await isolated()).toBe(0);

    clock.advance(20_000);
    await eventually(async () => expect(await isolated()).toBe(1), 5000);
    await eventually(
      async () => expect(await metric('hbd_host_up', 'host')).toEqual({ h1: 0, h2: 0, h3: 0 }),
      5000,
    );

    await hbd.send('host=h1 every=10');
    await eventually(async () => expect(await isolated()).toBe(0), 10_000);
  });
});

describe('hbd_notification_channel_failing', () => {
  it('is 1 while a channel keeps failing, and 0 once it delivers', async () => {
    let answer = 503;
    receiver = createServer((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(answer).end());
    });
    await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as AddressInfo;
    hbd = await startTestDaemon({
      notify: {
        restart_grace: 0,
        retry_min: 0.1,
        retry_max: 0.2,
        webhook: { url: `http://127.0.0.1:${port}/hook` },
      },
    });
    expect(await metric('hbd_notification_channel_failing', 'channel')).toEqual({ webhook: 0 });

    await hbd.daemon.notify.announce(sampleNotification());
    await eventually(async () => {
      expect(await metric('hbd_notification_channel_failing', 'channel')).toEqual({ webhook: 1 });
      expect((await metric('hbd_notification_retries_total', 'channel')).webhook).toBeGreaterThan(0);
    }, 5000);

    answer = 200;
    await eventually(async () => {
      expect(await metric('hbd_notification_channel_failing', 'channel')).toEqual({ webhook: 0 });
      expect(await metric('hbd_notifications_sent_total', 'channel')).toEqual({ webhook: 1 });
    }, 5000);
  });
});
