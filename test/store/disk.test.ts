// The disk store on its own: round trip, removal, leftover temp files, ids kept,
// unreadable files reported (never thrown, never touched), grouped commits.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DiskStore } from '../../src/store/disk.js';

const anyRecord = () => undefined;

describe('DiskStore', () => {
  it('stores, replaces, removes and reloads records with their ids', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seamark-disk-'));
    const store = new DiskStore<{ id: string; value: number }>(dir);
    assert.deepEqual(await store.load(anyRecord), { records: [], unreadable: [] });
    await store.put({ id: 'a', value: 1 });
    await store.put({ id: 'b', value: 2 });
    await store.put({ id: 'a', value: 3 });
    await store.remove('b');
    await store.remove('never-there');
    const reloaded = await new DiskStore<{ id: string; value: number }>(dir).load(anyRecord);
    assert.deepEqual(reloaded.records, [{ id: 'a', value: 3 }]);
  });

  it('commits writes that arrive together, in arrival order, each durable when it resolves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seamark-disk-'));
    const store = new DiskStore<{ id: string; value: number }>(dir);
    await store.load(anyRecord);
    await Promise.all([
      ...Array.from({ length: 200 }, (_, i) => store.put({ id: `r${i}`, value: i })),
      store.put({ id: 'r0', value: -1 }),
      store.remove('r1'),
    ]);
    const { records } = await new DiskStore<{ id: string; value: number }>(dir).load(anyRecord);
    assert.equal(records.length, 199);
    assert.equal(records.find((r) => r.id === 'r0')?.value, -1);
    assert.equal(records.find((r) => r.id === 'r1'), undefined);
    assert.ok(!readdirSync(join(dir, 'records')).some((f) => f.startsWith('.tmp-')));
  });

  it('reads record files of any size: a large one whole, small ones beside it unmixed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seamark-disk-'));
    const store = new DiskStore<{ id: string; note: string }>(dir);
    await store.load(anyRecord);
    await store.put({ id: 'a', note: 'x'.repeat(10) });
    await store.put({ id: 'big', note: 'é'.repeat(100_000) });
    await store.put({ id: 'c', note: 'short' });
    // Exactly at and just above one read's size (64 KiB), with JSON's own whitespace as padding.
    const exact = JSON.stringify({ version: 1, record: { id: 'exact', note: 'n' } });
    writeFileSync(join(dir, 'records', 'exact.json'), exact + ' '.repeat(65536 - exact.length));
    writeFileSync(join(dir, 'records', 'over.json'), JSON.stringify({ version: 1, record: { id: 'over', note: 'o' } }) + ' '.repeat(65536));
    const { records, unreadable } = await new DiskStore<{ id: string; note: string }>(dir).load(anyRecord);
    assert.deepEqual(unreadable, []);
    assert.deepEqual(
      records.map((r) => [r.id, r.note.length]),
      [['a', 10], ['big', 100_000], ['c', 5], ['exact', 1], ['over', 1]],
    );
    assert.equal(records[1]?.note, 'é'.repeat(100_000));
  });

  it('discards temp files of writes that never completed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seamark-disk-'));
    const store = new DiskStore<{ id: string }>(dir);
    await store.load(anyRecord);
    writeFileSync(join(dir, 'records', '.tmp-0123-x'), '{"version": 1, "rec');
    assert.deepEqual(await store.load(anyRecord), { records: [], unreadable: [] });
    assert.deepEqual(readdirSync(join(dir, 'records')), []);
  });

  it('reports a record the check rejects, or one whose id does not match its file, and loads the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seamark-disk-'));
    const store = new DiskStore<{ id: string }>(dir);
    await store.load(anyRecord);
    await store.put({ id: 'good' });
    const bad = join(dir, 'records', 'x.json');
    writeFileSync(bad, JSON.stringify({ version: 1, record: { id: 'y' } }));
    const loaded = await store.load(anyRecord);
    assert.deepEqual(loaded.records, [{ id: 'good' }]);
    assert.equal(loaded.unreadable.length, 1);
    assert.equal(loaded.unreadable[0]?.id, 'x');
    assert.equal(loaded.unreadable[0]?.location, bad);
    assert.match(loaded.unreadable[0]?.reason ?? '', /named for "x"/);
    const checked = await store.load((value) => ((value as { id: string }).id === 'good' ? 'missing names' : undefined));
    assert.match(checked.unreadable.find((u) => u.id === 'good')?.reason ?? '', /missing names/);
    assert.equal(readFileSync(bad, 'utf8'), JSON.stringify({ version: 1, record: { id: 'y' } }));
  });
});
