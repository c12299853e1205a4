/**
 * Finding 2: a glob turned into a regular expression backtracked exponentially in its stars.
 * One unsigned heartbeat with a 253-character name of `a`s, then `?name=*a*a*a*a*a*a*a*b`,
 * froze the daemon for longer than anyone would wait; the same matcher served silences and
 * `hosts:` globs. The daemon runs as its own process here, so that a frozen one fails the test
 * on a timeout instead of freezing the test too.
 */
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { encodeHeartbeat, type HeartbeatInput } from '../../src/protocol/encode.js';
import { type ServingHbd, useHbdSandbox } from '../helpers/cli.js';
import { eventually } from '../helpers/daemon.js';
import { type ReceivedWebhook, type Standin, startWebhookStandin } from '../helpers/standins/webhook.js';

/** 253 characters, the longest host name: four labels of `a`s (a label is at most 63). */
const LONG_NAME = ['a'.repeat(63), 'a'.repeat(63), 'a'.repeat(63), 'a'.repeat(61)].join('.');
/** Seven stars: with the old regex, about 50 times longer per star than 57 s for five. */
const EVIL_GLOB = '*a*a*a*a*a*a*a*b';
const API_TOKEN = 'glob-test-token-0123456789';
/** What "answers quickly" means here: generous on a busy machine, far below a frozen loop. */
const ANSWER_WITHIN_MS = 2500;

const client = dgram.createSocket('udp4');
afterAll(() => client.close());

let webhook: Standin<ReceivedWebhook>;
beforeEach(async () => {
  webhook = await startWebhookStandin();
});
afterEach(async () => {
  await webhook.close();
});
// After the hooks above, so that its afterEach runs first: hbd is gone before the webhook closes.
const sandbox = useHbdSandbox('hbd-glob-');

async function serve(extra: Record<string, unknown> = {}): Promise<ServingHbd> {
  const path = join(sandbox.dir, 'hb.yaml');
  const config = {
    hb_host: '127.0.0.1',
    hb_port: 0,
    hbd_port: 0,
    pickfile: 'state.sqlite',
    logfmt: 'json',
    api_token: API_TOKEN,
    ...extra,
  };
  writeFileSync(path, stringify(config));
  return sandbox.serve(['serve', '-c', path]);
}

function beat(hbd: ServingHbd, input: Partial<HeartbeatInput> = {}): Promise<void> {
  const datagram = encodeHeartbeat({ host: LONG_NAME, ...input });
  return new Promise((resolve, reject) =>
    client.send(datagram, hbd.udpPort, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
  );
}

/** The body of a GET that must answer within ANSWER_WITHIN_MS; a frozen daemon fails it. */
async function quickly(url: string, init: RequestInit = {}): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
  return { status: response.status, text: await response.text() };
}

async function healthy(hbd: ServingHbd): Promise<void> {
  const health = await quickly(`${hbd.httpUrl}/healthz`);
  expect(health.status).toBe(200);
}

describe('a glob with many stars against the longest host name', () => {
  it('GET /api/hosts?name= answers at once, and /healthz answers meanwhile', async () => {
    const hbd = await serve();
    await beat(hbd);
    await eventually(async () => {
      const exact = await quickly(`${hbd.httpUrl}/api/hosts?name=${LONG_NAME}`);
      expect(exact.text).toContain(LONG_NAME);
    });

    // Both in flight at once: the glob query must not hold the loop /healthz needs.
    const [globbed, health] = await Promise.all([
      quickly(`${hbd.httpUrl}/api/hosts?name=${encodeURIComponent(EVIL_GLOB)}`),
      quickly(`${hbd.httpUrl}/healthz`),
    ]);
    expect(health.status).toBe(200);
    expect(globbed.status).toBe(200);
    expect(globbed.text).not.toContain(LONG_NAME);
    // And a glob that does match still does.
    const matching = await quickly(`${hbd.httpUrl}/api/hosts?name=${encodeURIComponent('*a*a*a*a*a*a*a*a')}`);
    expect(matching.text).toContain(LONG_NAME);
    await healthy(hbd);
  });

  it('a hosts: glob in the config does not freeze ingest', async () => {
    const hbd = await serve({ hosts: { [EVIL_GLOB]: { interval: 7 } } });
    await beat(hbd);
    await eventually(async () => {
      const exact = await quickly(`${hbd.httpUrl}/api/hosts?name=${LONG_NAME}`);
      expect(exact.text).toContain(LONG_NAME);
    }, ANSWER_WITHIN_MS * 2);
    await healthy(hbd);
  });

  it('a silence with such a glob does not freeze the notification path', async () => {
    const hbd = await serve({
      notify: { restart_grace: 0, group_wait: 0, webhook: { url: `${webhook.url}/hooks/hbd` } },
    });
    const added = await quickly(`${hbd.httpUrl}/api/silences`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ pattern: EVIL_GLOB, duration: '1h' }),
    });
    expect(added.status).toBe(201);
    await beat(hbd, { seq: 1 });
    await eventually(async () => {
      const exact = await quickly(`${hbd.httpUrl}/api/hosts?name=${LONG_NAME}`);
      expect(exact.text).toContain(LONG_NAME);
    });
    // A change of status is a message, which asks the silences whether the host is muted.
    await beat(hbd, { seq: 2, status: 'fail', msg: 'disk full' });
    await eventually(() => {
      expect(webhook.rejected).toEqual([]);
      expect(webhook.requests.map((request) => request.body.title)).toContain(`${LONG_NAME} reports fail`);
    }, ANSWER_WITHIN_MS * 2);
    await healthy(hbd);
  });
});
