import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/passwords.js';
import { startDaemon } from '../../src/daemon/start.js';
import { launchBrowser, recordTraffic, waitOrExplain } from '../helpers/browser.js';
import { getJson, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

// The functions given to page.evaluate() run in Chromium, but this file is compiled for Node,
// without the DOM's types: these declare the little of the browser they use, for this file only.
interface PageElement {
  textContent: string | null;
  scrollWidth: number;
  clientWidth: number;
}
declare const window: Record<string, unknown>;
declare const document: {
  documentElement: PageElement;
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
  addEventListener(type: 'keydown', listener: (event: { timeStamp: number }) => void, options: object): void;
};
declare function getComputedStyle(element: PageElement): { backgroundColor: string };
declare function requestAnimationFrame(callback: (time: number) => void): number;
declare const PerformanceObserver: new (
  callback: (list: { getEntries(): { startTime: number; duration: number }[] }) => void,
) => { observe(options: { type: string; buffered: boolean }): void };

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ARTIFACTS = `${ROOT}test-artifacts/`;
const API_TOKEN = 'dashboard-test-token-0123456789';
const SLOW = { timeout: 90_000 };

let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

/** Page errors and refused resources (a CSP violation is one): the dashboard must cause none. */
function watch(page: Page, problems: string[]): void {
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource|WebSocket connection/.test(message.text())) {
      problems.push(`console: ${message.text()}`);
    }
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for `host`'s row; if it never shows, the error says what the page showed instead. */
async function showsFleet(page: Page, host: string): Promise<void> {
  try {
    await page.locator(`.row[data-host="${host}"]`).waitFor({ timeout: 20_000 });
  } catch (error) {
    const shown = await page
      .locator('body')
      .textContent({ timeout: 1000 })
      .catch(() => '(unreadable)');
    throw new Error(`no row for ${host} at ${page.url()}; the page showed: ${(shown ?? '').slice(0, 500)}`, {
      cause: error,
    });
  }
}

function stateOf(page: Page, host: string) {
  return page
    .locator(`.row[data-host="${host}"] .badge[data-state]`)
    .getAttribute('data-state', { timeout: 2000 });
}

function countOf(page: Page, key: string) {
  return page.locator(`.count[data-count="${key}"] .count-value`).textContent();
}

function shownHosts(page: Page) {
  return page
    .locator('.row[data-host]')
    .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-host')));
}

describe('the dashboard, live against a real hbd', () => {
  let hbd: TestDaemon;
  let page: Page;
  let beater: NodeJS.Timeout;
  const problems: string[] = [];
  const beating = new Set(['web1', 'web2', 'db1']);
  let rounds = 0;
  let web1Seq = 0;

  const beat = async () => {
    rounds++;
    // Every tenth heartbeat of web1 skips two seq numbers: its chart shows them lost.
    web1Seq += rounds % 10 === 0 ? 3 : 1;
    const lines: Record<string, string> = {
      web1: `host=web1 seq=${web1Seq} msg="serving 120 req/s" load=0.42`,
      web2: `host=web2 seq=${rounds} status=warn msg="disk 81% full"`,
      db1: `host=db1 seq=${rounds} status=fail msg="replication broken"`,
    };
    for (const host of beating) await hbd.send(lines[host]!).catch(() => {});
  };

  beforeAll(async () => {
    const port = await freePort();
    hbd = await startTestDaemon({ hbd_port: port, interval: 1, grace: 1, api_token: API_TOKEN });
    await hbd.send('host=gone1 status=bye msg="decommissioned"');
    await beat();
    beater = setInterval(beat, 250);
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    watch(page, problems);
  }, 60_000);

  afterAll(async () => {
    clearInterval(beater);
    await page?.close();
    await hbd?.stop();
  });

  it('shows every host with its state, counts per state and a ticking last seen', SLOW, async () => {
    await page.goto(hbd.url('/'));
    await showsFleet(page, 'gone1');
    expect(await stateOf(page, 'web1')).toBe('up');
    expect(await stateOf(page, 'gone1')).toBe('left');
    await expect.poll(() => countOf(page, 'all')).toBe('4');
    expect(await countOf(page, 'up')).toBe('3');
    expect(await countOf(page, 'left')).toBe('1');
    expect(await countOf(page, 'warn')).toBe('1');
    expect(await countOf(page, 'fail')).toBe('1');
    const web2 = page.locator('.row[data-host="web2"]');
    expect(await web2.locator('.msg').textContent()).toBe('warndisk 81% full');
    expect(await web2.locator('.addr').textContent()).toBe('127.0.0.1');

    // gone1 said bye and stays silent: its "last seen" grows with the page's one clock.
    const seen = page.locator('.row[data-host="gone1"] .seen');
    const before = await seen.textContent();
    await expect.poll(() => seen.textContent(), { timeout: 4000 }).not.toBe(before);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-fleet-light.png` });
  });

  it('turns a host that goes silent down without a reload, and up when it beats again', SLOW, async () => {
    await page.evaluate(() => {
      (window as unknown as { sameDocument: boolean }).sameDocument = true;
    });
    beating.delete('web2');
    await expect.poll(() => stateOf(page, 'web2'), { timeout: 8000 }).toBe('down');
    expect(await page.locator('.row[data-host="web2"]').getAttribute('class')).toContain('s-down');
    expect(await countOf(page, 'down')).toBe('1');
    beating.add('web2');
    await expect.poll(() => stateOf(page, 'web2'), { timeout: 5000 }).toBe('up');
    expect(await countOf(page, 'down')).toBe('0');
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(
      true,
    );
  });

  it('filters by text and by state', SLOW, async () => {
    await page.locator('input.filter').fill('db');
    await expect.poll(() => shownHosts(page)).toEqual(['db1']);
    await page.locator('input.filter').fill('disk full');
    await expect.poll(() => shownHosts(page)).toEqual(['web2']);
    await page.locator('input.filter').fill('');
    await page.locator('.count[data-count="left"]').click();
    await expect.poll(() => shownHosts(page)).toEqual(['gone1']);
    await page.locator('select.state-filter').selectOption('fail');
    await expect.poll(() => shownHosts(page)).toEqual(['db1']);
    await page.locator('select.state-filter').selectOption('all');
    await expect.poll(() => shownHosts(page)).toEqual(['db1', 'gone1', 'web1', 'web2']);
    await page.locator('select.sort').selectOption('state');
    await expect.poll(() => shownHosts(page)).toEqual(['db1', 'web2', 'web1', 'gone1']);
    await page.locator('select.sort').selectOption('name');
  });

  it("shows a host's fields, its heartbeats' timing and loss, uptime and events", SLOW, async () => {
    await page.locator('.row[data-host="web1"] a').click();
    expect(new URL(page.url()).hash).toBe('#/host/web1');
    await expect.poll(() => page.locator('dd[data-field="msg"]').textContent()).toBe('serving 120 req/s');
    expect(await page.locator('dd[data-field="addr"]').textContent()).toBe('127.0.0.1');
    expect(await page.locator('.fields').textContent()).toContain('load0.42');
    await expect.poll(() => page.locator('.beats-chart rect.gap').count()).toBeGreaterThan(10);
    await expect.poll(() => page.locator('.beats-chart circle.lost').count()).toBeGreaterThan(0);
    expect(await page.locator('.beats figcaption').textContent()).toMatch(/heartbeats; median gap 0\.2\d s/);
    await expect
      .poll(() => page.locator('[data-uptime="last day"] .uptime-value').textContent())
      .toBe('100 %');
    await expect
      .poll(() => page.locator('.events').textContent())
      .toContain('first heartbeat, from 127.0.0.1');
    await page.screenshot({ path: `${ARTIFACTS}dashboard-host-light.png`, fullPage: true });

    await page.emulateMedia({ colorScheme: 'dark' });
    const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    const [red, green, blue] = background.match(/\d+/g)!.map(Number);
    expect(red! + green! + blue!).toBeLessThan(3 * 60);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-host-dark.png`, fullPage: true });
    await page.goto(hbd.url('/#/'));
    await showsFleet(page, 'web1');
    await page.screenshot({ path: `${ARTIFACTS}dashboard-fleet-dark.png` });
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('silences a host with the API token, and lists the silence', SLOW, async () => {
    await page.goto(hbd.url('/#/host/db1'));
    await page.locator('button.silence-button').click();
    const form = page.locator('form.silence-form');
    expect(await form.locator('input[name="pattern"]').inputValue()).toBe('db1');
    await form.locator('input[name="duration"]').fill('2h');
    await form.locator('input[name="reason"]').fill('replica rebuild');
    await form.locator('input[name="token"]').fill('not-the-token-at-all');
    await form.locator('button[type="submit"]').click();
    await expect.poll(() => form.locator('.error-text').textContent()).toContain('The API token was refused');

    await form.locator('input[name="token"]').fill(API_TOKEN);
    await form.locator('button[type="submit"]').click();
    await expect.poll(() => form.locator('.ok-text').textContent()).toMatch(/^Silenced db1 until/);
    await page.locator('.silenced').waitFor();
    const { body } = await getJson<{ silences: { pattern: string; reason: string }[] }>(
      hbd.url('/api/silences'),
    );
    expect(body.silences).toEqual([expect.objectContaining({ pattern: 'db1', reason: 'replica rebuild' })]);

    await page.locator('a.tab[href="#/notify"]').click();
    await page.locator('.silence[data-pattern="db1"]').waitFor();
    expect(await page.locator('.silence[data-pattern="db1"]').textContent()).toContain('replica rebuild');
    await expect.poll(() => page.locator('.notify-page').textContent()).toContain('Waiting to be sent');
  });

  it('shows the event log live', SLOW, async () => {
    await page.locator('a.tab[href="#/events"]').click();
    await page.locator('.events .event').first().waitFor();
    expect(await page.locator('.events').textContent()).toContain('first heartbeat, from 127.0.0.1');
    const down = page.locator('.event', { hasText: 'no heartbeat for' });
    const before = await down.count();
    beating.delete('db1');
    await expect.poll(() => down.count(), { timeout: 8000 }).toBeGreaterThan(before);
    beating.add('db1');
  });

  it('fits a phone screen with no sideways scrolling', SLOW, async () => {
    const phone = await browser.newPage({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    watch(phone, problems);
    try {
      for (const path of ['/#/', '/#/host/web2', '/#/events', '/#/notify']) {
        await phone.goto(hbd.url(path));
        await phone.locator('.page').waitFor();
        await phone.waitForTimeout(300);
        const widths = await phone.evaluate(() => ({
          page: document.documentElement.scrollWidth,
          view: document.documentElement.clientWidth,
          rows: [...document.querySelectorAll('.rows, .page')].map(
            (element) => element.scrollWidth - element.clientWidth,
          ),
        }));
        expect(widths.page, path).toBeLessThanOrEqual(widths.view);
        expect(Math.max(0, ...widths.rows), path).toBe(0);
        if (path === '/#/') await phone.screenshot({ path: `${ARTIFACTS}dashboard-phone.png` });
      }
    } finally {
      await phone.close();
    }
  });

  it(
    'says it is disconnected while hbd is away and recovers when it is back on the same port',
    SLOW,
    async () => {
      // From a blank page, so this starts from a fresh load whatever the tests before left open.
      await page.goto('about:blank');
      await page.goto(hbd.url('/'));
      await showsFleet(page, 'web1');
      const banner = page.locator('#connection-banner');
      expect(await banner.count()).toBe(0);

      await hbd.daemon.stop();
      await banner.waitFor({ timeout: 5000 });
      expect(await banner.textContent()).toContain('Disconnected from hbd');

      hbd.daemon = await startDaemon(hbd.config, { log: pino({ level: 'silent' }) });
      await banner.waitFor({ state: 'detached', timeout: 10_000 });
      await expect.poll(() => stateOf(page, 'web1'), { timeout: 5000 }).toBe('up');
    },
  );

  it('caused no page error and no refused resource (the CSP holds)', () => {
    expect(problems).toEqual([]);
  });
});

describe('the dashboard when reading needs a login', () => {
  let hbd: TestDaemon;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    const password = await hashPassword('correct horse battery staple');
    hbd = await startTestDaemon({
      read_access: 'login',
      auth_users: { alice: { password, role: 'admin' } },
      api_token: API_TOKEN,
    });
    await hbd.send('host=web7 msg="behind the login"');
    page = await browser.newPage();
    watch(page, problems);
    recordTraffic(page);
  }, 60_000);

  afterAll(async () => {
    await page?.close();
    await hbd?.stop();
  });

  it('asks to log in, then shows the fleet; an admin silences without the API token', SLOW, async () => {
    await page.goto(hbd.url('/'));
    await waitOrExplain(page, 'form.login-form', { timeout: 30_000, logs: hbd.logs });
    const form = page.locator('form.login-form');
    await form.locator('input[name="user"]').fill('alice');
    await form.locator('input[name="password"]').fill('wrong password');
    await form.locator('button[type="submit"]').click();
    await expect.poll(() => form.locator('.error-text').textContent()).toBe('Wrong user name or password.');

    await form.locator('input[name="password"]').fill('correct horse battery staple');
    await form.locator('button[type="submit"]').click();
    await page.locator('.row[data-host="web7"]').waitFor();
    expect(await page.locator('.user-name').textContent()).toBe('alice (admin)');

    await page.goto(hbd.url('/#/host/web7'));
    await page.locator('button.silence-button').click();
    const silence = page.locator('form.silence-form');
    expect(await silence.locator('input[name="token"]').count()).toBe(0);
    await silence.locator('button[type="submit"]').click();
    await expect.poll(() => silence.locator('.ok-text').textContent()).toMatch(/^Silenced web7 until/);

    await page.locator('.user button').click();
    await form.waitFor();
    expect(problems.filter((problem) => !problem.includes('401'))).toEqual([]);
  });
});

describe('the dashboard with 10,000 hosts', () => {
  const HOSTS = 10_000;
  const STORM_PER_SECOND = 1000;
  const STORM_SECONDS = 10;
  let hbd: TestDaemon;
  const nameOf = (index: number) => `h${String(index).padStart(5, '0')}`;

  beforeAll(async () => {
    // Ten thousand new unsigned hosts in seconds: past the default new_hosts_per_minute.
    hbd = await startTestDaemon({ interval: 600, grace: 600, limits: { new_hosts_per_minute: 100_000 } });
    // A busy machine drops some datagrams on loopback: each round sends the ones still missing.
    const deadline = Date.now() + 45_000;
    while (hbd.daemon.hosts.count < HOSTS && Date.now() < deadline) {
      for (let index = 0; index < HOSTS; index++) {
        if (hbd.daemon.hosts.has(nameOf(index))) continue;
        await hbd.send(`host=${nameOf(index)} seq=1 msg="rack ${index % 40} ok"`);
        // The daemon reads its socket on this same event loop: let it, so the kernel buffer never fills.
        if (index % 200 === 199) await new Promise((resolve) => setImmediate(resolve));
      }
      await sleep(200);
    }
    expect(hbd.daemon.hosts.count).toBe(HOSTS);
    // Ten thousand first heartbeats are ten thousand events to store and route: let hbd finish
    // with them, so that what is measured is the page, not a daemon busy on the same event loop.
    await sleep(3000);
  }, 60_000);

  afterAll(async () => {
    await hbd?.stop();
  });

  it(`renders ${HOSTS} hosts in under a second and stays responsive under ${STORM_PER_SECOND} heartbeats/s`, {
    timeout: 120_000,
  }, async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const problems: string[] = [];
    watch(page, problems);
    await page.addInitScript(() => {
      const perf = {
        longTasks: [] as { start: number; duration: number }[],
        frames: [] as number[],
        recording: false,
      };
      (window as unknown as { hbdPerf: typeof perf }).hbdPerf = perf;
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries())
          perf.longTasks.push({ start: entry.startTime, duration: entry.duration });
      }).observe({ type: 'longtask', buffered: true });
      const frame = (time: number) => {
        if (perf.recording) perf.frames.push(time);
        requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
    });

    await page.goto(hbd.url('/'));
    await page.waitForFunction(() => performance.getEntriesByName('hbd:fleet-rendered').length > 0, null, {
      timeout: 30_000,
    });
    expect(await countOf(page, 'all')).toBe(String(HOSTS));
    expect(await countOf(page, 'up')).toBe(String(HOSTS));
    const load = await page.evaluate(() => {
      const at = (name: string) => performance.getEntriesByName(name)[0]!.startTime;
      const navigation = performance
        .getEntries()
        .find((entry) => String(entry.entryType) === 'navigation') as unknown as {
        responseEnd: number;
        domContentLoadedEventEnd: number;
      };
      return {
        // Where the time goes, in ms since navigation started.
        timeline: {
          html: Math.round(navigation.responseEnd),
          domContentLoaded: Math.round(navigation.domContentLoadedEventEnd),
          snapshotReceived: Math.round(at('hbd:snapshot-received')),
          snapshotParsed: Math.round(at('hbd:snapshot-parsed')),
          snapshotApplied: Math.round(at('hbd:snapshot-applied')),
          fleetRendered: Math.round(at('hbd:fleet-rendered')),
        },
        snapshotReceived: at('hbd:snapshot-received'),
        fleetRendered: at('hbd:fleet-rendered'),
        rowsInDom: document.querySelectorAll('.row[data-host]').length,
        longestTaskMs: Math.max(
          0,
          ...(window as unknown as { hbdPerf: { longTasks: { duration: number }[] } }).hbdPerf.longTasks.map(
            (task) => task.duration,
          ),
        ),
      };
    });
    await page.screenshot({ path: `${ARTIFACTS}dashboard-fleet-10000.png` });

    const stormStart = await page.evaluate(() => {
      (window as unknown as { hbdPerf: { recording: boolean } }).hbdPerf.recording = true;
      return performance.now();
    });
    let sent = 0;
    const storm = (async () => {
      const started = Date.now();
      const perTick = STORM_PER_SECOND / 10;
      for (let tick = 0; tick < STORM_SECONDS * 10; tick++) {
        for (let i = 0; i < perTick; i++) {
          const index = (tick * perTick + i) % HOSTS;
          await hbd.send(`host=${nameOf(index)} seq=2 msg="rack ${index % 40} busy ${tick}"`);
          sent++;
        }
        await sleep(Math.max(0, started + (tick + 1) * 100 - Date.now()));
      }
    })();

    await sleep(3000);
    await page.evaluate(() => {
      const keys: number[] = [];
      (window as unknown as { hbdKeys: number[] }).hbdKeys = keys;
      document.addEventListener('keydown', (event) => keys.push(event.timeStamp), { capture: true });
    });
    await page.locator('input.filter').focus();
    const inputLatencies: number[] = [];
    for (const key of ['7', '3', 'Backspace', 'Backspace']) {
      await page.keyboard.press(key);
      const latency = await page.waitForFunction(
        () => {
          const keys = (window as unknown as { hbdKeys: number[] }).hbdKeys;
          const pressed = keys[keys.length - 1]!;
          const mark = performance
            .getEntriesByName('hbd:filter-rendered')
            .find((entry) => entry.startTime > pressed);
          return mark ? mark.startTime - pressed : false;
        },
        null,
        { timeout: 10_000 },
      );
      inputLatencies.push(Math.round((await latency.jsonValue()) as number));
      await sleep(500);
    }
    await storm;
    await sleep(1000);

    const during = await page.evaluate((start) => {
      const perf = (
        window as unknown as {
          hbdPerf: { longTasks: { start: number; duration: number }[]; frames: number[] };
        }
      ).hbdPerf;
      const gaps = perf.frames.slice(1).map((time, index) => time - perf.frames[index]!);
      return {
        frames: perf.frames.length,
        longestFrameGapMs: Math.round(Math.max(0, ...gaps)),
        frameGapsOver50Ms: gaps.filter((gap) => gap > 50).length,
        longTasks: perf.longTasks.filter((task) => task.start >= start).length,
        longestTaskMs: Math.round(
          Math.max(0, ...perf.longTasks.filter((task) => task.start >= start).map((task) => task.duration)),
        ),
      };
    }, stormStart);
    const freshest = await page.evaluate(() =>
      [...document.querySelectorAll('.row[data-host] .msg')].some((msg) => msg.textContent?.includes('busy')),
    );

    const report = {
      hosts: HOSTS,
      load: {
        snapshotToRenderedMs: Math.round(load.fleetRendered - load.snapshotReceived),
        navigationToRenderedMs: Math.round(load.fleetRendered),
        rowsInDom: load.rowsInDom,
        longestTaskMs: Math.round(load.longestTaskMs),
        timeline: load.timeline,
      },
      storm: {
        heartbeatsSent: sent,
        seconds: STORM_SECONDS,
        ...during,
        filterInputLatencyMs: inputLatencies,
      },
    };
    writeFileSync(`${ARTIFACTS}dashboard-perf.json`, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`dashboard performance: ${JSON.stringify(report)}`);

    expect(report.load.snapshotToRenderedMs).toBeLessThan(1000);
    expect(load.rowsInDom).toBeLessThan(100);
    expect(sent).toBe(STORM_PER_SECOND * STORM_SECONDS);
    expect(freshest).toBe(true);
    // The page's own work: no task on its main thread may hold it for long.
    expect(during.longestTaskMs).toBeLessThan(200);
    // A frame gap also counts time the machine gave to other processes (the suite runs its
    // files side by side, on as few as 2 cores), so its bound leaves room for that.
    expect(during.longestFrameGapMs).toBeLessThan(500);
    expect(Math.max(...inputLatencies)).toBeLessThan(200);
    expect(await countOf(page, 'all')).toBe(String(HOSTS));
    expect(problems).toEqual([]);
    await page.close();
  });
});
