// Debian's chromium driven by playwright-core: headless, no browser download,
// a fresh profile each time, and every console error and page error kept.
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import { waitUntil } from '../http/client.js';

export const CHROMIUM = '/usr/bin/chromium';

export interface Browser {
  context: BrowserContext;
  /** Console errors and uncaught page errors, with the URL they came from. */
  errors: { text: string; url: string }[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** `args`: more chromium switches, e.g. `--host-resolver-rules=MAP evil.example 127.0.0.1` to give a test name an address. */
export async function launchBrowser(options: { args?: string[] } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; .ci/run does)`);
  const profile = mkdtempSync(join(tmpdir(), 'seamark-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...(options.args ?? []),
    ],
  });
  const errors: Browser['errors'] = [];
  const watch = (page: Page) => {
    page.on('console', (message: ConsoleMessage) => {
      if (message.type() === 'error') errors.push({ text: message.text(), url: message.location().url });
    });
    page.on('pageerror', (error) => errors.push({ text: `uncaught: ${error.message}`, url: page.url() }));
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  return {
    context,
    errors,
    newPage: () => context.newPage(),
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A browser with the operator page of the seamark on `httpPort` open in a new page. */
export async function openOperatorPage(httpPort: number): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchBrowser();
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${httpPort}/`, { waitUntil: 'domcontentloaded', timeout: 60000 });
  return { browser, page };
}

/** The rows the names table shows after filtering on `text`, as arrays of cell texts. */
export async function rowsMatching(page: Page, text: string): Promise<string[][]> {
  await page.fill('#filter', text);
  await page.waitForTimeout(50);
  return page.$$eval('#names-body tr:not(.spacer)', (rows) => rows.map((row) => [...row.children].map((cell) => cell.textContent ?? '')));
}

/** The rows shown for `filter` once `check` accepts them (the table follows /v1/events, so it may lag a write). */
export async function waitForRows(page: Page, filter: string, check: (rows: string[][]) => boolean, what: string): Promise<string[][]> {
  let rows: string[][] = [];
  await waitUntil(async () => check((rows = await rowsMatching(page, filter))), 15000, what);
  return rows;
}

/** Console errors, less the 4xx answers a test provoked on purpose (Chrome logs each as "Failed to load resource"). */
export function unexpectedErrors(browser: Browser, expected: RegExp[]): string[] {
  return browser.errors
    .filter((error) => !(/^Failed to load resource: the server responded with a status of 40[01]/.test(error.text) && expected.some((url) => url.test(error.url))))
    .map((error) => `${error.text} (${error.url})`);
}
