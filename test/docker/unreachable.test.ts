// Without a daemon seamark still starts, says so once, keeps retrying, and is
// not ready until the first sync; `--docker off` runs without the source.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { dig } from '../helpers/dig.js';
import { startSeamark, type RunningSeamark } from '../helpers/seamark.js';
import { DockerSocketProxy, dockerUnavailable, skipLoudly, waitUntil } from './engine.js';

const unavailable = dockerUnavailable();
if (unavailable !== undefined) skipLoudly(unavailable);

async function readyz(seamark: RunningSeamark): Promise<{ status: number; body: { ready: boolean; pending: string[] } }> {
  const response = await fetch(`http://127.0.0.1:${seamark.httpPort}/readyz`);
  return { status: response.status, body: (await response.json()) as { ready: boolean; pending: string[] } };
}

describe('Docker away at start-up', { timeout: 60000 }, () => {
  const running: RunningSeamark[] = [];
  after(async () => {
    for (const seamark of running) await seamark.stop();
  });

  it('starts, warns once, is not ready, and connects when the socket appears', { skip: unavailable }, async () => {
    const socket = join(mkdtempSync(join(tmpdir(), 'seamark-nosock-')), 'docker.sock');
    const seamark = await startSeamark({ config: { zones: ['docker'], docker: `unix://${socket}` } });
    running.push(seamark);
    assert.equal((await dig(seamark.dnsPort, 'ns.docker')).status, 'NOERROR', 'DNS is served meanwhile');
    // Until it has retried (250 ms, then 500 ms back-off), not for a time on a stopwatch.
    await waitUntil('two retries', async () => seamark.logs.filter((l) => l.msg === 'Docker still unreachable').length >= 2, 15000, 50);
    const complaints = seamark.logs.filter((l) => String(l.msg).startsWith('cannot reach Docker'));
    assert.equal(complaints.length, 1, 'said once, not once per retry');
    const before = await readyz(seamark);
    assert.equal(before.status, 503);
    assert.deepEqual(before.body.pending, ['docker']);

    const proxy = new DockerSocketProxy(socket);
    await proxy.open();
    try {
      await waitUntil('the first sync', async () => seamark.logs.some((l) => l.msg === 'Docker containers synced'), 15000, 50).catch((error: Error) => {
        const docker = seamark.logs.filter((l) => l.source === 'docker').slice(-10).map((l) => `${String(l.msg)} ${String(l.err ?? '')}`);
        throw new Error(`${error.message}; requests through the proxy: ${JSON.stringify(proxy.requests.slice(-5))}; last Docker log lines: ${JSON.stringify(docker)}`);
      });
      assert.equal((await readyz(seamark)).status, 200);
    } finally {
      await seamark.stop();
      await proxy.cut();
    }
  });

  it('--docker off runs without the source and is ready at once', async () => {
    const seamark = await startSeamark({ config: { zones: ['docker'] }, args: ['--docker', 'off'] });
    running.push(seamark);
    assert.ok(seamark.logs.some((l) => String(l.msg).includes('Docker source turned off')));
    assert.equal((await readyz(seamark)).status, 200);
  });
});
