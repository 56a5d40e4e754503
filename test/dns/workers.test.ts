// --workers: several processes share the DNS sockets, and a write reaches all of them before its reply.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { dig } from '../helpers/dig.js';
import { buildQuery, sendRaw } from '../helpers/raw.js';
import { startSeamark, type RunningSeamark } from '../helpers/seamark.js';

function workerPids(primary: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(primary)]).toString().trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The A addresses in a raw reply (answer section only; the question is `name`). */
function addressesIn(reply: Buffer | undefined): string[] {
  if (reply === undefined) return [];
  const answers = reply.readUInt16BE(6);
  let offset = 12;
  while (reply[offset] !== 0) offset += (reply[offset] as number) + 1;
  offset += 5;
  const found: string[] = [];
  for (let i = 0; i < answers; i++) {
    offset += 2; // compressed owner
    const type = reply.readUInt16BE(offset);
    const length = reply.readUInt16BE(offset + 8);
    if (type === 1) found.push([...reply.subarray(offset + 10, offset + 14)].join('.'));
    offset += 10 + length;
  }
  return found;
}

describe('DNS workers', () => {
  let seamark: RunningSeamark;
  before(async () => {
    seamark = await startSeamark({ config: { docker: 'off', upstreams: [], workers: 2, hosts: [{ names: ['web'], addresses: ['10.1.0.2'] }] } });
  });
  after(() => seamark.stop());

  test('runs the asked number of worker processes, all answering', async () => {
    assert.equal(workerPids(seamark.pid).length, 2);
    for (let i = 0; i < 10; i++) assert.deepEqual(addressesIn(await sendRaw(seamark.dnsPort, buildQuery('web.docker', 1))), ['10.1.0.2']);
    assert.equal((await dig(seamark.dnsPort, '+tcp', 'web.docker', 'A')).answer[0]?.data, '10.1.0.2');
  });

  test('a write is served by every worker once its HTTP reply is in', async () => {
    const api = `http://127.0.0.1:${seamark.httpPort}/v1/records`;
    // Warm the answer caches of both workers with the negative answer first.
    for (let i = 0; i < 20; i++) await sendRaw(seamark.dnsPort, buildQuery('vm.docker', 1, { id: i }));
    for (let round = 1; round <= 3; round++) {
      const address = `10.7.0.${round}`;
      const reply = await fetch(`${api}/vm`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ names: ['vm'], addresses: [address] }) });
      assert.ok(reply.ok, `PUT answered ${reply.status}`);
      // Each query comes from a new socket, so the kernel spreads them over the workers.
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => sendRaw(seamark.dnsPort, buildQuery('vm.docker', 1, { id: i }))));
      for (const answer of answers) assert.deepEqual(addressesIn(answer), [address]);
    }
  });

  test('/metrics adds up the queries of every worker', async () => {
    const read = async () => {
      const text = await (await fetch(`http://127.0.0.1:${seamark.httpPort}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('seamark_dns_queries_total{type="SRV",rcode="NXDOMAIN"}'));
      return Number(line?.split(' ')[1] ?? 0);
    };
    const before = await read();
    await Promise.all(Array.from({ length: 30 }, () => sendRaw(seamark.dnsPort, buildQuery('nothing.docker', 33))));
    assert.equal((await read()) - before, 30);
  });

  test('a worker started while records change serves every change made while it started', async () => {
    const api = `http://127.0.0.1:${seamark.httpPort}/v1/records`;
    const listening = () => seamark.logs.filter((entry) => entry.msg === 'DNS listening on UDP and TCP').length;
    const before = listening();
    const [victim] = workerPids(seamark.pid);
    process.kill(victim as number, 'SIGKILL');
    // Writes all through the replacement's start-up, until it listens: each must reach it too.
    const written: string[] = [];
    for (let i = 0; i < 2000 && listening() === before; i++) {
      const reply = await fetch(`${api}/restart-${i}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ names: [`restart-${i}`], addresses: ['10.8.0.1'] }) });
      assert.ok(reply.ok, `PUT answered ${reply.status}`);
      written.push(`restart-${i}.docker`);
    }
    assert.equal(listening(), before + 1, 'the replacement worker listens');
    // A 2xx means every worker answers the write: ask at once for every name from many sockets, so both workers answer.
    for (const name of written) {
      const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => sendRaw(seamark.dnsPort, buildQuery(name, 1, { id: i }))));
      for (const answer of answers) assert.deepEqual(addressesIn(answer), ['10.8.0.1'], `${name} on every worker`);
    }
  });

  test('a worker that dies is replaced and answers go on', async () => {
    const [first] = workerPids(seamark.pid);
    process.kill(first as number, 'SIGKILL');
    for (let i = 0; i < 50 && workerPids(seamark.pid).filter((pid) => pid !== first).length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(workerPids(seamark.pid).length, 2);
    for (let i = 0; i < 10; i++) assert.deepEqual(addressesIn(await sendRaw(seamark.dnsPort, buildQuery('web.docker', 1))), ['10.1.0.2']);
  });

  test('SIGTERM stops the primary and every worker within a second', async () => {
    const other = await startSeamark({ config: { docker: 'off', upstreams: [], workers: 2 } });
    const workers = workerPids(other.pid);
    assert.equal(workers.length, 2);
    const started = Date.now();
    assert.equal(await other.stop(), 0);
    assert.ok(Date.now() - started < 1000, `exited in ${Date.now() - started} ms`);
    await new Promise((r) => setTimeout(r, 100));
    for (const pid of workers) assert.throws(() => process.kill(pid, 0), 'worker gone');
  });
});
