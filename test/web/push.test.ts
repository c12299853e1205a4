import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, recordTraffic, waitOrExplain } from '../helpers/browser.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

// The dashboard of a real hbd whose hosts are jobs that ping over HTTP: their open runs, their
// last pings, and their intervals as people say them.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ARTIFACTS = `${ROOT}test-artifacts/`;
const SLOW = { timeout: 90_000 };
const BACKUP = '5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278';
const KUMA = 'kUm4PushT0kenOf32CharactersXyZ01';
const RID = '3b1d9a52-8c1e-4f0a-9d7e-2a6c5b4e3f10';

let browser: Browser;
let hbd: TestDaemon;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchBrowser();
  hbd = await startTestDaemon({
    push: {
      backup: { token: BACKUP, interval: 3600, grace: 600 },
      'kuma-job': { token: KUMA, interval: 300 },
    },
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  recordTraffic(page);
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource|WebSocket connection/.test(message.text())) {
      problems.push(`console: ${message.text()}`);
    }
  });
}, 120_000);

afterAll(async () => {
  await page?.close();
  await browser?.close();
  await hbd?.stop();
});

/** A ping as a job sends it; the body, when given, is POSTed. */
async function ping(path: string, body?: string): Promise<void> {
  const response = await fetch(hbd.url(path), body === undefined ? {} : { method: 'POST', body });
  expect(response.status).toBe(200);
}

const runOf = (host: string) => page.locator(`.row[data-host="${host}"] .run`);
const pingKinds = () =>
  page.locator('.pings .ping').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-kind')));

describe('the dashboard, for jobs that ping over HTTP', () => {
  it('shows an open run in the fleet list: when it started and for how long', SLOW, async () => {
    await ping(`/ping/${BACKUP}`, 'nightly dump: 2.1 GB');
    await ping(`/ping/${BACKUP}/start?rid=${RID}`);
    await ping(`/api/push/${KUMA}?status=up&msg=OK&ping=42`);
    await page.goto(hbd.url('/'));
    await waitOrExplain(page, '.row[data-host="kuma-job"]', { logs: hbd.logs });
    await expect.poll(() => runOf('backup').textContent()).toMatch(/^running since \d\d:\d\d:\d\d, \d+s$/);
    expect(await runOf('kuma-job').count()).toBe(0);
    // "running" finds the jobs that are running.
    await page.locator('input.filter').fill('running');
    await expect
      .poll(() =>
        page
          .locator('.row[data-host]')
          .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-host'))),
      )
      .toEqual(['backup']);
    await page.locator('input.filter').fill('');
  });

  it(
    "shows a job's interval as people say it, its run, and its last pings with their bodies",
    SLOW,
    async () => {
      await page.locator('.row[data-host="backup"] a').click();
      await expect.poll(() => page.locator('dd[data-field="interval"]').textContent()).toBe('1h + grace 10m');
      expect(await page.locator('dd[data-field="run"]').textContent()).toMatch(
        new RegExp(
          `^running since \\d\\d:\\d\\d:\\d\\d, \\d+s \\(run ${RID}\\); down at \\d\\d:\\d\\d:\\d\\d unless it finishes$`,
        ),
      );
      await expect.poll(pingKinds).toEqual(['start', 'success']);
      const newest = page.locator('.pings .ping').first();
      expect(await newest.locator('.badge').textContent()).toBe('started');
      expect(await newest.locator('.reason').textContent()).toBe(
        `from 127.0.0.1 (Healthchecks.io, run ${RID})`,
      );
      expect(await page.locator('.pings .ping').nth(1).locator('.ping-body').textContent()).toBe(
        'nightly dump: 2.1 GB',
      );
      await page.screenshot({ path: `${ARTIFACTS}dashboard-push-host.png` });
    },
  );

  it(
    'follows the job live: its finish ends the run, a new start opens one, without a reload',
    SLOW,
    async () => {
      await ping(`/ping/${BACKUP}/1?rid=${RID}`, 'pg_dump: error: connection refused\n');
      await expect.poll(pingKinds, { timeout: 10_000 }).toEqual(['fail', 'start', 'success']);
      const newest = page.locator('.pings .ping').first();
      expect(await newest.locator('.badge').textContent()).toBe('failure, exit code 1');
      expect(await newest.locator('.ping-body').textContent()).toBe('pg_dump: error: connection refused');
      await expect.poll(() => page.locator('dd[data-field="run"]').count(), { timeout: 10_000 }).toBe(0);
      await expect
        .poll(() => page.locator('dd[data-field="msg"]').textContent())
        .toBe('exit code 1: pg_dump: error: connection refused');
      // A start moves no heartbeat through the live feed: the page asks for the last pings itself.
      await ping(`/ping/${BACKUP}/start`);
      await expect.poll(() => page.locator('dd[data-field="run"]').count(), { timeout: 15_000 }).toBe(1);
      expect(await page.locator('dd[data-field="run"]').textContent()).toMatch(
        /^running since \d\d:\d\d:\d\d, \d+s; down at/,
      );
      await page.locator('a.back').click();
      await expect.poll(() => runOf('backup').count()).toBe(1);
    },
  );

  it(
    "shows an Uptime Kuma job's ping value as a field, and no ping list for a host that never pinged",
    SLOW,
    async () => {
      await page.goto(hbd.url('/#/host/kuma-job'));
      await expect.poll(() => page.locator('.fields').textContent()).toContain('ping42');
      await expect.poll(() => page.locator('dd[data-field="interval"]').textContent()).toBe('5m + grace 30s');
      await expect.poll(pingKinds).toEqual(['success']);
      await hbd.send('host=web1 msg="a heartbeat, not a ping"');
      await page.goto(hbd.url('/#/host/web1'));
      await expect
        .poll(() => page.locator('dd[data-field="msg"]').textContent())
        .toBe('a heartbeat, not a ping');
      await expect.poll(() => page.locator('dd[data-field="interval"]').textContent()).toBe('1m + grace 30s');
      expect(await page.locator('.pings').count()).toBe(0);
      expect(problems).toEqual([]);
    },
  );
});
