/**
 * Finding 11 (last item): a host whose first heartbeat already said `fail` was never announced,
 * since a host's first status was compared with nothing: a host deployed broken stayed silent.
 * Now it is announced like any other problem, after `notify.restart_grace`; the config key
 * `notify.announce_new_problems: false` turns that off.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeHeartbeat, type HeartbeatInput } from '../../src/protocol/encode.js';
import { eventually, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ReceivedWebhook, type Standin, startWebhookStandin } from '../helpers/standins/webhook.js';

const RESTART_GRACE = 0.8;

let hbd: TestDaemon | undefined;
let webhook: Standin<ReceivedWebhook> | undefined;

afterEach(async () => {
  await hbd?.stop();
  hbd = undefined;
  await webhook?.close();
});

async function start(notify: Record<string, unknown> = {}): Promise<TestDaemon> {
  webhook = await startWebhookStandin();
  hbd = await startTestDaemon({
    interval: 60,
    grace: 60,
    notify: {
      group_wait: 0.2,
      restart_grace: RESTART_GRACE,
      retry_min: 0.05,
      retry_max: 0.2,
      rate_limit: 0,
      webhook: { url: `${webhook.url}/hooks/hbd` },
      ...notify,
    },
  });
  return hbd;
}

const beat = (input: HeartbeatInput) => hbd!.send(encodeHeartbeat(input));
const titles = () => webhook!.requests.map((request) => request.body.title);

describe('a host whose first heartbeat reports a problem', () => {
  it('is announced once the restart grace is over, like any other problem', async () => {
    const startedAt = Date.now();
    await start();
    await beat({ host: 'broken1', status: 'fail', msg: 'deployed without its config' });
    await eventually(() => expect(titles()).toEqual(['broken1 reports fail']), 5000);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(RESTART_GRACE * 1000);
    const message = webhook!.requests[0]!.body;
    expect(message.kind).toBe('status');
    expect(message.hosts).toEqual([expect.objectContaining({ name: 'broken1', status: 'fail' })]);
    expect(message.details).toContain('deployed without its config');
  });

  it('is not announced with notify.announce_new_problems: false, while a later problem still is', async () => {
    await start({ announce_new_problems: false });
    await beat({ host: 'broken1', status: 'fail' });
    // A host that turns fail after an ok: its message comes after anything about broken1 would.
    await beat({ host: 'control1', status: 'ok' });
    await beat({ host: 'control1', status: 'fail' });
    await eventually(() => expect(webhook!.requests.length).toBeGreaterThan(0), 5000);
    expect(titles()).toEqual(['control1 reports fail']);
  });
});
