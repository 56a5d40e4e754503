// Store faults at run time on a real small filesystem (a tmpfs mounted here):
// a full disk, a read-only remount and a vanished records directory. Writes are
// refused with a status and message saying what happened, nothing changes,
// DNS keeps answering, and writes succeed again once the disk is back.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSeamark, type RunningSeamark } from '../helpers/seamark.js';
import { api, digAddresses } from '../http/client.js';

describe('store faults on a 256 KiB tmpfs', () => {
  const mountPoint = mkdtempSync(join(tmpdir(), 'seamark-tmpfs-'));
  const dataDir = join(mountPoint, 'data');
  let seamark: RunningSeamark;

  before(async () => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mountPoint]);
    seamark = await startSeamark({ config: { docker: 'off' }, dataDir });
    for (const id of ['alpha', 'beta']) {
      const put = await api(seamark.httpPort, 'PUT', `/v1/records/${id}`, { names: [id], addresses: ['10.90.0.1'] });
      assert.equal(put.status, 201, put.text);
    }
  });
  after(async () => {
    await seamark?.stop();
    execFileSync('mount', ['-o', 'remount,rw', mountPoint], { stdio: 'ignore' });
    execFileSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  /** The write is refused with `status`, a message naming the fault and no path, and nothing it would have changed changed. */
  async function assertRefused(status: number, fault: RegExp): Promise<void> {
    const replaced = await api(seamark.httpPort, 'PUT', '/v1/records/alpha', { names: ['alpha'], addresses: ['10.90.0.2'] });
    const created = await api(seamark.httpPort, 'PUT', '/v1/records/gamma', { names: ['gamma'], addresses: ['10.90.0.3'] });
    const replies = [['replace', replaced], ['create', created]] as [string, typeof replaced][];
    // Removing a file needs no space, so a delete is tried only for the other faults.
    if (status !== 507) replies.push(['delete', await api(seamark.httpPort, 'DELETE', '/v1/records/beta')]);
    for (const [what, reply] of replies) {
      assert.equal(reply.status, status, `${what}: ${reply.text}`);
      assert.match(reply.body.message, fault, what);
      assert.match(reply.body.message, /nothing was changed/);
      assert.ok(!reply.text.includes(mountPoint) && !reply.text.includes('/records'), `${what}: the message shows a path: ${reply.text}`);
      assert.ok(reply.headers.get('retry-after') !== null);
    }
    // DNS and the API answer everything they had, as it was.
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'alpha.docker'), ['10.90.0.1']);
    assert.deepEqual((await api(seamark.httpPort, 'GET', '/v1/records/alpha')).body.addresses, ['10.90.0.1']);
    assert.equal((await api(seamark.httpPort, 'GET', '/v1/records/gamma')).status, 404);
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'gamma.docker'), []);
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'beta.docker'), ['10.90.0.1']);
  }

  /** Once the disk is back, the same writes succeed and DNS follows. */
  async function assertWritable(): Promise<void> {
    assert.equal((await api(seamark.httpPort, 'PUT', '/v1/records/alpha', { names: ['alpha'], addresses: ['10.90.0.2'] })).status, 200);
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'alpha.docker'), ['10.90.0.2']);
    assert.equal((await api(seamark.httpPort, 'PUT', '/v1/records/alpha', { names: ['alpha'], addresses: ['10.90.0.1'] })).status, 200);
  }

  it('a full disk: 507 Insufficient Storage, then writes again once space is freed', async () => {
    const filler = join(mountPoint, 'filler');
    // Fill what is left (dd stops with ENOSPC, which is the point).
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k'], { stdio: 'ignore' });
    } catch {
      // expected: No space left on device
    }
    try {
      await assertRefused(507, /ENOSPC: the disk is full/);
    } finally {
      rmSync(filler);
    }
    await assertWritable();
  });

  it('a read-only remount: 503, then writes again once it is read-write', async () => {
    execFileSync('mount', ['-o', 'remount,ro', mountPoint]);
    try {
      await assertRefused(503, /EROFS: the disk is read-only/);
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', mountPoint]);
    }
    await assertWritable();
  });

  it('a vanished records directory: 503, not made again empty, then writes again once it is back', async () => {
    const records = join(dataDir, 'records');
    renameSync(records, `${records}.away`);
    try {
      await assertRefused(503, /ENOENT: the data directory is gone/);
      assert.equal(existsSync(records), false, 'an empty records directory was made in its place');
    } finally {
      renameSync(`${records}.away`, records);
    }
    await assertWritable();
  });
});
