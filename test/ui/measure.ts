// Measures the operator page with 10,000 names in Debian's chromium:
// time to first render, and the time from a burst of 1,000 registry changes
// to the page having applied and drawn them. Figures for the README, not
// assertions: `npm run build && node dist/test/ui/measure.js [--runs 5]`.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { Page } from 'playwright-core';
import { startSeamark } from '../../src/app.js';
import { loadConfig, parseCommandLine } from '../../src/config/load.js';
import type { Instance } from '../../src/registry/instance.js';
import { freePort } from '../helpers/seamark.js';
import { launchBrowser } from './browser.js';

const NAMES = 10000;
const BURST = 1000;

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);

const hosts = Array.from({ length: NAMES }, (_, i) => ({ names: [`host-${i}`], addresses: [`10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`] }));
const dnsPort = await freePort();
const httpPort = await freePort();
const dir = mkdtempSync(join(tmpdir(), 'seamark-measure-'));
const configFile = join(dir, 'seamark.json');
writeFileSync(configFile, JSON.stringify({ docker: 'off', dns: [`127.0.0.1:${dnsPort}`], http: `127.0.0.1:${httpPort}`, dataDir: join(dir, 'data'), hosts }));
const { config } = loadConfig(parseCommandLine(['--config', configFile]), {});
// In this process, so the burst is 1,000 real registry changes at once, sent by the real /v1/events.
const seamark = await startSeamark(config, pino({ level: 'warn' }));
const browser = await launchBrowser();
const page = await browser.newPage();

/** Epoch milliseconds at which the page drew generation `generation` (or a later one). */
async function renderedAt(page: Page, generation: number): Promise<number> {
  const handle = await page.waitForFunction(
    (wanted) => {
      const marks = performance.getEntriesByName('seamark:rendered') as unknown as { startTime: number; detail: unknown }[];
      const mark = marks.find((m) => (m.detail as { generation: number }).generation >= wanted);
      return mark === undefined ? false : performance.timeOrigin + mark.startTime;
    },
    generation,
    { timeout: 60000, polling: 50 },
  );
  return (await handle.jsonValue()) as number;
}

const firstRenders: number[] = [];
const bursts: number[] = [];
for (let run = 0; run < runs; run++) {
  await page.goto(`http://127.0.0.1:${httpPort}/`, { waitUntil: 'domcontentloaded' });
  const firstRender = await page.waitForFunction(
    () => (performance.getEntriesByName('seamark:first-render')[0] as { startTime: number } | undefined)?.startTime ?? false,
    undefined,
    { timeout: 60000, polling: 20 },
  );
  firstRenders.push((await firstRender.jsonValue()) as number);
  const rows = await page.$$eval('#names-body tr:not(.spacer)', (r) => r.length);
  if (rows === 0) throw new Error('the page drew no rows');

  // Half new instances, half existing ones turning unhealthy: 1,000 events in one go.
  await page.waitForTimeout(500);
  const sentAt = Date.now();
  for (let i = 0; i < BURST; i++) {
    const instance: Instance =
      i % 2 === 0
        ? { owner: `manual:burst-${run}-${i}`, source: 'manual', names: [`burst-${run}-${i}.docker`], addresses: ['10.99.0.1'], srv: [], healthy: true }
        : { ...(seamark.registry.get(`config:host-${i}.docker`) as Instance), healthy: run % 2 === 1 };
    seamark.registry.upsert(instance);
  }
  bursts.push((await renderedAt(page, seamark.registry.generation)) - sentAt);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const format = (xs: number[]) => `median ${median(xs).toFixed(0)} ms (runs: ${xs.map((x) => x.toFixed(0)).join(', ')})`;
const version = browser.context.browser()?.version() ?? 'chromium';
console.log(`operator page, ${NAMES} names (${(await page.$eval('#names-count', (e) => e.textContent)) ?? ''} rows), chromium ${version}, headless`);
console.log(`- first render (navigation → rows drawn, snapshot included): ${format(firstRenders)}`);
console.log(`- burst of ${BURST} events (registry change → rows drawn): ${format(bursts)}`);
if (browser.errors.length > 0) console.log(`console errors: ${JSON.stringify(browser.errors)}`);
await browser.close();
await seamark.stop();
process.exit(0);
