import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

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
