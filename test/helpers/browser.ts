/**
 * Drives Debian's chromium with playwright-core for the HTML report tests (never a downloaded
 * browser). One persistent context with a fresh profile directory per test file; every request a
 * page makes is recorded and, unless it is the page's own file, aborted; CSP violations and page
 * errors are recorded too, so a test can assert that nothing left the page and nothing broke.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserSkipReason(what: string): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const reason = `${what}: skipped, ${CHROMIUM} is absent (apt-get install chromium)`;
  console.warn(reason);
  return reason;
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'lpa-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  return {
    context,
    close: async () => {
      current = undefined;
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface OpenedPage {
  page: Page;
  /** Every URL the page asked for besides its own file. */
  requests: string[];
  /** Console messages that report a Content-Security-Policy violation, and uncaught errors. */
  violations: string[];
  errors: string[];
  dialogs: string[];
}

let current: { page: Page; self: string; opened: OpenedPage } | undefined;

/**
 * Opens a report in the browser's one tab (a new tab costs more than a navigation on a loaded
 * machine): what the previous page recorded is reset, and the new page is ready once its script ran.
 */
export async function openReport(browser: Browser, file: string): Promise<OpenedPage> {
  if (current === undefined) {
    const page = await browser.context.newPage();
    const state = {
      page,
      self: '',
      opened: { page, requests: [], violations: [], errors: [], dialogs: [] } as OpenedPage,
    };
    current = state;
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url === state.self) return route.continue();
      state.opened.requests.push(url);
      return route.abort();
    });
    page.on('console', (m) => {
      if (/Content.Security.Policy/i.test(m.text())) state.opened.violations.push(m.text());
    });
    page.on('pageerror', (e) => state.opened.errors.push(e.message));
    page.on('dialog', (d) => {
      state.opened.dialogs.push(d.message());
      void d.dismiss();
    });
  }
  const state = current;
  state.self = `file://${file}`;
  state.opened = { page: state.page, requests: [], violations: [], errors: [], dialogs: [] };
  await state.page.goto(state.self);
  await state.page.waitForSelector('html[data-ready="1"]', { timeout: 30_000 });
  return state.opened;
}
