// The forwarder's query IDs: 16-bit, and spread over all of them (a guessable ID lets an off-path attacker forge answers).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomId } from '../../src/dns/random-ids.js';

test('query IDs are 16-bit and spread evenly over the whole range, across batches', () => {
  const buckets = new Array<number>(16).fill(0);
  const seen = new Set<number>();
  for (let i = 0; i < 20_000; i++) {
    const id = randomId();
    assert.ok(Number.isInteger(id) && id >= 0 && id <= 0xffff, `${id} is a 16-bit ID`);
    buckets[id >> 12] = (buckets[id >> 12] ?? 0) + 1;
    seen.add(id);
  }
  // 20,000 draws from 65,536: about 17,300 distinct for a uniform source; a repeating or stuck source has far fewer.
  assert.ok(seen.size > 16_000, `${seen.size} distinct IDs in 20,000`);
  for (const count of buckets) assert.ok(count > 1000 && count < 1500, `each sixteenth of the range gets about 1,250 IDs: ${buckets}`);
});
