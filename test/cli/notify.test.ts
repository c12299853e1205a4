import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runHbd } from '../helpers/cli.js';
import { STANDIN_MATTERMOST_HOOK, startMattermostStandin } from '../helpers/standins/mattermost.js';
import { STANDIN_NTFY_TOPIC, startNtfyStandin } from '../helpers/standins/ntfy.js';
import { STANDIN_PUSHOVER_TOKEN, STANDIN_PUSHOVER_USER } from '../helpers/standins/pushover.js';
import { startWebhookStandin } from '../helpers/standins/webhook.js';

// These run the built CLI (dist/), which the global setup builds.

let dir: string;
const closers: (() => Promise<void>)[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hbd-notify-'));
});
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(lines: string[]): string {
  const path = join(dir, 'hb.yaml');
  // 0600, as a config holding webhook URLs should be: else every command warns that others can read it.
  writeFileSync(path, `${lines.join('\n')}\n`, { mode: 0o600 });
  return path;
}

async function standins() {
  const ntfy = await startNtfyStandin();
  const mattermost = await startMattermostStandin();
  const webhook = await startWebhookStandin();
  closers.push(ntfy.close, mattermost.close, webhook.close);
  const config = writeConfig([
    'notify:',
    `  ntfy: {url: "${ntfy.url}/${STANDIN_NTFY_TOPIC}"}`,
    `  mattermost: {webhook: "${mattermost.url}/hooks/${STANDIN_MATTERMOST_HOOK}"}`,
    `  webhook: {url: "${webhook.url}/hooks/hbd"}`,
  ]);
  return { ntfy, mattermost, webhook, config };
}

describe('hbd notify test', () => {
  it('sends a test message through every configured channel and says ok for each', async () => {
    const { ntfy, mattermost, webhook, config } = await standins();
    const result = await runHbd(['notify', 'test', '-c', config]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')).toEqual([
      expect.stringMatching(/^mattermost: ok \(posted \(200 ok\)\)$/),
      'webhook: ok (delivered (HTTP 204))',
      `ntfy: ok (published to ${STANDIN_NTFY_TOPIC} as ${ntfy.requests[0]?.id})`,
      '',
    ]);

    expect(ntfy.rejected).toEqual([]);
    expect(ntfy.requests[0]).toMatchObject({ title: 'hbd test message' });
    expect(ntfy.requests[0]!.message).toContain(hostname());
    expect(mattermost.requests[0]!.body.text).toContain('hbd test message');
    expect(webhook.rejected).toEqual([]);
    expect(webhook.requests[0]!.body).toMatchObject({
      kind: 'test',
      title: 'hbd test message',
      hosts: [],
      resolves: false,
      dedup_key: expect.stringMatching(/^test-\d+$/),
    });
  });

  it('sends through only the channel named', async () => {
    const { ntfy, mattermost, webhook, config } = await standins();
    const result = await runHbd(['notify', 'test', 'ntfy', '-c', config]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ntfy: ok \(published to hbd-alerts as \w+\)\n$/);
    expect(ntfy.requests).toHaveLength(1);
    expect(mattermost.requests).toHaveLength(0);
    expect(webhook.requests).toHaveLength(0);
  });

  it('a channel the service refuses is FAILED with its reason, and the exit code says so', async () => {
    const { ntfy, mattermost, config } = await standins();
    ntfy.failNext(400);
    const result = await runHbd(['notify', 'test', '-c', config]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('ntfy: FAILED: HTTP 400 Bad Request: invalid request\n');
    expect(result.stdout).toMatch(/^mattermost: ok /m);
    expect(mattermost.requests).toHaveLength(1);
  });

  it('an unknown or unconfigured channel is an error that lists the configured ones', async () => {
    const { ntfy, config } = await standins();
    const unknown = await runHbd(['notify', 'test', 'telegram', '-c', config]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('"telegram" is not a channel');
    expect(unknown.stderr).toContain('configured: mattermost, webhook, ntfy');

    const unconfigured = await runHbd(['notify', 'test', 'email', '-c', config]);
    expect(unconfigured.code).toBe(2);
    expect(unconfigured.stderr).toContain(
      'email is not configured (no notify.email section); configured: mattermost, webhook, ntfy',
    );
    expect(unconfigured.stdout).toBe('');
    expect(ntfy.requests).toHaveLength(0);
  });

  it('a push service that pushsrv leaves out is named as such', async () => {
    const config = writeConfig([
      'pushsrv: none',
      'notify:',
      `  pushover: {token: ${STANDIN_PUSHOVER_TOKEN}, user: ${STANDIN_PUSHOVER_USER}}`,
      '  webhook: {url: "http://127.0.0.1:9/hooks/hbd"}',
    ]);
    const result = await runHbd(['notify', 'test', 'pushover', '-c', config]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'pushover is configured but not used: pushsrv is none; configured: webhook',
    );
  });

  it('without any channel it says to configure notify:', async () => {
    const result = await runHbd(['notify', 'test', '-c', writeConfig(['interval: 60'])]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no notification channel is configured; configure one under notify:');
    expect(result.stdout).toBe('');
  });

  it('a channel section its schema refuses is a config problem, here and in check-config', async () => {
    const config = writeConfig(['notify:', `  pushover: {token: tooshort, user: ${STANDIN_PUSHOVER_USER}}`]);
    const test = await runHbd(['notify', 'test', '-c', config]);
    expect(test.code).toBe(2);
    expect(test.stderr).toContain('notify.pushover.token: expected the 30-character application API token');

    const check = await runHbd(['check-config', '-c', config]);
    expect(check.code).toBe(2);
    expect(check.stderr).toContain('notify.pushover.token: expected the 30-character application API token');
    expect(check.stdout).toBe('');
  });
});
