// The answer cache's packed zone answers: what goes in comes out, each rotation by its turn, and blocks
// are given back once every entry in them has left the cache.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnswerCache, FastQuery } from '../../src/dns/answer-cache.js';
import { Turns } from '../../src/dns/turns.js';
import { AnswerBlocks, entryGeneration, entryMeta, entryQuestionAt, entryQuestionLength, rotationOf as rotationAt } from '../../src/dns/answer-blocks.js';

/** Reads an entry by its handle, as the answer cache does. */
const read = <T>(read: (block: Buffer, at: number, ...rest: number[]) => T) => (blocks: AnswerBlocks, handle: number, ...rest: number[]) => read(blocks.block(handle), blocks.offset(handle), ...rest);
const generationOf = read(entryGeneration);
const metaOf = read(entryMeta);
const questionLengthOf = read(entryQuestionLength);
const questionAtOf = read(entryQuestionAt);
const rotationOf = read(rotationAt as (block: Buffer, at: number, turn: number, limit: number) => Buffer | undefined);

/** The answer cache's read of a query (a plain one, as every query here is), for its other methods. */
const readQuery = (cache: AnswerCache, query: Buffer): FastQuery => {
  const read = cache.read(query);
  assert.ok(read !== undefined, 'a plain query');
  return read;
};

/** A stand-in message: a 12-byte header then `fill` bytes. */
const message = (length: number, fill: number) => Buffer.alloc(length, fill);

describe('AnswerBlocks', () => {
  it('gives back each stored answer with its fields, the rotation of each turn, whatever their lengths', () => {
    const blocks = new AnswerBlocks();
    const one = blocks.store([message(40, 1)], 7, 0x1234, 20);
    const three = blocks.store([message(50, 2), message(60, 3), message(55, 4)], 2 ** 40, 5, 22);
    assert.equal(generationOf(blocks, one), 7);
    assert.equal(metaOf(blocks, one), 0x1234);
    assert.equal(questionLengthOf(blocks, one), 20);
    assert.equal(generationOf(blocks, three), 2 ** 40, 'generations beyond 32 bits are kept whole');
    assert.deepEqual(rotationOf(blocks, one, 0, 512), message(40, 1));
    assert.deepEqual(rotationOf(blocks, one, 1, 512), message(40, 1));
    const turns = [0, 1, 2, 3, 65535].map((turn) => rotationOf(blocks, three, turn, 512));
    assert.deepEqual(turns, [message(50, 2), message(60, 3), message(55, 4), message(50, 2), message(50, 2)]);
    assert.equal(rotationOf(blocks, three, 1, 59), undefined, 'a rotation longer than the limit is not served');
    // The question lies after the first rotation's 12-byte header.
    assert.equal(blocks.block(three)[questionAtOf(blocks, three)], 2);
    assert.equal(blocks.size(one), 18 + 2 + 40, "a header of 18 bytes, a length per rotation, the rotation");
  });

  it('frees a block once its last entry is released, and never one that still holds an entry', () => {
    const blocks = new AnswerBlocks();
    const handles = Array.from({ length: 1000 }, (_, i) => blocks.store([message(100, i & 255)], 1, 0, 10));
    const held = blocks.blockCount;
    assert.ok(held >= 6, `1,000 entries of about 120 bytes fill several 16 KB blocks (${held})`);
    // Release all but the last 10: only the blocks still holding one of them remain (and the current one).
    for (const handle of handles.slice(0, 990)) blocks.release(handle);
    assert.ok(blocks.blockCount <= 2, `${blocks.blockCount} blocks held for 10 entries`);
    for (const [i, handle] of handles.slice(990).entries()) assert.deepEqual(rotationOf(blocks, handle, 0, 512), message(100, (990 + i) & 255));
    // New entries reuse freed blocks and do not disturb the kept ones.
    const more = Array.from({ length: 500 }, (_, i) => blocks.store([message(100, (i + 7) & 255)], 2, 0, 10));
    for (const [i, handle] of handles.slice(990).entries()) assert.deepEqual(rotationOf(blocks, handle, 0, 512), message(100, (990 + i) & 255));
    for (const [i, handle] of more.entries()) assert.deepEqual(rotationOf(blocks, handle, 0, 512), message(100, (i + 7) & 255));
  });

  it('keeps a large answer in a block of its own, freed when it is released', () => {
    const blocks = new AnswerBlocks();
    const small = blocks.store([message(100, 1)], 1, 0, 10);
    const before = blocks.blockCount;
    const large = blocks.store([message(4000, 9), message(4000, 8)], 1, 0, 10);
    assert.equal(blocks.blockCount, before + 1);
    assert.deepEqual(rotationOf(blocks, large, 0, 4096), message(4000, 9));
    blocks.release(large);
    assert.equal(blocks.blockCount, before);
    assert.deepEqual(rotationOf(blocks, small, 0, 512), message(100, 1));
  });
});

describe('AnswerCache over AnswerBlocks', () => {
  it('gives a zone answer block back when the entry is replaced or evicted, so churn does not grow it', async () => {
    const { AnswerCache } = await import('../../src/dns/answer-cache.js');
    const { buildQuery } = await import('../helpers/raw.js');
    let generation = 1;
    const cache = new AnswerCache(1000, 200_000, 1232, () => generation);
    const reply = (query: Buffer) => Buffer.concat([query, Buffer.alloc(60, 7)]);
    // 20 rounds over 500 names, each round a new generation: every entry is replaced 20 times.
    for (let round = 0; round < 20; round++, generation++) {
      for (let i = 0; i < 500; i++) {
        const query = buildQuery(`host-${i}.docker`, 1);
        cache.storeZone(query, readQuery(cache, query), 1, 0, [reply(query)], generation);
      }
    }
    // The budget (200 KB) holds about 1,000 such entries: 500 are all kept, in about 500 × 120 bytes of blocks.
    assert.equal(cache.size, 500);
    assert.ok(cache.zoneBlocks <= 6, `${cache.zoneBlocks} blocks for 500 live entries`);
    // Many more names than the budget holds: the evicted entries' blocks go too.
    for (let i = 0; i < 20_000; i++) {
      const query = buildQuery(`other-${i}.docker`, 1);
      cache.storeZone(query, readQuery(cache, query), 1, 0, [reply(query)], generation);
    }
    assert.ok(cache.size < 2000, `${cache.size} entries kept within the budget`);
    assert.ok(cache.zoneBlocks <= 20, `${cache.zoneBlocks} blocks for ${cache.size} live entries`);
    const last = buildQuery('other-19999.docker', 1);
    assert.deepEqual(cache.serve(last, readQuery(cache, last), false, new Turns())?.reply.subarray(last.length), Buffer.alloc(60, 7));
  });

  it('holds its byte budget under churn with a hot set, counting every block a live entry keeps', async () => {
    const { AnswerCache } = await import('../../src/dns/answer-cache.js');
    const { buildQuery } = await import('../helpers/raw.js');
    const budget = 400_000;
    const cache = new AnswerCache(100_000, budget, 1232, () => 1);
    const reply = (query: Buffer) => Buffer.concat([query, Buffer.alloc(60, 7)]);
    let generation = 1;
    // A hot set of 200 names asked all the time, one of them touched by each change, among cold names asked once:
    // blocks end up holding a few live hot entries among dead ones.
    for (let round = 0; round < 3000; round++) {
      generation++;
      const touched = `hot-${round % 200}.docker`;
      cache.touch(new Set([touched]), generation);
      for (const name of [touched, `hot-${(round * 7) % 200}.docker`, `cold-${round}.docker`]) {
        const query = buildQuery(name, 1);
        if (cache.serve(query, readQuery(cache, query), false, new Turns()) === undefined) cache.storeZone(query, readQuery(cache, query), 1, 0, [reply(query)], generation);
      }
      assert.ok(cache.bytes <= budget, `round ${round}: ${cache.bytes} bytes held against a budget of ${budget}`);
      assert.ok(cache.bytes >= cache.zoneBlocks * 16384, 'every block held is counted whole');
    }
    // The hot set is still served from the cache.
    let hits = 0;
    for (let i = 0; i < 200; i++) {
      const query = buildQuery(`hot-${i}.docker`, 1);
      if (cache.serve(query, readQuery(cache, query), false, new Turns()) !== undefined) hits++;
    }
    assert.ok(hits >= 150, `${hits} of 200 hot names cached`);
  });
});

describe('AnswerCache and the forwarder', () => {
  it('drops a forwarded answer the forwarder let go of: it is held in one place only', async () => {
    const { AnswerCache } = await import('../../src/dns/answer-cache.js');
    const { buildQuery } = await import('../helpers/raw.js');
    const cache = new AnswerCache(100, 100_000, 1232, () => 1);
    const query = buildQuery('example.com', 1);
    const message = Buffer.concat([query, Buffer.alloc(16, 1)]);
    message[2] = 0x81;
    const answer = { message, questionEnd: query.length, ttlOffsets: [], ttls: [], storedAt: Date.now(), expiresAt: Date.now() + 60_000 };
    cache.storeForward(query, readQuery(cache, query), 1, answer, 0);
    assert.ok(cache.serve(query, readQuery(cache, query), true, new Turns()) !== undefined);
    const held = cache.bytes;
    assert.ok(held < message.length + 400, `${held} bytes counted: the entry, not the forwarder's answer again`);
    cache.dropForwarded(answer);
    assert.equal(cache.serve(query, readQuery(cache, query), true, new Turns()), undefined);
    assert.equal(cache.size, 0);
  });
});
