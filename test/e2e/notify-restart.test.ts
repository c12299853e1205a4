/**
 * Notifications across crashes and restarts, with the real `hbd serve` process: a message is
 * neither lost nor sent twice when hbd is killed with SIGKILL between the transition and the
 * send, or during the send; and a restart raises no false alarm.
 */
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { encodeHeartbeat } from '../../src/protocol/encode.js';
import { type ServingHbd, useHbdSandbox } from '../helpers/cli.js';
import { eventually, getJson } from '../helpers/daemon.js';
import { type ReceivedWebhook, type Standin, startWebhookStandin } from '../helpers/standins/webhook.js';

let running: ServingHbd | undefined;
let webhook: Standin<ReceivedWebhook>;
const client = dgram.createSocket('udp4');
const timers: NodeJS.Timeout[] = [];

beforeEach(async () => {
  webhook = await startWebhookStandin();
});

afterEach(async () => {
  for (const timer of timers.splice(0)) clearInterval(timer);
  running = undefined;
  await webhook.close();
});

// After the hooks above, so that its afterEach runs first: hbd is gone before the webhook closes.
const sandbox = useHbdSandbox('hbd-notify-');

function writeConfig(notify: Record<string, unknown>): string {
  const path = join(sandbox.dir, 'hb.yaml');
  const config = {
    hb_host: '127.0.0.1',
    hb_port: 0,
    hbd_port: 0,
    pickfile: 'state.sqlite',
    logfmt: 'json',
    interval: 0.4,
    grace: 0.4,
    notify: {
      restart_grace: 0,
      retry_min: 0.05,
      retry_max: 0.2,
      webhook: { url: `${webhook.url}/hooks/hbd` },
      ...notify,
    },
  };
  writeFileSync(path, stringify(config));
  return path;
}

function beat(host: string): Promise<void> {
  return new Promise((resolve, reject) =>
    client.send(encodeHeartbeat({ host, ts: Date.now() / 1000 }), running!.udpPort, '127.0.0.1', (error) =>
      error ? reject(error) : resolve(),
    ),
  );
}

async function kill9(): Promise<void> {
  running!.process.kill('SIGKILL');
  await running!.exited;
}

async function eventsOf(host: string): Promise<string[]> {
  const { body } = await getJson<{ events: { to: string }[] }>(`${running!.httpUrl}/api/hosts/${host}`);
  return body.events.map((event) => event.to);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('notifications across kill -9 and restarts', () => {
  it('a transition stored just before kill -9 is still announced after the restart, once', async () => {
    // A long group_wait holds the decision back, so the crash lands between transition and message.
    const config = writeConfig({ group_wait: 3 });
    running = await sandbox.serve(['serve', '-c', config]);
    await beat('crash1');
    await eventually(async () => expect((await eventsOf('crash1'))[0]).toBe('down'), 5000);
    await kill9();
    expect(webhook.requests).toHaveLength(0);

    running = await sandbox.serve(['serve', '-c', writeConfig({ group_wait: 0.2 })]);
    await eventually(() => expect(webhook.requests).toHaveLength(1), 5000);
    expect(webhook.requests[0]!.body.title).toBe('crash1 is down');
    await sleep(1000);
    expect(webhook.requests).toHaveLength(1);
  });

  it('a message cut off mid-send by kill -9 is sent after the restart under the same dedup key, once', async () => {
    const config = writeConfig({ group_wait: 0.2 });
    running = await sandbox.serve(['serve', '-c', config]);
    webhook.hangNext(1);
    await beat('crash2');
    const pending = await eventually(async () => {
      const { body } = await getJson<{ messages: { state: string; dedup_key: string }[] }>(
        `${running!.httpUrl}/api/outbox`,
      );
      expect(body.messages).toHaveLength(1);
      return body.messages[0]!;
    }, 5000);
    expect(pending.state).toBe('pending');
    // Give the send time to reach the stand-in, which never answers it.
    await sleep(500);
    await kill9();
    expect(webhook.requests).toHaveLength(0);

    running = await sandbox.serve(['serve', '-c', config]);
    await eventually(() => expect(webhook.requests).toHaveLength(1), 5000);
    expect(webhook.requests[0]!.body.dedup_key).toBe(pending.dedup_key);
    expect(webhook.requests[0]!.headers['x-hbd-dedup-key']).toBe(pending.dedup_key);
    await sleep(1000);
    expect(webhook.requests).toHaveLength(1);
    const { body } = await getJson<{ messages: { state: string; attempts: number }[] }>(
      `${running.httpUrl}/api/outbox`,
    );
    expect(body.messages).toEqual([expect.objectContaining({ state: 'sent', attempts: 1 })]);
  });

  it('raises no alarm for hosts that were only missed while hbd restarted, and reports one still gone when the grace ends', async () => {
    const config = writeConfig({ group_wait: 0.2, restart_grace: 2.5 });
    running = await sandbox.serve(['serve', '-c', config]);
    await beat('back1');
    await beat('gone1');
    await eventually(async () => expect(await eventsOf('gone1')).toEqual(['up']), 3000);
    await kill9();

    running = await sandbox.serve(['serve', '-c', config]);
    const restartedAt = Date.now();
    // Both hosts miss their fresh deadline during the grace; back1 then returns, gone1 does not.
    await eventually(async () => expect((await eventsOf('back1'))[0]).toBe('down'), 3000);
    await beat('back1');
    const timer = setInterval(() => void beat('back1').catch(() => {}), 150);
    timers.push(timer);

    await eventually(() => expect(webhook.requests).toHaveLength(1), 6000);
    expect(Date.now() - restartedAt).toBeGreaterThanOrEqual(2500);
    expect(webhook.requests[0]!.body.title).toBe('gone1 is down');
    await sleep(1000);
    expect(webhook.requests.map((request) => request.body.title)).toEqual(['gone1 is down']);
  });
});
