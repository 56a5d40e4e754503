// A restart during a disk fault does not take DNS down: seamark starts on a
// full disk, a read-only data directory and a data directory it cannot make,
// serves every record that loads, reports the fault (log, /readyz), refuses
// writes with 507/503, and takes writes again once the disk recovers, without
// a restart. The SOA serial never goes back, through every restart.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dig } from '../helpers/dig.js';
import { startSeamark, type RunningSeamark } from '../helpers/seamark.js';
import { api, digAddresses, waitUntil } from '../http/client.js';
import { cannotMount, fillDisk, mountTmpfs, readOnlyBind, remountReadOnly, remountWritable, unmount, writableBind } from './disk.js';

const skip = cannotMount();
const config = { docker: 'off', hosts: [{ names: ['static'], addresses: ['10.91.0.9'] }] };

async function soaSerial(seamark: RunningSeamark): Promise<number> {
  const answer = await dig(seamark.dnsPort, 'docker', 'SOA');
  const soa = answer.answer.find((record) => record.type === 'SOA');
  assert.ok(soa !== undefined, answer.output);
  return Number(soa.data.split(/\s+/)[2]);
}

/** Serials served so far, in order: each must be at least the one before (RFC 1982: never back). */
class SerialHistory {
  private readonly serials: number[] = [];
  async note(seamark: RunningSeamark, when: string): Promise<number> {
    const serial = await soaSerial(seamark);
    const last = this.serials.at(-1);
    assert.ok(last === undefined || serial >= last, `SOA serial went back ${when}: ${last} -> ${serial}`);
    this.serials.push(serial);
    return serial;
  }
}

async function put(seamark: RunningSeamark, id: string, address: string) {
  return api(seamark.httpPort, 'PUT', `/v1/records/${id}`, { names: [id], addresses: [address] });
}

/** Started on the faulty disk: serves what loaded, says what is wrong, refuses writes. */
async function assertServesAndRefuses(seamark: RunningSeamark, loaded: Record<string, string>, fault: { status: number; code: RegExp; words: RegExp; path: string }) {
  for (const [name, address] of Object.entries(loaded)) assert.deepEqual(await digAddresses(seamark.dnsPort, `${name}.docker`), [address], `${name}.docker`);
  assert.deepEqual(await digAddresses(seamark.dnsPort, 'static.docker'), ['10.91.0.9']);

  // Ready (DNS serves), with the fault and where it is in the body.
  const ready = await api(seamark.httpPort, 'GET', '/readyz');
  assert.equal(ready.status, 200, ready.text);
  assert.equal(ready.body.ready, true);
  const store = String(ready.body.degraded?.store);
  assert.match(store, fault.code, ready.text);
  assert.match(store, fault.words, ready.text);
  assert.ok(store.includes(fault.path), `/readyz names ${fault.path}: ${ready.text}`);
  assert.match(String(ready.body.degraded?.['soa-serial']), fault.code, ready.text);

  // An error log line names the directory and the errno in words.
  const logged = seamark.logs.filter((line) => line.level === 50 && fault.code.test(String(line.msg)));
  assert.ok(logged.some((line) => String(line.msg).includes(fault.path) && fault.words.test(String(line.msg))), `no error log naming ${fault.path}: ${JSON.stringify(seamark.logs.filter((l) => Number(l.level) >= 50))}`);

  const refused = await put(seamark, 'gamma', '10.91.0.3');
  assert.equal(refused.status, fault.status, refused.text);
  assert.match(refused.body.message, fault.code);
  assert.match(refused.body.message, /nothing was changed/);
  assert.ok(!refused.text.includes(fault.path), `the message shows a path: ${refused.text}`);
  assert.deepEqual(await digAddresses(seamark.dnsPort, 'gamma.docker'), []);
}

/** After the disk recovers: a write goes through (at most a few seconds later), the fault leaves /readyz, and the serial moves on. */
async function assertRecovers(seamark: RunningSeamark, serials: SerialHistory): Promise<void> {
  const held = await serials.note(seamark, 'during the fault');
  let status = 0;
  await waitUntil(async () => (status = (await put(seamark, 'gamma', '10.91.0.3')).status) === 201, 10000, 'a write accepted once the disk recovered');
  assert.deepEqual(await digAddresses(seamark.dnsPort, 'gamma.docker'), ['10.91.0.3']);
  await waitUntil(async () => (await api(seamark.httpPort, 'GET', '/readyz')).body.degraded === undefined, 10000, '/readyz without the fault');
  const moved = await serials.note(seamark, 'after the disk recovered');
  assert.ok(moved > held, `the SOA serial moves once the reservation is written again: ${held} -> ${moved} (last PUT ${status})`);
}

/** The seamark a test runs now, for its finally to stop whatever happened. */
interface Running {
  seamark?: RunningSeamark;
}

/**
 * What both disk faults go through, on `dataDir`: two records written and seamark stopped; the disk broken; two
 * starts on it (a restart during the fault must not lower the serial either), each serving what is stored and
 * refusing writes; the disk repaired under the second, which then takes writes again; a start after it serves
 * `servedAfter`. The SOA serial never goes back.
 */
async function restartThroughFault(
  dataDir: string,
  running: Running,
  fault: { where: string; refused: { status: number; code: RegExp; words: RegExp }; breakDisk: () => void; repairDisk: () => void; servedAfter: Record<string, string> },
): Promise<void> {
  const serials = new SerialHistory();
  let seamark = (running.seamark = await startSeamark({ config, dataDir }));
  for (const [id, address] of [['alpha', '10.91.0.1'], ['beta', '10.91.0.2']]) assert.equal((await put(seamark, id as string, address as string)).status, 201);
  await serials.note(seamark, 'before the fault');
  await seamark.stop();

  fault.breakDisk();
  for (const start of ['first', 'second']) {
    seamark = running.seamark = await startSeamark({ config, dataDir });
    await assertServesAndRefuses(seamark, { alpha: '10.91.0.1', beta: '10.91.0.2' }, { ...fault.refused, path: dataDir });
    await serials.note(seamark, `at the ${start} start ${fault.where}`);
    if (start === 'first') await seamark.stop();
  }
  fault.repairDisk();
  await assertRecovers(seamark, serials);
  await seamark.stop();

  // The write taken after the recovery was durable: it is there after a restart, and the serial is still ahead.
  seamark = running.seamark = await startSeamark({ config, dataDir });
  for (const [name, address] of Object.entries(fault.servedAfter)) assert.deepEqual(await digAddresses(seamark.dnsPort, `${name}.docker`), [address]);
  await serials.note(seamark, 'at a start after the recovery');
}

describe('starting on a faulty data directory', { skip }, () => {
  it('a full disk: serves what is stored, 507 for writes, writes again once space is freed, and the serial never goes back', async () => {
    const mountPoint = mountTmpfs('256k');
    const running: Running = {};
    let filler = '';
    try {
      await restartThroughFault(join(mountPoint, 'data'), running, {
        where: 'on a full disk',
        refused: { status: 507, code: /ENOSPC/, words: /the disk is full/ },
        breakDisk: () => (filler = fillDisk(mountPoint)),
        repairDisk: () => rmSync(filler),
        servedAfter: { gamma: '10.91.0.3' },
      });
    } finally {
      await running.seamark?.stop();
      unmount(mountPoint);
    }
  });

  it('a read-only data directory: serves what is stored, 503 for writes, writes again once it is read-write', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'seamark-ro-')), 'data');
    const running: Running = {};
    let bound = false;
    try {
      await restartThroughFault(dataDir, running, {
        where: 'on a read-only directory',
        refused: { status: 503, code: /EROFS/, words: /the disk is read-only/ },
        breakDisk: () => {
          readOnlyBind(dataDir);
          bound = true;
        },
        repairDisk: () => writableBind(dataDir),
        servedAfter: { gamma: '10.91.0.3', alpha: '10.91.0.1' },
      });
    } finally {
      await running.seamark?.stop();
      if (bound) unmount(dataDir);
      rmSync(join(dataDir, '..'), { recursive: true, force: true });
    }
  });

  it('a data directory that cannot be made: serves the configured hosts, 503 for writes, makes it and writes once it can', async () => {
    const parent = mountTmpfs('256k');
    const dataDir = join(parent, 'seamark', 'data');
    let seamark: RunningSeamark | undefined;
    try {
      remountReadOnly(parent);
      seamark = await startSeamark({ config, dataDir });
      await assertServesAndRefuses(seamark, {}, { status: 503, code: /EROFS/, words: /the disk is read-only/, path: dataDir });
      remountWritable(parent);
      const serials = new SerialHistory();
      await assertRecovers(seamark, serials);
      await seamark.stop();

      seamark = await startSeamark({ config, dataDir });
      assert.deepEqual(await digAddresses(seamark.dnsPort, 'gamma.docker'), ['10.91.0.3']);
      await serials.note(seamark, 'at a start after the recovery');
    } finally {
      await seamark?.stop();
      unmount(parent);
    }
  });
});
