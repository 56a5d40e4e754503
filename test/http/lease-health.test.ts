// Leases lapse unless renewed; health checks take a host out of the answers and back.
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { describe, it } from 'node:test';
import { dig } from '../helpers/dig.js';
import { runHealthCheck } from '../../src/sources/manual/health.js';
import type { HealthCheck } from '../../src/sources/manual/record.js';
import { ManualClock } from '../helpers/clock.js';
import { seamarkForSuite } from '../helpers/seamark.js';
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

describe('leases on a clock the test drives', () => {
  it('removes a record when its lease lapses, and keeps it while it is renewed', async () => {
    const clock = new ManualClock();
    const api = await buildTestApi({ clock });
    const request = (method: 'GET' | 'PUT' | 'POST', url: string, payload?: object) => api.app.inject({ method, url, ...(payload === undefined ? {} : { payload }) });
    const served = (name: string) => api.registry.byName(name).map((instance) => instance.addresses);
    try {
      assert.equal((await request('PUT', '/v1/records/renewed', { names: ['renewed'], addresses: ['10.60.0.1'], lease: 2 })).statusCode, 201);
      assert.equal((await request('PUT', '/v1/records/lapsing', { names: ['lapsing'], addresses: ['10.60.0.2'], lease: 1 })).statusCode, 201);
      clock.advance(999);
      await settled();
      assert.deepEqual(served('lapsing.docker'), [['10.60.0.2']], 'served until the last millisecond of its lease');
      // Renewed every 400 ms for 3.5 s: the 2 s lease is never allowed to run out, the 1 s one is never renewed.
      for (let elapsed = 999; elapsed < 3500; elapsed += 400) {
        assert.equal((await request('POST', '/v1/records/renewed/renew')).statusCode, 200);
        clock.advance(400);
        await settled();
      }
      // A lapse removes the record from the store (a disk write) before the registry: waited for, not timed.
      await waitUntil(() => served('lapsing.docker').length === 0, 15000, 'the 1 s lease to lapse');
      assert.equal((await request('GET', '/v1/records/lapsing')).statusCode, 404);
      assert.deepEqual(served('renewed.docker'), [['10.60.0.1']], 'renewed record still answers');
      assert.equal((await request('POST', '/v1/records/renewed/renew')).statusCode, 200, 'renewed once more, then left alone');
      clock.advance(1999);
      await settled();
      assert.deepEqual(served('renewed.docker'), [['10.60.0.1']], 'not before its lease runs out');
      clock.advance(1);
      await waitUntil(() => served('renewed.docker').length === 0, 15000, 'the unrenewed lease to lapse at its deadline');
      assert.equal((await request('GET', '/v1/records/renewed')).statusCode, 404);
    } finally {
      api.manual.stop();
      await api.app.close();
    }
  });
});

/** Gives a lapse that (wrongly) fell due the time to show: it removes the record from the store (a disk write) before the registry. */
async function settled(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('leases and health checks', () => {
  // failOpen off, so an unhealthy only instance leaves the answers rather than being served anyway.
  const seamark = seamarkForSuite({ config: { docker: 'off', failOpen: false } });

  // The one lease test on the real clock, end to end: a 1 s lease lapses in a running seamark.
  it('keeps a year-long lease (past the 24.8-day limit of one Node timer) while a short lease beside it lapses on time', async () => {
    const year = 366 * 86400;
    const before = Date.now();
    const long = await api(seamark.httpPort, 'PUT', '/v1/records/yearly', { names: ['yearly'], addresses: ['10.60.1.1'], lease: year });
    assert.equal(long.status, 201, long.text);
    const expiresAt = Date.parse(long.body.expiresAt);
    assert.ok(Math.abs(expiresAt - (before + year * 1000)) < 60_000, `expiresAt ${long.body.expiresAt} is a year from now`);
    assert.equal((await api(seamark.httpPort, 'GET', '/v1/records/yearly')).body.expiresAt, long.body.expiresAt);
    assert.equal((await api(seamark.httpPort, 'PUT', '/v1/records/short', { names: ['short'], addresses: ['10.60.1.2'], lease: 1 })).status, 201);
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'yearly.docker'), ['10.60.1.1']);
    await waitUntil(async () => (await dig(seamark.dnsPort, 'short.docker', 'A')).status === 'NXDOMAIN', 15000, 'the 1 s lease beside the year-long one to lapse');
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'yearly.docker'), ['10.60.1.1'], 'the year-long lease did not lapse early');
    const renewed = await api(seamark.httpPort, 'POST', '/v1/records/yearly/renew');
    assert.equal(renewed.status, 200);
    assert.ok(Date.parse(renewed.body.expiresAt) >= expiresAt);
    const tooLong = await api(seamark.httpPort, 'PUT', '/v1/records/toolong', { names: ['toolong'], addresses: ['10.60.1.3'], lease: year + 1 });
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.body.field, 'lease');
    assert.equal((await api(seamark.httpPort, 'DELETE', '/v1/records/yearly')).status, 204);
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

  /**
   * Reads the record until `done` holds, asserting on every read that health
   * flips exactly at the threshold: a run shorter than it leaves `healthy` as it was.
   */
  async function watchHealth(id: string, wasHealthy: boolean, threshold: number, label: string): Promise<void> {
    const shortRuns = new Set<number>();
    await waitUntil(
      async () => {
        const { healthy, checkCounts } = (await api(seamark.httpPort, 'GET', `/v1/records/${id}`)).body;
        const run = wasHealthy ? checkCounts?.failing : checkCounts?.passing;
        if (run === undefined || run === 0) return false;
        if (run < threshold) {
          assert.equal(healthy, wasHealthy, `${label}: ${run} result(s) in a row flipped the host (threshold ${threshold})`);
          shortRuns.add(run);
          return false;
        }
        assert.equal(healthy, !wasHealthy, `${label}: ${run} results in a row did not flip the host (threshold ${threshold})`);
        return true;
      },
      15000,
      label,
    );
    if (threshold > 1) assert.ok(shortRuns.size > 0, `${label}: saw a run shorter than the threshold`);
  }

  it('flips an HTTP-checked host only after check.fall failures and check.rise passes in a row, and shows the counts', async () => {
    let status = 200;
    const server = createHttpServer((_request, response) => response.writeHead(status).end());
    const port = await listen(server);
    try {
      const check = { http: `http://127.0.0.1:${port}/`, interval: 0.4, timeout: 0.3, rise: 3, fall: 4 };
      const put = await api(seamark.httpPort, 'PUT', '/v1/records/flappy', { names: ['flappy'], addresses: ['10.63.0.1'], check });
      assert.equal(put.status, 201, put.text);
      assert.equal(put.body.check.rise, 3);
      assert.equal(put.body.check.fall, 4);
      await waitUntil(async () => (await api(seamark.httpPort, 'GET', '/v1/records/flappy')).body.checkCounts?.passing >= 1, 15000, 'the first check');
      status = 500;
      await watchHealth('flappy', true, 4, 'failing');
      assert.deepEqual(await digAddresses(seamark.dnsPort, 'flappy.docker'), []);
      status = 200;
      await watchHealth('flappy', false, 3, 'passing');
      assert.deepEqual(await digAddresses(seamark.dnsPort, 'flappy.docker'), ['10.63.0.1']);
    } finally {
      await close(server);
      await api(seamark.httpPort, 'DELETE', '/v1/records/flappy');
    }
  });

  it('flips a TCP-checked host with the defaults, 3 failures down and 2 passes up', async () => {
    let listener = createTcpServer((socket) => socket.destroy());
    const port = await listen(listener);
    try {
      const put = await api(seamark.httpPort, 'PUT', '/v1/records/tcpflap', { names: ['tcpflap'], addresses: ['10.63.0.2'], check: { tcp: `127.0.0.1:${port}`, interval: 0.4, timeout: 0.3 } });
      assert.equal(put.status, 201, put.text);
      assert.deepEqual([put.body.check.rise, put.body.check.fall], [2, 3]);
      await waitUntil(async () => (await api(seamark.httpPort, 'GET', '/v1/records/tcpflap')).body.checkCounts?.passing >= 1, 15000, 'the first check');
      await close(listener);
      await watchHealth('tcpflap', true, 3, 'refused');
      assert.deepEqual(await digAddresses(seamark.dnsPort, 'tcpflap.docker'), []);
      listener = createTcpServer((socket) => socket.destroy());
      await listen(listener, port);
      await watchHealth('tcpflap', false, 2, 'accepted');
      assert.deepEqual(await digAddresses(seamark.dnsPort, 'tcpflap.docker'), ['10.63.0.2']);
    } finally {
      await close(listener).catch(() => undefined);
      await api(seamark.httpPort, 'DELETE', '/v1/records/tcpflap');
    }
  });

  it('refuses a rise or fall outside 1-100, naming the field', async () => {
    for (const [check, field] of [[{ tcp: '127.0.0.1:1', rise: 0 }, 'check.rise'], [{ tcp: '127.0.0.1:1', fall: 101 }, 'check.fall']] as const) {
      const reply = await api(seamark.httpPort, 'PUT', '/v1/records/badcheck', { names: ['badcheck'], addresses: ['10.63.0.3'], check });
      assert.equal(reply.status, 400);
      assert.equal(reply.body.field, field);
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

describe('health check rounds', () => {
  it('a round whose report throws is told once and the checks go on', async () => {
    const listener = createTcpServer((socket) => socket.destroy());
    const port = await listen(listener);
    const reports: number[] = [];
    const failures: string[] = [];
    const stop = runHealthCheck(
      { tcp: `127.0.0.1:${port}`, interval: 0.05, timeout: 0.5 } as HealthCheck,
      (state) => {
        reports.push(state.passing);
        if (reports.length === 1) throw new Error('registry refused the change');
      },
      (error) => failures.push((error as Error).message),
    );
    try {
      await waitUntil(() => reports.length >= 3, 15000, 'three rounds');
      assert.deepEqual(failures, ['registry refused the change']);
      assert.deepEqual(reports.slice(0, 3), [1, 2, 3], 'every round after the failure reported');
    } finally {
      stop();
      await close(listener);
    }
  });
});
