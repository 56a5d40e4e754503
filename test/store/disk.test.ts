// The disk store on its own: round trip, removal, leftover temp files, ids kept.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DiskStore } from '../../src/store/disk.js';
import { StoreCorruptError } from '../../src/store/store.js';

const anyRecord = () => undefined;

describe('DiskStore', () => {
  it('stores, replaces, removes and reloads records with their ids', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seamark-disk-'));
    const store = new DiskStore<{ id: string; value: number }>(dir);
    assert.deepEqual(await store.load(anyRecord), []);
    await store.put({ id: 'a', value: 1 });
    await store.put({ id: 'b', value: 2 });
    await store.put({ id: 'a', value: 3 });
    await store.remove('b');
    await store.remove('never-there');
    const reloaded = await new DiskStore<{ id: string; value: number }>(dir).load(anyRecord);
    assert.deepEqual(reloaded, [{ id: 'a', value: 3 }]);
  });

  it('discards temp files of writes that never completed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seamark-disk-'));
    const store = new DiskStore<{ id: string }>(dir);
    await store.load(anyRecord);
    writeFileSync(join(dir, 'records', '.tmp-0123-x'), '{"version": 1, "rec');
    assert.deepEqual(await store.load(anyRecord), []);
    assert.deepEqual(readdirSync(join(dir, 'records')), []);
  });

  it('reports a record the check rejects, or one whose id does not match its file, as corrupt', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seamark-disk-'));
    const store = new DiskStore<{ id: string }>(dir);
    await store.load(anyRecord);
    writeFileSync(join(dir, 'records', 'x.json'), JSON.stringify({ version: 1, record: { id: 'y' } }));
    await assert.rejects(store.load(anyRecord), (error: Error) => error instanceof StoreCorruptError && /named for "x"/.test(error.message));
    await assert.rejects(store.load(() => 'missing names'), /missing names/);
  });
});
