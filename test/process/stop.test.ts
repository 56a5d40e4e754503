// How the seamark process ends: a clean stop exits 0; a stop that hangs is cut short, logged and exits non-zero,
// so a supervisor (systemd, Docker) sees that something held on instead of a clean exit.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { startSeamark } from '../helpers/seamark.js';

test('SIGTERM on an idle seamark exits 0 and logs no forced exit', async () => {
  const seamark = await startSeamark({ config: { docker: 'off', upstreams: [] } });
  assert.equal(await seamark.stop(), 0);
  assert.equal(seamark.logs.filter((entry) => String(entry.msg).startsWith('seamark did not stop')).length, 0);
});

test('a stop held up by a request that never finishes exits 1 within a second, with a log line saying so', async () => {
  const seamark = await startSeamark({ config: { docker: 'off', upstreams: [] } });
  // A PUT whose body never arrives: the HTTP API's close waits for it.
  const client = connect(seamark.httpPort, '127.0.0.1');
  client.on('error', () => undefined);
  await new Promise<void>((resolve) => client.once('connect', resolve));
  client.write('PUT /v1/records/slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"names"');
  await new Promise((resolve) => setTimeout(resolve, 100));
  try {
    const started = Date.now();
    const code = await seamark.stop();
    const took = Date.now() - started;
    assert.equal(code, 1, 'not a clean exit');
    assert.ok(took < 2000, `exited in ${took} ms`);
    const forced = seamark.logs.find((entry) => String(entry.msg).startsWith('seamark did not stop within 800 ms'));
    assert.ok(forced !== undefined, 'the forced exit is logged');
    assert.equal(forced.level, 50, 'as an error');
  } finally {
    client.destroy();
  }
});
