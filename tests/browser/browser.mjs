// Headless Chromium for the page tests: Debian's /usr/bin/chromium driven by playwright-core (no downloaded browsers).
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The folder this run writes its screenshots to: $SCREENSHOT_DIR, or screenshots/<run time> beside the tests. */
export const screenshotDir = process.env.SCREENSHOT_DIR
  ?? path.join(here, 'screenshots', new Date().toISOString().replace(/[:.]/g, '-'));
mkdirSync(screenshotDir, { recursive: true });

export async function launchBrowser() {
  const profile = mkdtempSync(path.join(tmpdir(), 'hub-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-background-timer-throttling',
      '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows'],
  });
  return {
    context,
    /** Opens a page (waiting until its script has set it up) that records console errors and uncaught exceptions in
     * page.problems. */
    async open(url, viewport) {
      const page = await context.newPage();
      if (viewport) await page.setViewportSize(viewport);
      page.problems = [];
      page.on('console', m => { if (m.type() === 'error') page.problems.push(`console: ${m.text()}`); });
      page.on('pageerror', e => page.problems.push(`page error: ${e.message}`));
      await page.goto(url);
      await page.locator('body[data-ready="true"]').waitFor({ timeout: 15_000 });
      return page;
    },
    async screenshot(page, name) {
      const file = path.join(screenshotDir, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
