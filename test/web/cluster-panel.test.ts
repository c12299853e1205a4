import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, recordTraffic, waitOrExplain } from '../helpers/browser.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { eventually } from '../helpers/eventually.js';
import { type PgServer, postgresMissing, startPostgres } from '../helpers/postgres.js';

// The cluster above the fleet: absent on a single node; on a cluster node (a real hbd on a real
// PostgreSQL), every node with its role and state, and the node the page is talking to.

const SLOW = { timeout: 90_000 };

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

/** Page errors and console errors, but for the 404 a single node answers and feed reconnects. */
function watch(page: Page, problems: string[]): void {
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource|WebSocket connection/.test(message.text())) {
      problems.push(`console: ${message.text()}`);
    }
  });
}

/** Counts the page's requests for /api/cluster. */
function countClusterRequests(page: Page): { count: number } {
  const seen = { count: 0 };
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/api/cluster') seen.count++;
  });
  return seen;
}

describe('the cluster panel on a single node', () => {
  let hbd: TestDaemon;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    hbd = await startTestDaemon();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    watch(page, problems);
    recordTraffic(page);
  }, 60_000);

  afterAll(async () => {
    await page?.close();
    await hbd?.stop();
  });

  it('is not shown, and the fleet lists every host as usual', SLOW, async () => {
    await hbd.send('host=web1 msg="serving"');
    const requests = countClusterRequests(page);
    const answered = page.waitForResponse((response) => new URL(response.url()).pathname === '/api/cluster');
    await page.goto(hbd.url('/'));
    expect((await answered).status()).toBe(404);
    // The page has taken the answer in: it knows it is on a single node.
    await waitOrExplain(page, 'section.fleet[data-cluster="single"]', { logs: hbd.logs });
    await waitOrExplain(page, '.row[data-host="web1"]', { logs: hbd.logs });
    expect(await page.locator('.cluster').count()).toBe(0);
    expect(await page.locator('.b-node').count()).toBe(0);
    // A single node is asked once per visit, not polled.
    expect(requests.count).toBe(1);
    expect(problems).toEqual([]);
  });
});

describe('the cluster panel on a cluster node', () => {
  let postgres: PgServer | undefined;
  let hbd: TestDaemon | undefined;
  let page: Page;
  const problems: string[] = [];
  const missing = postgresMissing();

  beforeAll(async () => {
    if (missing) return;
    postgres = await startPostgres();
    const store = await postgres.createDatabase();
    hbd = await startTestDaemon({ store, cluster: { node: 'a', lease: 2 } });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    watch(page, problems);
    recordTraffic(page);
  }, 120_000);

  afterAll(async () => {
    await page?.close();
    await hbd?.stop();
    await postgres?.destroy();
  });

  it('lists node a as the leader, up, and as the node the page is on', SLOW, async (context) => {
    if (missing || !hbd) return context.skip(missing);
    const node = page.locator('.cluster .cluster-node[data-node="a"]');
    await page.goto(hbd.url('/'));
    await waitOrExplain(page, 'section.fleet[data-cluster="node"]', { logs: hbd.logs });
    await waitOrExplain(page, '.cluster .cluster-node[data-node="a"][data-leader="true"]', {
      timeout: 30_000,
      logs: hbd.logs,
    });
    expect(await node.getAttribute('data-state')).toBe('up');
    expect(await node.getAttribute('aria-current')).toBe('true');
    const text = (await node.textContent()) ?? '';
    expect(text).toContain('up');
    expect(text).toContain('leader');
    expect(text).toContain('this node');
    expect(text).toMatch(/seen \d+s ago/);
    expect(await page.locator('.cluster').getAttribute('data-node')).toBe('a');
    expect(await page.locator('.cluster-node').count()).toBe(1);
    expect(problems).toEqual([]);
  });

  it('marks the node host in the fleet, and asks the node again every few seconds', SLOW, async (context) => {
    if (missing || !hbd) return context.skip(missing);
    const requests = countClusterRequests(page);
    await page.goto(hbd.url('/'));
    await waitOrExplain(page, '.row[data-host="hbd-node-a"] .b-node', { logs: hbd.logs });
    const nodeHost = page.locator('.row[data-host="hbd-node-a"]');
    expect(await nodeHost.locator('.badge[data-state]').getAttribute('data-state')).toBe('up');
    // Polled, not asked once: the panel follows a leader change without a reload.
    await eventually(() => requests.count >= 3, 30_000);
    expect(await page.locator('.cluster-node[data-node="a"]').getAttribute('data-state')).toBe('up');
    expect(problems).toEqual([]);
  });
});
