// Bad input gets a 400 naming the field and the reason, and changes nothing; auth gets 401s.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildTestApi } from './app.js';

type Api = Awaited<ReturnType<typeof buildTestApi>>;
const valid = { names: ['db'], addresses: ['10.0.0.5'] };

describe('record validation', () => {
  let api: Api;
  before(async () => {
    api = await buildTestApi();
  });
  after(async () => {
    await api.app.close();
  });

  const cases: [string, unknown, string, RegExp][] = [
    ['an unknown field', { ...valid, colour: 'blue' }, 'colour', /not a known field/],
    ['an unknown field in srv', { ...valid, srv: [{ service: 'x', port: 1, extra: 1 }] }, 'srv[0].extra', /not a known field/],
    ['no names', { addresses: ['10.0.0.5'] }, 'names', /required/],
    ['an empty names list', { ...valid, names: [] }, 'names', /fewer than 1/],
    ['no addresses', { names: ['db'] }, 'addresses', /required/],
    ['a label with a bad character', { ...valid, names: ['db!'] }, 'names[0]', /not a valid DNS name.*characters outside/],
    ['a label starting with a hyphen', { ...valid, names: ['-db'] }, 'names[0]', /not a valid DNS name/],
    ['an empty label', { ...valid, names: ['a..b'] }, 'names[0]', /empty label/],
    ['a label over 63 octets', { ...valid, names: ['a'.repeat(64)] }, 'names[0]', /label of 64 characters/],
    ['a name over 253 octets once qualified', { ...valid, names: [Array(5).fill('a'.repeat(50)).join('.')] }, 'names[0]', /at most 253/],
    ['a name outside every zone', { ...valid, names: ['db.example.com.'] }, 'names[0]', /outside the served zones \(docker, lan\.example\)/],
    ['the zone apex', { ...valid, names: ['docker.'] }, 'names[0]', /zone apex/],
    ['a bad IPv4 address', { ...valid, addresses: ['10.0.0.256'] }, 'addresses[0]', /not an IPv4 or IPv6 address/],
    ['a bad IPv6 address', { ...valid, addresses: ['2001:db8:::1'] }, 'addresses[0]', /not an IPv4 or IPv6 address/],
    ['a host name as address', { ...valid, addresses: ['db.example.com'] }, 'addresses[0]', /not an IPv4 or IPv6 address/],
    ['a negative TTL', { ...valid, ttl: -1 }, 'ttl', />= 0/],
    ['a TTL over 2^31-1', { ...valid, ttl: 2 ** 31 }, 'ttl', /<= 2147483647/],
    ['a TTL as a string', { ...valid, ttl: '30' }, 'ttl', /integer/],
    ['an SRV port 0', { ...valid, srv: [{ service: 'http', port: 0 }] }, 'srv[0].port', />= 1/],
    ['an SRV port over 65535', { ...valid, srv: [{ service: 'http', port: 65536 }] }, 'srv[0].port', /<= 65535/],
    ['an SRV weight over 65535', { ...valid, srv: [{ service: 'http', port: 80, weight: 70000 }] }, 'srv[0].weight', /<= 65535/],
    ['an SRV service with a dot', { ...valid, srv: [{ service: 'a.b', port: 80 }] }, 'srv[0].service', /pattern/],
    ['a lease of 0', { ...valid, lease: 0 }, 'lease', />= 1/],
    ['a check with neither http nor tcp', { ...valid, check: { interval: 5 } }, 'check', /exactly one of/],
    ['a check with both', { ...valid, check: { http: 'http://127.0.0.1/', tcp: '127.0.0.1:1' } }, 'check', /exactly one of/],
    ['a check URL that is not http', { ...valid, check: { http: 'ftp://127.0.0.1/' } }, 'check.http', /not an http/],
    ['a tcp check without a port', { ...valid, check: { tcp: '127.0.0.1' } }, 'check.tcp', /not host:port/],
    ['a check timeout longer than its interval', { ...valid, check: { tcp: '127.0.0.1:80', interval: 1, timeout: 5 } }, 'check.timeout', /longer than the interval/],
  ];
  for (const [what, body, field, reason] of cases) {
    it(`rejects ${what} with 400 naming ${field}`, async () => {
      const generationBefore = api.registry.generation;
      const reply = await api.app.inject({ method: 'PUT', url: '/v1/records/x1', payload: body as object });
      assert.equal(reply.statusCode, 400, reply.body);
      const error = reply.json();
      assert.equal(error.field, field, reply.body);
      assert.match(error.message, reason);
      assert.ok(error.message.startsWith(`${field}: `), error.message);
      assert.equal(api.registry.generation, generationBefore, 'nothing applied');
      assert.equal(api.manual.get('x1'), undefined, 'nothing stored');
    });
  }

  it('rejects a bad id, a body that is not JSON, and an empty PATCH', async () => {
    const badId = await api.app.inject({ method: 'PUT', url: '/v1/records/-bad', payload: valid });
    assert.equal(badId.statusCode, 400);
    assert.equal(badId.json().field, 'id');
    const notJson = await api.app.inject({ method: 'POST', url: '/v1/records', headers: { 'content-type': 'application/json' }, payload: '{"names": [' });
    assert.equal(notJson.statusCode, 400);
    await api.app.inject({ method: 'PUT', url: '/v1/records/p1', payload: valid });
    const empty = await api.app.inject({ method: 'PATCH', url: '/v1/records/p1', payload: {} });
    assert.equal(empty.statusCode, 400);
  });

  it('leaves a record untouched when a PATCH is invalid', async () => {
    await api.app.inject({ method: 'PUT', url: '/v1/records/keep', payload: { names: ['keep'], addresses: ['10.1.1.1'], ttl: 60 } });
    const generation = api.registry.generation;
    const reply = await api.app.inject({ method: 'PATCH', url: '/v1/records/keep', payload: { ttl: 10, addresses: ['nope'] } });
    assert.equal(reply.statusCode, 400);
    assert.equal(reply.json().field, 'addresses[0]');
    assert.equal(api.manual.get('keep')?.ttl, 60);
    assert.deepEqual(api.registry.get('manual:keep')?.addresses, ['10.1.1.1']);
    assert.equal(api.registry.generation, generation);
    assert.deepEqual(readdirSync(join(api.dataDir, 'records')).sort(), ['keep.json', 'p1.json']);
  });

  it('answers 404 for an unknown id on every verb', async () => {
    for (const [method, url, payload] of [
      ['GET', '/v1/records/nobody', undefined],
      ['PATCH', '/v1/records/nobody', { ttl: 5 }],
      ['DELETE', '/v1/records/nobody', undefined],
      ['POST', '/v1/records/nobody/renew', undefined],
    ] as const) {
      const reply = await api.app.inject({ method, url, ...(payload === undefined ? {} : { payload }) });
      assert.equal(reply.statusCode, 404, `${method} ${url}`);
      assert.match(reply.json().message, /no record with id "nobody"/);
    }
  });

  it('answers /readyz 503 naming the parts not ready, then 200', async () => {
    api.readiness.expect('docker');
    const pending = await api.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(pending.statusCode, 503);
    assert.deepEqual(pending.json(), { ready: false, pending: ['docker'], problems: [] });
    api.readiness.markReady('docker');
    assert.equal((await api.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  });

  it('serves the OpenAPI document at /docs', async () => {
    const reply = await api.app.inject({ method: 'GET', url: '/docs/json' });
    assert.equal(reply.statusCode, 200);
    const document = reply.json();
    assert.ok(document.paths['/v1/records/{id}'].put);
    assert.ok(document.paths['/v1/records/{id}/renew'].post);
    assert.ok(document.paths['/services/{id}']);
    assert.ok(document.paths['/v1/axfr']);
  });

  it('serves the Swagger UI at /docs, loaded on the first request for it', async () => {
    const page = await api.app.inject({ method: 'GET', url: '/docs' });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /^text\/html/);
    assert.match(page.body, /swagger-ui-bundle\.js/);
    const bundle = await api.app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
    assert.equal(bundle.statusCode, 200);
    assert.match(bundle.headers['content-type'] as string, /javascript/);
    assert.ok(bundle.rawPayload.length > 100_000, 'the whole bundle');
    const initializer = await api.app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    assert.match(initializer.body, /'\.\/json'/, 'the UI reads the document next to it, at /docs/json');
    const missing = await api.app.inject({ method: 'GET', url: '/docs/nope' });
    assert.equal(missing.statusCode, 404);
    assert.match(missing.json().message, /no route GET \/docs\/nope/);
  });
});

describe('auth', () => {
  let api: Api;
  before(async () => {
    api = await buildTestApi({ token: 's3cret-token-0123456789' });
  });
  after(async () => {
    await api.app.close();
  });

  it('answers 401 to a write without a token or with a wrong one, and accepts the right one', async () => {
    const none = await api.app.inject({ method: 'PUT', url: '/v1/records/a', payload: valid, remoteAddress: '127.0.0.1' });
    assert.equal(none.statusCode, 401);
    assert.match(none.json().message, /Authorization: Bearer/);
    assert.equal(none.headers['www-authenticate'], 'Bearer');
    const wrong = await api.app.inject({ method: 'PUT', url: '/v1/records/a', payload: valid, headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.statusCode, 401);
    assert.match(wrong.json().message, /wrong/);
    assert.equal(api.manual.get('a'), undefined);
    for (const [method, url] of [['DELETE', '/v1/records/a'], ['POST', '/v1/records/a/renew'], ['PUT', '/services/a'], ['PUT', '/set/ttl']] as const) {
      assert.equal((await api.app.inject({ method, url })).statusCode, 401, `${method} ${url}`);
    }
    const right = await api.app.inject({ method: 'PUT', url: '/v1/records/a', payload: valid, headers: { authorization: 'Bearer s3cret-token-0123456789' } });
    assert.equal(right.statusCode, 201);
  });

  it('keeps reads open on loopback but not beyond it; health and metrics stay open', async () => {
    assert.equal((await api.app.inject({ method: 'GET', url: '/v1/records', remoteAddress: '127.0.0.1' })).statusCode, 200);
    assert.equal((await api.app.inject({ method: 'GET', url: '/v1/records', remoteAddress: '10.1.2.3' })).statusCode, 401);
    assert.equal((await api.app.inject({ method: 'GET', url: '/v1/names', remoteAddress: '10.1.2.3' })).statusCode, 401);
    const authed = await api.app.inject({ method: 'GET', url: '/v1/records', remoteAddress: '10.1.2.3', headers: { authorization: 'Bearer s3cret-token-0123456789' } });
    assert.equal(authed.statusCode, 200);
    assert.equal((await api.app.inject({ method: 'GET', url: '/healthz', remoteAddress: '10.1.2.3' })).statusCode, 200);
    assert.equal((await api.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.1.2.3' })).statusCode, 200);
  });

  it('redacts the token in /v1/config', async () => {
    const reply = await api.app.inject({ method: 'GET', url: '/v1/config' });
    assert.equal(reply.json().Seamark.token, '<redacted>');
    assert.ok(!reply.body.includes('s3cret-token'));
  });
});
