// The record form in a real chromium against a real seamark: a legacy host with TXT strings, TTL and lease, and an
// alias (CNAME) of it under a name and a wildcard, entered by keyboard; dig says what DNS answers, and a refused
// entry shows the API's own message beside the field it names.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { dig } from '../helpers/dig.js';
import { seamarkForSuite } from '../helpers/seamark.js';
import { api } from '../http/client.js';
import { openOperatorPage, unexpectedErrors, waitForRows, type Browser } from './browser.js';

/** The form's answer to a 400: the message beside `field`, the field marked and focused, the other messages empty. */
async function assertRefusedAt(page: Page, field: string, message: string): Promise<void> {
  await page.waitForSelector(`#record-${field}-error:not(:empty)`);
  assert.equal(await page.textContent(`#record-${field}-error`), message);
  assert.equal(await page.getAttribute(`#record-${field}`, 'aria-invalid'), 'true');
  assert.equal(await page.evaluate('document.activeElement?.id'), `record-${field}`);
  const others = await page.$$eval('#record-form .field-error', (elements, mine) => elements.filter((e) => e.id !== mine && e.textContent !== '').map((e) => e.id), `record-${field}-error`);
  assert.deepEqual(others, []);
}

async function assertNothingAdded(port: number, dnsPort: number, id: string): Promise<void> {
  assert.equal((await api(port, 'GET', `/v1/records/${id}`)).status, 404);
  assert.equal((await dig(dnsPort, `${id}.docker`, 'A')).status, 'NXDOMAIN');
}

describe('the record form: addresses or an alias, TXT strings, TTL and lease', () => {
  const seamark = seamarkForSuite({ config: { docker: 'off' } });
  let browser: Browser;
  let page: Page;
  before(async () => {
    // An alias whose target does not exist yet: an alias back to it would make a loop.
    const put = await api(seamark.httpPort, 'PUT', '/v1/records/pointer', { names: ['pointer'], cname: 'pointer-back' });
    assert.equal(put.status, 201, put.text);
    ({ browser, page } = await openOperatorPage(seamark.httpPort));
  });
  after(async () => {
    await browser?.close();
  });

  it('labels every control, and offers addresses or an alias as one labelled choice', async () => {
    // A control's own labels (<label for>, or around it), each with words in it.
    const unlabelled = await page.$$eval('#record-form :is(input, textarea, select)', (controls) =>
      controls
        .filter((control) => {
          const labels = Array.from((control as { labels?: ArrayLike<{ textContent: string | null }> | null }).labels ?? []);
          return labels.length === 0 || labels.some((label) => (label.textContent ?? '').trim() === '');
        })
        .map((control) => control.id),
    );
    assert.deepEqual(unlabelled, []);
    assert.equal(await page.textContent('#record-kind legend'), 'The names answer with');
    assert.equal(await page.isChecked('#record-kind-addresses'), true);
    assert.equal(await page.isVisible('#record-addresses'), true);
    assert.equal(await page.isVisible('#record-cname'), false);
  });

  it('adds a host with addresses, TXT strings (one a line), TTL and lease that dig answers', async () => {
    await page.fill('#record-id', 'legacy-db');
    await page.fill('#record-names', 'legacy-db');
    await page.fill('#record-addresses', '10.92.0.5');
    await page.fill('#record-txt', 'v=spf1 -all\nowner=ops, room 4\n');
    await page.fill('#record-ttl', '300');
    await page.fill('#record-lease', '3600');
    await page.click('#record-submit');
    await page.waitForSelector('#record-done:has-text("Saved legacy-db")');
    assert.equal(await page.textContent('#record-done'), 'Saved legacy-db: legacy-db.docker → 10.92.0.5, TXT "v=spf1 -all", TXT "owner=ops, room 4"');

    const txt = await dig(seamark.dnsPort, 'legacy-db.docker', 'TXT');
    assert.deepEqual(txt.answer.map((r) => [r.ttl, r.data]).sort(), [[300, '"owner=ops, room 4"'], [300, '"v=spf1 -all"']]);
    const stored = await api(seamark.httpPort, 'GET', '/v1/records/legacy-db');
    assert.equal(stored.body.lease, 3600);

    const rows = await waitForRows(page, 'legacy-db.docker', (r) => r.length === 3 && r.every((row) => row[6] !== ''), 'the host, its TXT rows and its lease');
    assert.deepEqual(rows.map((r) => r.slice(0, 6)), [
      ['legacy-db.docker', 'A', '10.92.0.5', 'hand-made legacy-db', 'healthy', '300'],
      ['legacy-db.docker', 'TXT', '"v=spf1 -all"', 'hand-made legacy-db', 'healthy', '300'],
      ['legacy-db.docker', 'TXT', '"owner=ops, room 4"', 'hand-made legacy-db', 'healthy', '300'],
    ]);
  });

  it('adds an alias under a name and a wildcard by keyboard alone: dig answers the CNAME and the target’s A', async () => {
    await page.focus('#record-id');
    await page.keyboard.type('db');
    await page.keyboard.press('Tab');
    await page.keyboard.type('db *.db');
    await page.keyboard.press('Tab'); // into the choice, on the checked radio
    await page.keyboard.press('ArrowDown'); // the alias
    assert.equal(await page.isChecked('#record-kind-cname'), true);
    await page.keyboard.press('Tab'); // the address field is hidden: straight to the alias's target
    assert.equal(await page.evaluate('document.activeElement?.id'), 'record-cname');
    await page.keyboard.type('legacy-db');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#record-done:has-text("Saved db")');
    assert.equal(await page.textContent('#record-done'), 'Saved db: db.docker, *.db.docker → alias of legacy-db.docker');
    assert.equal(await page.isChecked('#record-kind-addresses'), true, 'the form is ready for the next record');

    for (const name of ['db.docker', 'replica.db.docker']) {
      const answer = await dig(seamark.dnsPort, name, 'A');
      assert.deepEqual(answer.answer.map((r) => [r.name, r.type, r.data]), [
        [`${name}.`, 'CNAME', 'legacy-db.docker.'],
        ['legacy-db.docker.', 'A', '10.92.0.5'],
      ]);
    }
    const rows = await waitForRows(page, 'cname legacy-db.docker', (r) => r.length === 2, 'the alias rows');
    assert.deepEqual(rows.map((r) => r.slice(0, 4)), [
      ['*.db.docker', 'CNAME', '→ legacy-db.docker', 'hand-made db'],
      ['db.docker', 'CNAME', '→ legacy-db.docker', 'hand-made db'],
    ]);
  });

  it('shows the API’s refusal of a loop of aliases beside the alias’s target and adds nothing', async () => {
    await page.fill('#record-id', 'pointer-back');
    await page.fill('#record-names', 'pointer-back');
    await page.check('#record-kind-cname');
    await page.fill('#record-cname', 'pointer');
    await page.click('#record-submit');
    const refused = await api(seamark.httpPort, 'PUT', '/v1/records/pointer-back', { names: ['pointer-back'], cname: 'pointer' });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.field, 'cname');
    await assertRefusedAt(page, 'cname', refused.body.message);
    assert.match(refused.body.message, /loop/);
    await assertNothingAdded(seamark.httpPort, seamark.dnsPort, 'pointer-back');
  });

  it('shows the refusal of an alias with TXT strings, then of an overlong TXT string, beside the field each names', async () => {
    await page.fill('#record-id', 'mail');
    await page.fill('#record-names', 'mail');
    await page.fill('#record-cname', 'legacy-db');
    await page.fill('#record-txt', 'v=spf1 -all');
    await page.click('#record-submit');
    const refused = await api(seamark.httpPort, 'PUT', '/v1/records/mail', { names: ['mail'], cname: 'legacy-db', txt: ['v=spf1 -all'] });
    assert.equal(refused.status, 400);
    await assertRefusedAt(page, 'cname', refused.body.message);
    assert.match(refused.body.message, /leave out txt/);

    // Back to addresses: the alias field and its message leave with the choice.
    await page.check('#record-kind-addresses');
    await page.fill('#record-addresses', '10.92.0.9');
    await page.fill('#record-txt', `ok\n${'x'.repeat(5000)}`);
    await page.click('#record-submit');
    const long = await api(seamark.httpPort, 'PUT', '/v1/records/mail', { names: ['mail'], addresses: ['10.92.0.9'], txt: ['ok', 'x'.repeat(5000)] });
    assert.equal(long.body.field, 'txt[1]');
    await assertRefusedAt(page, 'txt', long.body.message);
    assert.equal(await page.isVisible('#record-cname'), false);
    await assertNothingAdded(seamark.httpPort, seamark.dnsPort, 'mail');
    await page.click('#record-new');
  });

  it('edits an alias into a host with an address: the form shows the alias, and DNS answers the address only', async () => {
    await waitForRows(page, 'cname legacy-db.docker', (r) => r.length === 2, 'the alias rows');
    await page.locator('#names-body button[data-action=edit][data-record=db]').first().click();
    assert.equal(await page.textContent('#record-heading'), 'Edit record db');
    assert.equal(await page.isChecked('#record-kind-cname'), true);
    assert.equal(await page.inputValue('#record-cname'), 'legacy-db.docker');
    await page.check('#record-kind-addresses');
    await page.fill('#record-addresses', '10.92.0.7');
    await page.click('#record-submit');
    await page.waitForSelector('#record-done:has-text("Saved db")');
    const answer = await dig(seamark.dnsPort, 'db.docker', 'A');
    assert.deepEqual(answer.answer.map((r) => [r.type, r.data]), [['A', '10.92.0.7']]);
    assert.equal((await api(seamark.httpPort, 'GET', '/v1/records/db')).body.cname, undefined);
    const rows = await waitForRows(page, '10.92.0.7', (r) => r.length === 2, 'the alias rows replaced by A rows');
    assert.deepEqual(rows.map((r) => r.slice(0, 4)), [
      ['*.db.docker', 'A', '10.92.0.7', 'hand-made db'],
      ['db.docker', 'A', '10.92.0.7', 'hand-made db'],
    ]);
    assert.deepEqual(await waitForRows(page, 'cname legacy-db.docker', (r) => r.length === 0, 'no alias rows left'), []);
  });

  it('logs no console errors', () => {
    assert.deepEqual(unexpectedErrors(browser, [/\/v1\/records\/(pointer-back|mail)$/]), []);
  });
});
