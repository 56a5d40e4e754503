// Web pages of other sites against a real seamark in a real chromium: a page
// under a name that resolves to 127.0.0.1 (DNS rebinding) and a page of
// another site that sends requests the browser needs no permission for. Neither
// may read or change a record; dig and the API say what happened.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { dig } from '../helpers/dig.js';
import { type RunningSeamark, seamarkForSuite } from '../helpers/seamark.js';
import { api, waitUntil } from '../http/client.js';
import { launchBrowser, type Browser } from './browser.js';

/** Requests seamark answered on one route, by status, from its own /metrics. */
async function requestsOn(seamark: RunningSeamark, method: string, route: string): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${seamark.httpPort}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('seamark_http_requests_total{') || !line.includes(`method="${method}"`) || !line.includes(`route="${route}"`)) continue;
    const status = /status="(\d+)"/.exec(line)?.[1] ?? '?';
    counts[status] = (counts[status] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return counts;
}

describe('pages of other sites in a real browser', () => {
  const seamark = seamarkForSuite({ config: { docker: 'off' } });
  let browser: Browser;
  let attacker: Server;
  let attackerPort: number;
  before(async () => {
    // The other site's own server, on loopback like seamark, so no browser rule about local networks stands in for seamark's own.
    attacker = createServer((request, response) => {
      const target = `http://127.0.0.1:${seamark.httpPort}/v1/records/leased/renew`;
      response.setHeader('content-type', 'text/html; charset=utf-8');
      response.end(`<!doctype html><title>another site</title><script>
        // Requests a page may send anywhere without a CORS preflight: a no-cors fetch and a beacon, both POST.
        fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors' }).catch(() => {});
        navigator.sendBeacon(${JSON.stringify(target)}, 'renew');
      </script>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    attackerPort = (attacker.address() as AddressInfo).port;
    browser = await launchBrowser({ args: ['--host-resolver-rules=MAP evil.example 127.0.0.1, MAP attacker.example 127.0.0.1'] });
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => attacker?.close(resolve));
  });

  it('a page under a rebound name can neither load the operator page nor list nor write records', async () => {
    await api(seamark.httpPort, 'PUT', '/v1/records/secret', { names: ['secret'], addresses: ['10.67.0.1'] });
    const page = await browser.newPage();
    // evil.example resolves to 127.0.0.1, as the attacker's DNS answers once the page is loaded: to the browser, seamark is now that origin.
    const origin = `http://evil.example:${seamark.httpPort}`;
    const navigation = await page.goto(`${origin}/`, { waitUntil: 'domcontentloaded', timeout: 60000 });
    assert.equal(navigation?.status(), 421, 'the operator page is not served under that name');
    assert.equal(await page.evaluate('location.origin'), origin);
    // What the attacker's script does in that origin: same-origin requests, so the browser would let it read every answer.
    const outcome = await page.evaluate(async () => {
      const list = await fetch('/v1/records');
      const listed = await list.text();
      const put = await fetch('/v1/records/rebound', {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ names: ['rebound'], addresses: ['10.67.0.66'] }),
      });
      const check = await fetch('/v1/records/probe', {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ names: ['probe'], addresses: ['10.67.0.67'], check: { tcp: '127.0.0.1:22', interval: 1 } }),
      });
      return { list: list.status, listed, put: put.status, putMessage: ((await put.json()) as { message: string }).message, check: check.status };
    });
    assert.equal(outcome.list, 421);
    assert.ok(!outcome.listed.includes('10.67.0.1'), 'no record listed');
    assert.equal(outcome.put, 421);
    assert.match(outcome.putMessage, /does not answer to the Host "evil\.example:\d+"/);
    assert.equal(outcome.check, 421, 'no health check to probe the host\'s ports with');
    for (const id of ['rebound', 'probe']) assert.equal((await api(seamark.httpPort, 'GET', `/v1/records/${id}`)).status, 404, `${id} not stored`);
    assert.equal((await dig(seamark.dnsPort, 'rebound.docker', 'A')).status, 'NXDOMAIN');
    await page.close();
  });

  it("a page of another site cannot renew a lease with requests that need no preflight, while seamark's own page can", async () => {
    const created = await api(seamark.httpPort, 'PUT', '/v1/records/leased', { names: ['leased'], addresses: ['10.67.1.1'], lease: 600 });
    assert.equal(created.status, 201);
    const page = await browser.newPage();
    await page.goto(`http://attacker.example:${attackerPort}/`, { waitUntil: 'load', timeout: 60000 });
    // Both requests reach seamark (the browser does send them); seamark refuses them.
    let counts: Record<string, number> = {};
    await waitUntil(async () => {
      counts = await requestsOn(seamark, 'POST', '/v1/records/:id/renew');
      return Object.values(counts).reduce((sum, n) => sum + n, 0) >= 2;
    }, 15000, 'the two renew requests of the other site');
    assert.deepEqual(counts, { 403: 2 });
    assert.equal((await api(seamark.httpPort, 'GET', '/v1/records/leased')).body.expiresAt, created.body.expiresAt, 'the lease did not move');

    // The operator page renews with the same kind of request, from its own origin.
    await page.goto(`http://127.0.0.1:${seamark.httpPort}/`, { waitUntil: 'domcontentloaded', timeout: 60000 });
    const renewed = await page.evaluate(async () => (await fetch('/v1/records/leased/renew', { method: 'POST' })).status);
    assert.equal(renewed, 200);
    assert.notEqual((await api(seamark.httpPort, 'GET', '/v1/records/leased')).body.expiresAt, created.body.expiresAt);
    await page.close();
  });
});
