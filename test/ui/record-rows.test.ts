// The operator page in a real chromium: a wildcard name, a hand-made alias and TXT strings each have their rows,
// live from /v1/events.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { startSeamark, type RunningSeamark } from '../helpers/seamark.js';
import { api, waitUntil } from '../http/client.js';
import { openOperatorPage, rowsMatching, type Browser } from './browser.js';

describe('the operator page: wildcard, CNAME and TXT rows', () => {
  let seamark: RunningSeamark;
  let browser: Browser;
  let page: Page;
  before(async () => {
    seamark = await startSeamark({ config: { docker: 'off' } });
    for (const [id, body] of [
      ['preview', { names: ['preview-proxy', '*.preview'], addresses: ['10.91.0.9'] }],
      ['db1', { names: ['db1'], addresses: ['10.91.0.5'], txt: ['v=spf1 -all'] }],
      ['db', { names: ['db'], cname: 'db1.prod.example.com' }],
    ] as const) {
      const put = await api(seamark.httpPort, 'PUT', `/v1/records/${id}`, body);
      assert.ok(put.status < 300, put.text);
    }
    ({ browser, page } = await openOperatorPage(seamark.httpPort));
  });
  after(async () => {
    await browser?.close();
    await seamark?.stop();
  });

  it('shows the wildcard under its own name, found by the word "wildcard" too', async () => {
    let rows: string[][] = [];
    await waitUntil(async () => (rows = await rowsMatching(page, 'wildcard')).length === 1, 15000, 'the wildcard row');
    assert.deepEqual(rows[0]?.slice(0, 4), ['*.preview.docker', 'A', '10.91.0.9', 'hand-made preview']);
  });

  it('shows an alias as a CNAME row with its target, and TXT strings as TXT rows', async () => {
    let rows: string[][] = [];
    await waitUntil(async () => (rows = await rowsMatching(page, 'db.docker cname')).length === 1, 15000, 'the CNAME row');
    assert.deepEqual(rows[0]?.slice(0, 4), ['db.docker', 'CNAME', '→ db1.prod.example.com', 'hand-made db']);
    rows = await rowsMatching(page, 'db1.docker');
    assert.deepEqual(rows.map((row) => row.slice(0, 3)), [
      ['db1.docker', 'A', '10.91.0.5'],
      ['db1.docker', 'TXT', '"v=spf1 -all"'],
    ]);
  });
});
