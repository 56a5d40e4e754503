// The UDP answer cache is invisible: changes, letter case, rotation, EDNS and TC behave as without it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dig } from '../helpers/dig.js';
import { metric, startSeamark, type RunningSeamark } from '../helpers/seamark.js';

const forty = Array.from({ length: 40 }, (_, i) => `10.40.0.${i + 1}`);

describe('answer cache', () => {
  let seamark: RunningSeamark;
  before(async () => {
    seamark = await startSeamark({
      config: {
        docker: 'off',
        upstreams: [],
        answerCacheSize: 20,
        hosts: [
          { names: ['web'], addresses: ['10.1.0.2'] },
          { names: ['pair'], addresses: ['10.2.0.1', '10.2.0.2', '10.2.0.3'] },
          { names: ['big'], addresses: forty },
        ],
      },
    });
  });
  after(() => seamark.stop());

  test('answers come from the cache once a name has been asked', async () => {
    await dig(seamark.dnsPort, 'web.docker', 'A');
    const before = await metric(seamark, 'seamark_dns_answer_cache_hits_total');
    for (let i = 0; i < 5; i++) assert.equal((await dig(seamark.dnsPort, 'web.docker', 'A')).answer[0]?.data, '10.1.0.2');
    assert.equal((await metric(seamark, 'seamark_dns_answer_cache_hits_total')) - before, 5);
  });

  test('a change is answered on the very next query', async () => {
    const api = `http://127.0.0.1:${seamark.httpPort}/v1/records`;
    assert.equal((await dig(seamark.dnsPort, 'fresh.docker', 'A')).status, 'NXDOMAIN');
    assert.equal((await dig(seamark.dnsPort, 'fresh.docker', 'A')).status, 'NXDOMAIN');
    const created = await fetch(api, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ names: ['fresh'], addresses: ['10.9.0.1'] }) });
    assert.equal(created.status, 201);
    const { id } = (await created.json()) as { id: string };
    assert.deepEqual((await dig(seamark.dnsPort, 'fresh.docker', 'A')).answer.map((r) => r.data), ['10.9.0.1']);
    await fetch(`${api}/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ addresses: ['10.9.0.2'] }) });
    assert.deepEqual((await dig(seamark.dnsPort, 'fresh.docker', 'A')).answer.map((r) => r.data), ['10.9.0.2']);
    await fetch(`${api}/${id}`, { method: 'DELETE' });
    assert.equal((await dig(seamark.dnsPort, 'fresh.docker', 'A')).status, 'NXDOMAIN');
  });

  test('the letter case of each query is kept in cached answers', async () => {
    await dig(seamark.dnsPort, 'web.docker', 'A');
    for (const name of ['WEB.docker', 'wEb.DoCkEr', 'web.DOCKER']) {
      const reply = await dig(seamark.dnsPort, name, 'A');
      assert.equal(reply.answer[0]?.name, `${name}.`);
    }
  });

  test('rotation goes on from the cache', async () => {
    const firsts: string[] = [];
    for (let i = 0; i < 6; i++) firsts.push((await dig(seamark.dnsPort, 'pair.docker', 'A')).answer[0]?.data ?? '');
    assert.deepEqual(new Set(firsts), new Set(['10.2.0.1', '10.2.0.2', '10.2.0.3']));
  });

  test('queries over UDP (from the cache) and TCP (built afresh) take turns in one round robin', async () => {
    const firsts: string[] = [];
    for (let i = 0; i < 6; i++) firsts.push((await dig(seamark.dnsPort, ...(i % 2 === 1 ? ['+tcp'] : []), 'pair.docker', 'A')).answer[0]?.data ?? '');
    for (let i = 0; i + 3 <= firsts.length; i++) {
      assert.equal(new Set(firsts.slice(i, i + 3)).size, 3, `each address first once in every three answers, whatever the transport: ${firsts.join(' ')}`);
    }
  });

  test('EDNS and plain queries of one name each get their own form', async () => {
    for (let i = 0; i < 2; i++) {
      assert.equal((await dig(seamark.dnsPort, '+noedns', 'web.docker', 'A')).edns, undefined);
      assert.match((await dig(seamark.dnsPort, '+edns=0', 'web.docker', 'A')).edns ?? '', /version: 0/);
      const withDo = await dig(seamark.dnsPort, '+dnssec', 'web.docker', 'A');
      assert.match(withDo.edns ?? '', /flags: do/);
    }
  });

  test('TC behaviour is unchanged for a cached big answer', async () => {
    for (let i = 0; i < 3; i++) {
      assert.equal((await dig(seamark.dnsPort, '+bufsize=1232', 'big.docker', 'A')).answer.length, 40);
      const small = await dig(seamark.dnsPort, '+bufsize=512', '+ignore', 'big.docker', 'A');
      assert.ok(small.flags.includes('tc'));
      assert.equal(small.answer.length, 0);
      assert.ok((await dig(seamark.dnsPort, '+noedns', '+ignore', 'big.docker', 'A')).flags.includes('tc'));
    }
  });

  test('the cache is bounded', async () => {
    for (let i = 0; i < 60; i++) await dig(seamark.dnsPort, `n${i}.docker`, 'A');
    const entries = await metric(seamark, 'seamark_dns_answer_cache_entries');
    assert.ok(entries > 0 && entries <= 20, `${entries} entries`);
    assert.equal((await dig(seamark.dnsPort, 'web.docker', 'A')).answer[0]?.data, '10.1.0.2');
  });
});
