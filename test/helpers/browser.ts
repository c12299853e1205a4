import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's Chromium: no test tool downloads a browser of its own. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless Chromium for the dashboard tests. The dashboard they load is dist/web, which the
 * suite's global setup builds once from this tree (two files building it at once would race).
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `the dashboard tests drive ${CHROMIUM}: run ./scripts/install-test-deps.sh to install it`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking'],
  });
}

/** What each page asked of its server and how each request ended, the last ones kept. */
const traffic = new WeakMap<Page, string[]>();

/** Keeps the page's last requests, for `waitOrExplain` to show if the page never shows what a test waits for. */
export function recordTraffic(page: Page): void {
  const lines: string[] = [];
  traffic.set(page, lines);
  const keep = (line: string) => {
    lines.push(`${new Date().toISOString()} ${line}`);
    if (lines.length > 40) lines.shift();
  };
  page.on('request', (request) => keep(`asked ${request.method()} ${new URL(request.url()).pathname}`));
  page.on('response', (response) => keep(`${response.status()} ${new URL(response.url()).pathname}`));
  page.on('requestfailed', (request) =>
    keep(`failed ${new URL(request.url()).pathname}: ${request.failure()?.errorText ?? 'unknown'}`),
  );
}

/** A log line of the daemon the page talks to, as the test helpers collect them. */
interface LogLine {
  level?: unknown;
  msg?: unknown;
  err?: unknown;
}

/**
 * Waits for a selector; if it never shows, fails with what the page showed instead, its last
 * requests (with `recordTraffic`), and what the daemon logged at warn or above, so a failure
 * on a busy machine explains itself.
 */
export async function waitOrExplain(
  page: Page,
  selector: string,
  options: { timeout?: number; logs?: readonly LogLine[] } = {},
): Promise<void> {
  const timeout = options.timeout ?? 20_000;
  try {
    await page.locator(selector).waitFor({ timeout });
  } catch (error) {
    const shown = await page
      .locator('#app')
      .innerHTML({ timeout: 1000 })
      .catch((reason: Error) => `(unreadable: ${reason.message})`);
    const logged = (options.logs ?? [])
      .filter((line) => Number(line.level) >= 40)
      .map((line) => `${String(line.msg)} ${line.err ? JSON.stringify(line.err) : ''}`);
    throw new Error(
      [
        `${selector} did not show within ${timeout} ms on ${page.url()}.`,
        `The page showed:\n${shown.slice(0, 2000)}`,
        `The page's requests:\n${(traffic.get(page) ?? ['(not recorded)']).join('\n')}`,
        `The server logged:\n${logged.join('\n')}`,
      ].join('\n'),
      { cause: error },
    );
  }
}
