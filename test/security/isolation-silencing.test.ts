/**
 * Finding 3: 20 unsigned hosts that beat once and stop went down together; the isolation guard
 * counted them, sent "hbd may be isolated" and held every per-host message, so a real host that
 * died right after was never announced. Now only established hosts count (three heartbeats or
 * more, over at least one interval), and a signed host's down is never held because unsigned
 * hosts went silent. Genuine isolation, many established hosts going silent at once, is still
 * told as such. Timings are scaled down (an interval of 0.5 s); the rules are the same at any scale.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeHeartbeat } from '../../src/protocol/encode.js';
import { eventually, getJson, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ReceivedWebhook, type Standin, startWebhookStandin } from '../helpers/standins/webhook.js';

const INTERVAL = 0.5;
const GRACE = 0.5;
const GROUP_WAIT = 0.3;
/** From the last heartbeat to the message: interval + grace + group_wait, and room for a busy machine. */
const ANNOUNCED_WITHIN_MS = (INTERVAL + GRACE + GROUP_WAIT) * 1000 + 2500;
const SIGNED_SECRET = 'a-secret-for-the-signed-host-0123';

let hbd: TestDaemon | undefined;
let webhook: Standin<ReceivedWebhook> | undefined;
const timers: NodeJS.Timeout[] = [];

afterEach(async () => {
  for (const timer of timers.splice(0)) clearInterval(timer);
  await hbd?.stop();
  hbd = undefined;
  await webhook?.close();
});

async function start(config: Record<string, unknown> = {}): Promise<TestDaemon> {
  webhook = await startWebhookStandin();
  hbd = await startTestDaemon({
    interval: INTERVAL,
    grace: GRACE,
    notify: {
      group_wait: GROUP_WAIT,
      restart_grace: 0,
      retry_min: 0.05,
      retry_max: 0.2,
      rate_limit: 0,
      flapping: false,
      isolation: { share: 0.5, min_hosts: 10 },
      webhook: { url: `${webhook.url}/hooks/hbd` },
    },
    ...config,
  });
  return hbd;
}

const names = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const titles = () => webhook!.requests.map((request) => request.body.title);
const messagesAbout = (host: string) =>
  webhook!.requests.filter((request) => request.body.hosts.some((notified) => notified.name === host));

async function beat(hosts: readonly string[]): Promise<void> {
  for (const host of hosts) {
    const ts = Date.now() / 1000;
    const secret = host.startsWith('signed') ? SIGNED_SECRET : undefined;
    await hbd!.send(encodeHeartbeat({ host, ts }, { secret }));
  }
}

/** Four beats 200 ms apart: more than one interval, so the hosts are established. */
async function establish(hosts: readonly string[]): Promise<void> {
  for (let round = 0; round < 4; round++) {
    if (round > 0) await sleep(200);
    await beat(hosts);
  }
}

/** Keeps `hosts` beating every 150 ms; the returned function stops them. */
function keepBeating(hosts: readonly string[]): () => void {
  const timer = setInterval(() => void beat(hosts).catch(() => {}), 150);
  timers.push(timer);
  return () => clearInterval(timer);
}

async function statesOf(hosts: readonly string[]): Promise<string[]> {
  const { body } = await getJson<{ name: string; state: string }[]>(hbd!.url('/api/hosts'));
  const states = new Map(body.map((host) => [host.name, host.state]));
  return hosts.map((host) => states.get(host) ?? 'unknown');
}

describe('the isolation guard counts only established hosts', () => {
  it('20 hosts that beat once and stop cannot hold back the down of a real host (finding 3)', async () => {
    await start();
    await establish(['real1']);
    const stopReal = keepBeating(['real1']);
    const fakes = names('fake', 20);
    await beat(fakes);
    await eventually(async () => expect(await statesOf(fakes)).toEqual(Array(20).fill('down')), 5000);

    stopReal();
    const lastBeat = Date.now();
    await eventually(() => expect(messagesAbout('real1')).toHaveLength(1), ANNOUNCED_WITHIN_MS + 2000);
    const arrivedAfter = Date.now() - lastBeat;
    expect(messagesAbout('real1')[0]!.body.kind).toBe('down');
    expect(arrivedAfter).toBeLessThan(ANNOUNCED_WITHIN_MS);
    expect(titles()).not.toContain('hbd may be isolated');
  });

  it("under auth: optional, established unsigned hosts going silent together never hold a signed host's down", async () => {
    await start({ auth: 'optional', keys: { signed1: SIGNED_SECRET } });
    const unsigned = names('node', 12);
    await establish([...unsigned, 'signed1']);
    // All go silent at once: twelve unsigned hosts are enough to suspect isolation, for them.
    await eventually(() => expect(titles()).toContain('hbd may be isolated'), ANNOUNCED_WITHIN_MS);
    await eventually(() => expect(messagesAbout('signed1')).toHaveLength(1), ANNOUNCED_WITHIN_MS);
    expect(messagesAbout('signed1')[0]!.body.kind).toBe('down');
    for (const host of unsigned) expect(messagesAbout(host)).toEqual([]);
  });

  it('many established hosts going silent together still raise "hbd may be isolated" and hold their downs', async () => {
    await start();
    const fleet = names('node', 12);
    await establish(fleet);
    await eventually(() => expect(titles()).toEqual(['hbd may be isolated']), ANNOUNCED_WITHIN_MS);
    expect(webhook!.requests[0]!.body.kind).toBe('isolated');
    expect(webhook!.requests[0]!.body.body).toMatch(/^10 of 12 established hosts went silent/);

    // The network is back except for two hosts: nothing was sent about any host in between.
    keepBeating(fleet.slice(2));
    await eventually(
      () => expect(titles()).toEqual(['hbd may be isolated', 'hbd hears its hosts again', '2 hosts down']),
      ANNOUNCED_WITHIN_MS + 2000,
    );
    expect(webhook!.requests[2]!.body.hosts.map((host) => host.name).sort()).toEqual(['node1', 'node2']);
  });
});
