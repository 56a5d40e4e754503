// Whom the HTTP API answers, through real HTTP to a real seamark: requests
// under a Host seamark is not known by (DNS rebinding) are refused before any
// route runs, writes a browser sends from a page of another origin are refused,
// and nothing of either reaches DNS.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { dig } from '../helpers/dig.js';
import { seamarkForSuite } from '../helpers/seamark.js';
import { api, digAddresses } from './client.js';

const run = promisify(execFile);

interface RawResponse {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** An HTTP request to 127.0.0.1 with the headers given as they are (fetch does not let a caller set Host). */
function send(port: number, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { host: '127.0.0.1', port, method, path, headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) }));
      },
    );
    req.once('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error(`no answer to ${method} ${path} within 10 s`)));
    req.end(payload);
  });
}

const record = (name: string, address: string) => ({ names: [name], addresses: [address] });

describe('the Host allow-list', () => {
  const seamark = seamarkForSuite({ config: { docker: 'off' } });

  it('refuses a request under a foreign Host with 421 naming the Host and the setting, and stores nothing', async () => {
    const port = seamark.httpPort;
    const foreign = { host: `evil.example:${port}`, origin: `http://evil.example:${port}` };
    const put = await send(port, 'PUT', '/v1/records/rebound', foreign, record('rebound', '10.66.0.1'));
    assert.equal(put.status, 421);
    assert.equal(put.body.field, 'host');
    assert.match(put.body.message, new RegExp(`Host "evil\\.example:${port}"`));
    assert.match(put.body.message, /--http-host evil\.example \(SEAMARK_HTTP_HOSTS, or httpHosts/);
    assert.equal((await send(port, 'POST', '/v1/records', foreign, record('rebound', '10.66.0.1'))).status, 421);
    // Reads too: a rebound page must not list the records, nor load the operator page.
    for (const path of ['/v1/records', '/v1/names', '/', '/metrics', '/v1/config', '/docs/json']) {
      assert.equal((await send(port, 'GET', path, { host: `evil.example:${port}` })).status, 421, `GET ${path}`);
    }
    assert.equal((await api(port, 'GET', '/v1/records/rebound')).status, 404);
    assert.equal((await dig(seamark.dnsPort, 'rebound.docker', 'A')).status, 'NXDOMAIN');
  });

  it('answers IP addresses, localhost and loopback literals, with or without a port, in any case', async () => {
    const port = seamark.httpPort;
    const hosts = [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `LocalHost.:${port}`, `[::1]:${port}`, '[::1]', `10.1.2.3:${port}`, `[fd00::5]:${port}`, `app.localhost:${port}`];
    for (const [i, host] of hosts.entries()) {
      assert.equal((await send(port, 'GET', '/v1/records', { host })).status, 200, `Host: ${host}`);
      assert.equal((await send(port, 'PUT', `/v1/records/allowed-${i}`, { host }, record(`allowed-${i}`, `10.66.1.${i + 1}`))).status, 201, `PUT, Host: ${host}`);
    }
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'allowed-4.docker'), ['10.66.1.5']);
  });

  it('answers a request without Host (HTTP/1.0): no browser sends one', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(seamark.httpPort, '127.0.0.1', () => socket.write('GET /v1/records HTTP/1.0\r\n\r\n'));
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.once('end', () => resolve(text));
      socket.once('error', reject);
    });
    assert.match(reply, /^HTTP\/1\.1 200 /);
  });

  it('answers /healthz and /readyz under any Host, for probes', async () => {
    for (const path of ['/healthz', '/readyz']) {
      const reply = await send(seamark.httpPort, 'GET', path, { host: 'seamark.default.svc:8080' });
      assert.equal(reply.status, 200, path);
    }
    assert.equal((await send(seamark.httpPort, 'POST', '/healthz', { host: 'seamark.default.svc:8080' })).status, 421, 'only reads are exempt');
  });
});

describe('names added with httpHosts', () => {
  const seamark = seamarkForSuite({ config: { docker: 'off', httpHosts: ['seamark.lan.example'] }, args: ['--http-host', 'Proxy.Example.'] });

  it('are answered (the flag wins over the file), with the Origin of the page they serve', async () => {
    const port = seamark.httpPort;
    const proxied = { host: 'proxy.example', origin: 'https://proxy.example' };
    const put = await send(port, 'PUT', '/v1/records/proxied', proxied, record('proxied', '10.66.2.1'));
    assert.equal(put.status, 201, JSON.stringify(put.body));
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'proxied.docker'), ['10.66.2.1']);
    assert.equal((await send(port, 'GET', '/v1/records/proxied', { host: `PROXY.EXAMPLE:${port}` })).status, 200);
    assert.equal((await send(port, 'GET', '/v1/records', { host: 'seamark.lan.example' })).status, 421, 'the flag replaced the file\'s list');
    assert.equal((await send(port, 'GET', '/v1/records', { host: 'other.example' })).status, 421);
  });
});

describe('writes from a page of another origin', () => {
  const seamark = seamarkForSuite({ config: { docker: 'off' } });

  it('refuses a cross-site renew (a bodiless POST needs no preflight) and leaves the lease as it was', async () => {
    const port = seamark.httpPort;
    const created = await api(port, 'PUT', '/v1/records/leased', { ...record('leased', '10.66.3.1'), lease: 600 });
    assert.equal(created.status, 201);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const renew = await send(port, 'POST', '/v1/records/leased/renew', { host: `127.0.0.1:${port}`, origin: 'http://attacker.example' });
    assert.equal(renew.status, 403);
    assert.equal(renew.body.field, 'origin');
    assert.match(renew.body.message, /http:\/\/attacker\.example is refused: only seamark's own page/);
    assert.equal((await api(port, 'GET', '/v1/records/leased')).body.expiresAt, created.body.expiresAt, 'the lease did not move');
    // A sandboxed page or a page behind a redirect sends Origin: null.
    assert.equal((await send(port, 'POST', '/v1/records/leased/renew', { host: `127.0.0.1:${port}`, origin: 'null' })).status, 403);
    // Another port of the same machine is another origin.
    assert.equal((await send(port, 'POST', '/v1/records/leased/renew', { host: `127.0.0.1:${port}`, origin: 'http://127.0.0.1:3000' })).status, 403);
    assert.equal((await api(port, 'GET', '/v1/records/leased')).body.expiresAt, created.body.expiresAt);
  });

  it('refuses every kind of write, DNSDock\'s routes too, and DNS never sees it', async () => {
    const port = seamark.httpPort;
    const cross = { host: `localhost:${port}`, origin: 'http://attacker.example:8000' };
    assert.equal((await send(port, 'PUT', '/v1/records/forged', cross, record('forged', '10.66.4.1'))).status, 403);
    assert.equal((await send(port, 'POST', '/v1/records', cross, record('forged', '10.66.4.1'))).status, 403);
    assert.equal((await send(port, 'PUT', '/services/forged', cross, { name: 'forged', image: 'img', ips: ['10.66.4.1'] })).status, 403);
    assert.equal((await send(port, 'PUT', '/set/ttl', cross, 5)).status, 403);
    assert.equal((await api(port, 'PUT', '/v1/records/kept', record('kept', '10.66.4.2'))).status, 201);
    assert.equal((await send(port, 'PATCH', '/v1/records/kept', cross, { addresses: ['10.66.4.3'] })).status, 403);
    assert.equal((await send(port, 'DELETE', '/v1/records/kept', cross)).status, 403);
    assert.equal((await send(port, 'DELETE', '/services/kept', cross)).status, 403);
    assert.equal((await dig(seamark.dnsPort, 'forged.docker', 'A')).status, 'NXDOMAIN');
    assert.equal((await dig(seamark.dnsPort, 'img.docker', 'A')).status, 'NXDOMAIN');
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'kept.docker'), ['10.66.4.2']);
  });

  it("accepts writes from seamark's own page (its origin, default port or not) and from clients that send no Origin", async () => {
    const port = seamark.httpPort;
    const own = await send(port, 'PUT', '/v1/records/own', { host: `localhost:${port}`, origin: `http://localhost:${port}` }, record('own', '10.66.5.1'));
    assert.equal(own.status, 201);
    assert.equal((await send(port, 'PUT', '/v1/records/own', { host: 'localhost', origin: 'http://localhost' }, record('own', '10.66.5.2'))).status, 200);
    assert.equal((await send(port, 'PUT', '/v1/records/own', { host: 'localhost:80', origin: 'http://localhost' }, record('own', '10.66.5.3'))).status, 200);
    assert.equal((await send(port, 'PUT', '/v1/records/own', { host: `[::1]:${port}`, origin: `http://[::1]:${port}` }, record('own', '10.66.5.4'))).status, 200);
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'own.docker'), ['10.66.5.4']);
    // curl, as the README's cron line renews a lease: no body, no content type, no Origin.
    assert.equal((await api(port, 'PUT', '/v1/records/cron', { ...record('cron', '10.66.5.5'), lease: 60 })).status, 201);
    const { stdout } = await run('curl', ['-sS', '--max-time', '10', '-X', 'POST', `http://127.0.0.1:${port}/v1/records/cron/renew`]);
    assert.equal(JSON.parse(stdout).id, 'cron');
  });
});

describe('request bodies and record ids', () => {
  const seamark = seamarkForSuite({ config: { docker: 'off' } });

  it('answers curl -d (form data) with 415 saying to send Content-Type: application/json', async () => {
    const { stdout } = await run('curl', ['-sS', '--max-time', '10', '-X', 'PUT', '-d', JSON.stringify(record('formed', '10.66.6.1')), `http://127.0.0.1:${seamark.httpPort}/v1/records/formed`]);
    const reply = JSON.parse(stdout);
    assert.equal(reply.statusCode, 415);
    assert.equal(reply.field, 'content-type');
    assert.match(reply.message, /Content-Type "application\/x-www-form-urlencoded"; send JSON with Content-Type: application\/json/);
    assert.equal((await api(seamark.httpPort, 'GET', '/v1/records/formed')).status, 404);
  });

  it('refuses a new id that differs from an existing one only by case, on every route, and keeps one file', async () => {
    const port = seamark.httpPort;
    assert.equal((await api(port, 'PUT', '/v1/records/db1', record('db1', '10.66.7.1'))).status, 201);
    const upper = await api(port, 'PUT', '/v1/records/DB1', record('db1-upper', '10.66.7.2'));
    assert.equal(upper.status, 409);
    assert.match(upper.body.message, /record id "DB1" differs from the existing record "db1" only by case/);
    assert.equal((await api(port, 'PUT', '/services/Db1', { name: 'x', image: 'y', ips: ['10.66.7.3'] })).status, 409);
    assert.equal((await dig(seamark.dnsPort, 'db1-upper.docker', 'A')).status, 'NXDOMAIN');
    assert.equal((await api(port, 'PUT', '/v1/records/db1', record('db1', '10.66.7.4'))).status, 200, 'the id itself still works');
    assert.equal((await api(port, 'GET', '/v1/records/DB1')).status, 404, 'ids are not folded: DB1 is not db1');
    assert.equal((await api(port, 'PUT', '/v1/records/Web.Front', record('web', '10.66.7.8'))).status, 201, 'upper case alone is fine');
    const lower = await api(port, 'PUT', '/v1/records/web.front', record('web', '10.66.7.9'));
    assert.equal(lower.status, 409, 'and refused the other way round');
    assert.match(lower.body.message, /"web\.front" differs from the existing record "Web\.Front" only by case/);
    assert.equal((await api(port, 'PUT', '/v1/records/WEB.front', record('web', '10.66.7.9'))).status, 409);

    // Two at once: one wins, the other is refused, whichever comes first.
    const both = await Promise.all([api(port, 'PUT', '/v1/records/Race', record('race', '10.66.7.5')), api(port, 'PUT', '/v1/records/race', record('race', '10.66.7.6'))]);
    assert.deepEqual(both.map((reply) => reply.status).sort(), [201, 409]);
    const { readdirSync } = await import('node:fs');
    const files = readdirSync(`${seamark.dataDir}/records`).filter((file) => file.toLowerCase().startsWith('race.'));
    assert.equal(files.length, 1, files.join(', '));

    // Once the record is gone, the other spelling is free.
    assert.equal((await api(port, 'DELETE', '/v1/records/db1')).status, 204);
    assert.equal((await api(port, 'PUT', '/v1/records/DB1', record('db1', '10.66.7.7'))).status, 201);
  });
});
