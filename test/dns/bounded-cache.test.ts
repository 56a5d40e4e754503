// The caches' two bounds, entries and bytes, each hold whichever binds first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boundedCache } from '../../src/dns/bounded-cache.js';

test('the entry bound holds when the byte budget is far away', () => {
  const cache = boundedCache<string, Buffer>(20, 64 * 1024 * 1024, (value) => value.length);
  for (let i = 0; i < 30; i++) cache.set(`name-${i}`, Buffer.alloc(50));
  assert.equal(cache.size, 20);
  assert.equal(cache.get('name-29')?.length, 50, 'the newest entries are kept');
  assert.equal(cache.get('name-0'), undefined, 'the oldest are evicted');
});

test('the byte budget holds when the entry bound is far away', () => {
  const cache = boundedCache<string, Buffer>(250_000, 10_000, (value) => value.length);
  for (let i = 0; i < 30; i++) cache.set(`name-${i}`, Buffer.alloc(1000));
  assert.ok(cache.calculatedSize <= 10_000, `${cache.calculatedSize} bytes held`);
  assert.equal(cache.size, 10);
});
