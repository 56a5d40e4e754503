// Leases lapse unless renewed; health checks take a host out of the answers and back.
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { dig } from '../helpers/dig.js';
import { startSeamark, type RunningSeamark } from '../helpers/seamark.js';
import { buildTestApi } from './app.js';
import { api, digAddresses, waitUntil } from './client.js';

function listen(server: HttpServer | TcpServer, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
}

function close(server: HttpServer | TcpServer): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('leases and health checks', () => {
  let seamark: RunningSeamark;
  before(async () => {
    // failOpen off, so an unhealthy only instance leaves the answers rather than being served anyway.
    seamark = await startSeamark({ config: { docker: 'off', failOpen: false } });
  });
  after(async () => {
    await seamark.stop();
  });

  it('removes a record when its lease lapses, and keeps it while it is renewed', async () => {
    await api(seamark.httpPort, 'PUT', '/v1/records/renewed', { names: ['renewed'], addresses: ['10.60.0.1'], lease: 2 });
    await api(seamark.httpPort, 'PUT', '/v1/records/lapsing', { names: ['lapsing'], addresses: ['10.60.0.2'], lease: 1 });
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'lapsing.docker'), ['10.60.0.2']);
    const renewUntil = Date.now() + 3500;
    while (Date.now() < renewUntil) {
      assert.equal((await api(seamark.httpPort, 'POST', '/v1/records/renewed/renew')).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
    assert.equal((await dig(seamark.dnsPort, 'lapsing.docker', 'A')).status, 'NXDOMAIN');
    assert.equal((await api(seamark.httpPort, 'GET', '/v1/records/lapsing')).status, 404);
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'renewed.docker'), ['10.60.0.1'], 'renewed record still answers');
    await waitUntil(async () => (await dig(seamark.dnsPort, 'renewed.docker', 'A')).status === 'NXDOMAIN', 15000, 'the unrenewed lease to lapse');
  });

  it('takes a host with a failing TCP check out of the answers and puts it back when it passes', async () => {
    const listener = createTcpServer((socket) => socket.destroy());
    const port = await listen(listener);
    const put = await api(seamark.httpPort, 'PUT', '/v1/records/tcpbox', {
      names: ['tcpbox'],
      addresses: ['10.61.0.1'],
      check: { tcp: `127.0.0.1:${port}`, interval: 0.2, timeout: 0.2 },
    });
    assert.equal(put.status, 201);
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'tcpbox.docker'), ['10.61.0.1']);

    await close(listener);
    await waitUntil(async () => (await digAddresses(seamark.dnsPort, 'tcpbox.docker')).length === 0, 15000, 'the failing host to leave the answers');
    const answer = await dig(seamark.dnsPort, 'tcpbox.docker', 'A');
    assert.equal(answer.status, 'NOERROR', 'the name still exists: NODATA, not NXDOMAIN');
    assert.equal((await api(seamark.httpPort, 'GET', '/v1/records/tcpbox')).body.healthy, false);
    const names = await api(seamark.httpPort, 'GET', '/v1/names?name=tcpbox');
    assert.equal(names.body[0].healthy, false);

    const again = createTcpServer((socket) => socket.destroy());
    await listen(again, port);
    try {
      await waitUntil(async () => (await digAddresses(seamark.dnsPort, 'tcpbox.docker')).length === 1, 15000, 'the host to come back');
      assert.equal((await api(seamark.httpPort, 'GET', '/v1/records/tcpbox')).body.healthy, true);
    } finally {
      await close(again);
      await api(seamark.httpPort, 'DELETE', '/v1/records/tcpbox');
    }
  });

  it('follows an HTTP check: a 5xx takes the host out, a 2xx brings it back; other instances keep answering', async () => {
    let status = 200;
    const server = createHttpServer((_request, response) => {
      response.statusCode = status;
      response.end('ok');
    });
    const port = await listen(server);
    try {
      const checked = { names: ['app'], addresses: ['10.62.0.1'], check: { http: `http://127.0.0.1:${port}/health`, interval: 0.3, timeout: 0.3 } };
      assert.equal((await api(seamark.httpPort, 'PUT', '/v1/records/app-a', checked)).status, 201);
      assert.equal((await api(seamark.httpPort, 'PUT', '/v1/records/app-b', { names: ['app'], addresses: ['10.62.0.2'] })).status, 201);
      assert.deepEqual(await digAddresses(seamark.dnsPort, 'app.docker'), ['10.62.0.1', '10.62.0.2']);
      status = 503;
      await waitUntil(async () => (await digAddresses(seamark.dnsPort, 'app.docker')).join() === '10.62.0.2', 15000, 'app-a to leave');
      status = 204;
      await waitUntil(async () => (await digAddresses(seamark.dnsPort, 'app.docker')).length === 2, 15000, 'app-a to come back');
    } finally {
      await close(server);
    }
  });
});

describe('health checks on any port', () => {
  it('checks a server on 127.0.0.1:6667, a port fetch refuses', async () => {
    let status = 503;
    const server = createHttpServer((_request, response) => response.writeHead(status).end());
    await listen(server, 6667);
    const api = await buildTestApi();
    try {
      const put = await api.app.inject({ method: 'PUT', url: '/v1/records/irc', payload: { names: ['irc'], addresses: ['10.92.0.1'], check: { http: 'http://127.0.0.1:6667/', interval: 0.2 } } });
      assert.equal(put.statusCode, 201, put.body);
      const healthy = async () => (await api.app.inject({ method: 'GET', url: '/v1/records/irc' })).json().healthy as boolean;
      await waitUntil(async () => !(await healthy()), 15000, 'the record to fail its check while the server answers 503');
      status = 200;
      await waitUntil(healthy, 15000, 'the record to pass its check once the server answers 200');
    } finally {
      api.manual.stop();
      await api.app.close();
      server.close();
    }
  });
});
