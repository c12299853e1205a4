import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchBrowser, recordTraffic, waitOrExplain } from '../helpers/browser.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

// A browser does not always paint: a busy machine draws the first frame late, and a tab that is
// covered or off screen may get no animation frames at all. The dashboard must still take in
// every answer it gets, however early it comes, and every frame of the live feed.

let browser: Browser;
let hbd: TestDaemon;

beforeAll(async () => {
  browser = await launchBrowser();
  hbd = await startTestDaemon();
  await hbd.send('host=web1 msg="first"');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await hbd?.stop();
});

/** A page on which requestAnimationFrame never calls back: a tab the browser gives no frames. */
async function framelessPage(): Promise<Page> {
  const page = await browser.newPage();
  await page.addInitScript('window.requestAnimationFrame = () => 0;');
  recordTraffic(page);
  return page;
}

it('loads and shows the fleet, then follows it live, with no animation frame at all', {
  timeout: 60_000,
}, async () => {
  const page = await framelessPage();
  try {
    for (let load = 0; load < 5; load++) {
      // Each load races the page's answers (session, snapshot) against its first paint.
      await page.goto(hbd.url('/'));
      await waitOrExplain(page, '.row[data-host="web1"]', { logs: hbd.logs });
    }
    await hbd.send('host=web2 msg="second"');
    await waitOrExplain(page, '.row[data-host="web2"]', { logs: hbd.logs });
    expect(await page.locator('.row[data-host]').count()).toBe(2);
  } finally {
    await page.close();
  }
});
