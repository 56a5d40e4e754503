// The operator page in a real chromium against a real seamark process and
// the real Docker engine: what an operator sees and does, checked in the
// page and with dig.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { dig } from '../helpers/dig.js';
import { seamarkForSuite } from '../helpers/seamark.js';
import { api, digAddresses } from '../http/client.js';
import { describeWithDocker, docker, IMAGE } from '../docker/engine.js';
import { launchBrowser, rowsMatching, unexpectedErrors, waitForRows, type Browser } from './browser.js';

describeWithDocker('the operator page', 'ui', {}, (prefix) => {
  const seamark = seamarkForSuite({ config: { hosts: [{ names: ['static-web', 'static-www'], addresses: ['10.90.1.1'] }] } });
  let browser: Browser;
  let page: Page;
  before(async () => {
    await api(seamark.httpPort, 'PUT', '/v1/records/made-before', { names: ['made-before'], addresses: ['10.90.1.2'], lease: 600 });
    browser = await launchBrowser();
    page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${seamark.httpPort}/`, { waitUntil: 'domcontentloaded', timeout: 60000 });
  });
  after(async () => {
    await browser?.close();
  });

  it('lists the names that exist, with their source', async () => {
    const rows = await waitForRows(page, 'static-w', (r) => r.length === 2, 'the configured names');
    assert.deepEqual(rows.map((r) => r.slice(0, 5)), [
      ['static-web.docker', 'A', '10.90.1.1', 'configuration', 'healthy'],
      ['static-www.docker', 'A', '10.90.1.1', 'configuration', 'healthy'],
    ]);
    const [made] = await waitForRows(page, 'made-before', (r) => r.length === 1 && r[0]?.[6] !== '', 'the hand-made record with its lease');
    assert.equal(made?.[3], 'hand-made made-before');
    assert.ok(!Number.isNaN(Date.parse(new Date(made?.[6] ?? '').toString())), `a lease expiry: ${made?.[6]}`);
  });

  it('shows a container that starts, live, with its network, and drops it when it stops', async () => {
    const name = `${prefix}live`;
    await rowsMatching(page, name);
    await docker('run', '-d', '--name', name, IMAGE, 'sleep', '300');
    const rows = await waitForRows(page, name, (r) => r.some((row) => row[0] === `${name}.docker`), 'the container on the page');
    const row = rows.find((r) => r[0] === `${name}.docker`);
    assert.equal(row?.[1], 'A');
    assert.equal(row?.[3], `container ${name} on bridge`);
    assert.equal(row?.[2], await docker('inspect', '-f', '{{.NetworkSettings.Networks.bridge.IPAddress}}', name));
    await docker('rm', '-f', name);
    await waitForRows(page, name, (r) => r.length === 0, 'the container to leave the page');
  });

  it('adds a record through the form that dig then answers', async () => {
    await page.fill('#record-id', 'from-page');
    await page.fill('#record-names', 'from-page, alias-page');
    await page.fill('#record-addresses', '10.90.2.1 fd00::90:2:1');
    await page.fill('#record-ttl', '120');
    await page.click('#record-submit');
    await page.waitForSelector('#record-done:has-text("Saved from-page")');
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'alias-page.docker'), ['10.90.2.1']);
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'from-page.docker', 'AAAA'), ['fd00::90:2:1']);
    const rows = await waitForRows(page, 'from-page.docker', (r) => r.length === 2, 'the new record in the table');
    assert.deepEqual(rows.map((r) => r.slice(0, 6)), [
      ['from-page.docker', 'A', '10.90.2.1', 'hand-made from-page', 'healthy', '120'],
      ['from-page.docker', 'AAAA', 'fd00::90:2:1', 'hand-made from-page', 'healthy', '120'],
    ]);
  });

  it('shows the API’s 400 beside the field it names and stores nothing', async () => {
    await page.click('#record-new');
    await page.fill('#record-id', 'invalid-one');
    await page.fill('#record-names', 'invalid-one');
    await page.fill('#record-addresses', '10.90.3.1, 10.0.0.256');
    await page.click('#record-submit');
    const refused = await api(seamark.httpPort, 'PUT', '/v1/records/invalid-one', { names: ['invalid-one'], addresses: ['10.90.3.1', '10.0.0.256'] });
    assert.equal(refused.status, 400);
    await page.waitForSelector('#record-addresses-error:not(:empty)');
    assert.equal(await page.textContent('#record-addresses-error'), refused.body.message);
    assert.equal(await page.getAttribute('#record-addresses', 'aria-invalid'), 'true');
    assert.equal(await page.textContent('#record-names-error'), '');
    assert.equal((await api(seamark.httpPort, 'GET', '/v1/records/invalid-one')).status, 404);
    assert.equal((await dig(seamark.dnsPort, 'invalid-one.docker', 'A')).status, 'NXDOMAIN');

    // A TTL that is not a number goes as typed, and the API's word comes back beside it.
    await page.fill('#record-addresses', '10.90.3.1');
    await page.fill('#record-ttl', 'soon');
    await page.click('#record-submit');
    await page.waitForSelector('#record-ttl-error:not(:empty)');
    assert.match((await page.textContent('#record-ttl-error')) ?? '', /^ttl: /);
    assert.equal(await page.textContent('#record-addresses-error'), '');
    await page.click('#record-new');
  });

  it('looks a name up and shows it as dig would, with where each record comes from', async () => {
    await page.fill('#lookup-name', 'from-page');
    await page.selectOption('#lookup-type', 'AAAA');
    await page.click('#lookup-form button[type=submit]');
    await page.waitForSelector('#lookup-output:has-text("ANSWER SECTION")');
    const text = (await page.textContent('#lookup-output')) ?? '';
    assert.match(text, /status: NOERROR/);
    assert.match(text, /from-page\.docker\.\t120\tIN\tAAAA\tfd00::90:2:1\t; manual:from-page/);
  });

  it('deletes a record: gone from the page and from DNS', async () => {
    await waitForRows(page, 'from-page.docker', (r) => r.length === 2, 'the record');
    const remove = page.locator('#names-body button[data-action=delete][data-record=from-page]').first();
    await remove.click();
    assert.equal(await remove.textContent(), 'Really delete?');
    assert.equal((await api(seamark.httpPort, 'GET', '/v1/records/from-page')).status, 200, 'one click deletes nothing');
    await remove.click();
    await waitForRows(page, 'from-page', (r) => r.length === 0, 'the record (both names) to leave the page');
    assert.equal((await dig(seamark.dnsPort, 'from-page.docker', 'A')).status, 'NXDOMAIN');
    assert.equal((await api(seamark.httpPort, 'GET', '/v1/records/from-page')).status, 404);
  });

  it('logs no console errors', () => {
    assert.deepEqual(unexpectedErrors(browser, [/\/v1\/records\/invalid-one$/]), []);
  });
});

describe('the operator page with a token', () => {
  const TOKEN = 'page-test-token-0123456789';
  const seamark = seamarkForSuite({ config: { docker: 'off' }, env: { SEAMARK_TOKEN: TOKEN } });
  let browser: Browser;
  let page: Page;
  before(async () => {
    browser = await launchBrowser();
    page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${seamark.httpPort}/ui/`, { waitUntil: 'domcontentloaded', timeout: 60000 });
  });
  after(async () => {
    await browser?.close();
  });

  it('asks for the token on a write, refuses a wrong one, and sends the right one as a bearer header', async () => {
    await page.fill('#record-id', 'guarded');
    await page.fill('#record-names', 'guarded');
    await page.fill('#record-addresses', '10.91.0.1');
    await page.click('#record-submit');
    await page.waitForSelector('#token-dialog[open]');
    assert.match((await page.textContent('#token-reason')) ?? '', /Authorization: Bearer/);

    await page.fill('#token-input', 'wrong');
    await page.click('#token-form button[type=submit]');
    await page.waitForSelector('#token-dialog[open] >> text=the bearer token is wrong');
    assert.equal((await api(seamark.httpPort, 'GET', '/v1/records/guarded')).status, 404, 'nothing stored without the right token');

    const authorizations: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'PUT') authorizations.push(request.headers().authorization ?? '');
    });
    await page.fill('#token-input', TOKEN);
    await page.click('#token-form button[type=submit]');
    await page.waitForSelector('#record-done:has-text("Saved guarded")');
    assert.deepEqual(authorizations, [`Bearer ${TOKEN}`]);
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'guarded.docker'), ['10.91.0.1']);
    assert.equal(await page.evaluate('sessionStorage.getItem("seamark.token")'), TOKEN);
    assert.deepEqual(await page.context().cookies(), [], 'no cookies');
  });

  it('keeps the live view going with the token (the stream is read with fetch and the bearer header)', async () => {
    const streams: string[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/v1/events')) streams.push(request.headers().authorization ?? '');
    });
    await page.reload();
    await waitForRows(page, 'guarded', (r) => r.length === 1, 'the record after a reload');
    assert.deepEqual(streams, [`Bearer ${TOKEN}`]);
    await api(seamark.httpPort, 'PUT', '/v1/records/later', { names: ['later'], addresses: ['10.91.0.2'] }, TOKEN);
    await waitForRows(page, 'later', (r) => r.length === 1, 'a record added elsewhere to appear live');
  });

  it('sends a strict Content-Security-Policy and logs no console errors', async () => {
    const response = await fetch(`http://127.0.0.1:${seamark.httpPort}/`);
    const policy = response.headers.get('content-security-policy') ?? '';
    assert.match(policy, /default-src 'none'/);
    assert.match(policy, /script-src 'self'/);
    assert.match(policy, /connect-src 'self'/);
    assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval|https?:/);
    assert.deepEqual(unexpectedErrors(browser, [/\/v1\/records\/guarded$/]), []);
  });
});
