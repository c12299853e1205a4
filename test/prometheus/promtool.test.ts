/**
 * The real promtool on what hbd ships: a real scrape of a daemon with hosts in every state,
 * hostile host labels, a failing notification channel and failing DNS updates checks clean, and
 * the shipped alert rules pass `promtool check rules` and their own unit tests.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostState } from '../../src/model/events.js';
import { eventually, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { sampleNotification } from '../helpers/sample-notification.js';
import { byLabel, parseExposition } from './exposition.js';
import { findPromtool, PROMTOOL_MISSING, promtool } from './promtool.js';

const PROMTOOL = findPromtool();
const RULES_DIR = fileURLToPath(new URL('../../contrib/prometheus/', import.meta.url));
const DOC = fileURLToPath(new URL('../../docs/prometheus.md', import.meta.url));

/** A port on 127.0.0.1 where nothing listens: the channel and the DNS server hbd cannot reach. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let hbd: TestDaemon | undefined;
let scrape = '';

beforeAll(async () => {
  const port = await closedPort();
  hbd = await startTestDaemon({
    grace: 600,
    hosts: { late1: { interval: 0.2 }, down1: { interval: 0.2, grace: 0 } },
    metrics: { host_labels: ['site', 'role'] },
    notify: {
      restart_grace: 0,
      retry_min: 0.1,
      retry_max: 0.2,
      webhook: { url: `http://127.0.0.1:${port}/` },
    },
    dyndomains: ['dyn.example.test'],
    dns: { server: '127.0.0.1', port, allow_unsigned: true, retry_max: 1 },
  });
  const daemon = hbd;
  const states: Record<string, HostState> = { up1: 'up', late1: 'late', down1: 'down', left1: 'left' };
  await daemon.send('host=up1 status=warn site=ams1 role=web ip4=198.51.100.66');
  await daemon.send(
    `host=late1 status=fail site="a \\"quoted\\" \\\\ value\\n\u202e" role=${'x'.repeat(200)}`,
  );
  await daemon.send('host=down1 site=fra1');
  await daemon.send('host=left1 status=bye');
  await daemon.daemon.notify.announce(sampleNotification());
  await eventually(async () => {
    for (const [host, state] of Object.entries(states))
      expect(daemon.daemon.hosts.find(host)?.state).toBe(state);
    const samples = parseExposition(await (await fetch(daemon.url('/metrics'))).text());
    expect(byLabel(samples, 'hbd_notification_channel_failing', 'channel')).toEqual({ webhook: 1 });
    expect(byLabel(samples, 'hbd_dns_updates_total', 'outcome').error).toBeGreaterThan(0);
  }, 10_000);
  scrape = await (await fetch(daemon.url('/metrics'))).text();
});

afterAll(async () => {
  await hbd?.stop();
});

describe('promtool', () => {
  it('check metrics reports nothing on a scrape of hbd with every kind of series', async (context) => {
    if (!PROMTOOL) return context.skip(PROMTOOL_MISSING);
    // The scrape has what the check is about: per-host series in every state, labels, channels, DNS.
    for (const series of [
      'hbd_host_up{host="down1",site="fra1",role=""} 0',
      'hbd_host_status{host="left1",site="",role="",status="bye"} 1',
      'hbd_notification_channel_failing{channel="webhook"} 1',
      'hbd_dns_updates_total{outcome="error"}',
      'nodejs_active_handles{type=',
    ]) {
      expect(scrape).toContain(series);
    }
    const result = await promtool(PROMTOOL, ['check', 'metrics'], { input: scrape });
    expect(result).toEqual({ code: 0, output: '' });
  });

  it('check rules passes the shipped alert rules', async (context) => {
    if (!PROMTOOL) return context.skip(PROMTOOL_MISSING);
    const result = await promtool(PROMTOOL, ['check', 'rules', 'hbd-rules.yml'], { cwd: RULES_DIR });
    expect(result.output).toContain('SUCCESS: 7 rules found');
    expect(result.code).toBe(0);
  });

  it('test rules passes the shipped rules’ unit tests', async (context) => {
    if (!PROMTOOL) return context.skip(PROMTOOL_MISSING);
    const result = await promtool(PROMTOOL, ['test', 'rules', 'hbd-rules.test.yml'], { cwd: RULES_DIR });
    expect(result.output).toContain('SUCCESS');
    expect(result.output).not.toContain('FAILED');
    expect(result.code).toBe(0);
  });
});

describe('docs/prometheus.md', () => {
  const doc = readFileSync(DOC, 'utf8');

  it('shows the shipped alert rules exactly as contrib/prometheus/hbd-rules.yml has them', () => {
    const blocks = [...doc.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((match) => match[1]);
    const rules = blocks.filter((block) => block?.includes('\ngroups:\n'));
    expect(rules).toEqual([readFileSync(`${RULES_DIR}/hbd-rules.yml`, 'utf8')]);
  });

  it('documents every hbd metric a scrape shows', () => {
    const names = new Set(
      parseExposition(scrape)
        .map((sample) => sample.name)
        .filter((name) => name.startsWith('hbd_')),
    );
    expect(names.size).toBeGreaterThan(10);
    const undocumented = [...names].filter((name) => !doc.includes(`| \`${name}`));
    expect(undocumented).toEqual([]);
  });
});
