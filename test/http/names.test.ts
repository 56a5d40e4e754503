// /v1/names and /v1/axfr: built once per registry generation, always current,
// and /v1/names pages and filters.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildTestApi } from './app.js';

type Api = Awaited<ReturnType<typeof buildTestApi>>;
interface Entry {
  name: string;
  type: string;
  source: string;
  record?: string;
}

describe('/v1/names and /v1/axfr', () => {
  let api: Api;
  before(async () => {
    api = await buildTestApi();
    for (let i = 0; i < 7; i++) {
      const reply = await api.app.inject({ method: 'PUT', url: `/v1/records/n${i}`, payload: { names: [`n${i}`], addresses: [`10.95.0.${i + 1}`, `fd00::${i + 1}`] } });
      assert.equal(reply.statusCode, 201);
    }
    api.registry.upsert({ owner: 'docker:abc', source: 'docker', names: ['web.docker'], addresses: ['172.17.0.2'], srv: [], healthy: true });
  });
  after(async () => {
    await api.app.close();
  });

  const get = (url: string) => api.app.inject({ method: 'GET', url });

  it('pages by name with limit and a Link to the next page, never splitting a name', async () => {
    const every = (await get('/v1/names')).json() as Entry[];
    assert.equal(every.length, 15);
    const seen: Entry[] = [];
    let url: string | undefined = '/v1/names?limit=3';
    let pages = 0;
    while (url !== undefined) {
      const reply = await get(url);
      assert.equal(reply.statusCode, 200, reply.body);
      const page = reply.json() as Entry[];
      assert.ok(page.length >= 3 || reply.headers.link === undefined, `a short page (${page.length}) with a next link`);
      seen.push(...page);
      pages++;
      url = /<([^>]+)>; rel="next"/.exec(String(reply.headers.link ?? ''))?.[1];
    }
    assert.deepEqual(seen, every);
    assert.ok(pages >= 4, `${pages} pages`);
    const first = (await get('/v1/names?limit=1')).json() as Entry[];
    assert.deepEqual(first.map((e) => `${e.name} ${e.type}`), ['n0.docker A', 'n0.docker AAAA']);
  });

  it('filters by source and by name', async () => {
    const docker = (await get('/v1/names?source=docker')).json() as Entry[];
    assert.deepEqual(docker.map((e) => e.name), ['web.docker']);
    assert.equal(docker[0]?.record, undefined, 'a container has no record id');
    const one = (await get('/v1/names?name=n3')).json() as Entry[];
    assert.deepEqual(one.map((e) => e.type), ['A', 'AAAA']);
    assert.deepEqual(one.map((e) => e.record), ['n3', 'n3'], 'a hand-made record names its id');
  });

  it('shows every change at once, though built once per generation', async () => {
    const before = (await get('/v1/names')).body;
    assert.equal((await get('/v1/names')).body, before);
    await api.app.inject({ method: 'PUT', url: '/v1/records/late', payload: { names: ['late'], addresses: ['10.95.1.1'] } });
    assert.ok(((await get('/v1/names')).json() as Entry[]).some((e) => e.name === 'late.docker'));
    assert.deepEqual((await get('/v1/axfr')).json().Records.As['late.docker.'], ['10.95.1.1']);
    await api.app.inject({ method: 'DELETE', url: '/v1/records/late' });
    assert.ok(!((await get('/v1/names')).json() as Entry[]).some((e) => e.name === 'late.docker'));
    assert.equal((await get('/v1/axfr')).json().Records.As['late.docker.'], undefined);
  });
});
