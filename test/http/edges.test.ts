// The edges of the API: SRV duplicates, long ids and names in paths, health
// check and name rules, the auth scheme, empty bodies, one error shape, and
// IPv4-mapped addresses — each through app.inject on the real app.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildTestApi } from './app.js';

type Api = Awaited<ReturnType<typeof buildTestApi>>;
const TOKEN = 'edge-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('API edges', () => {
  let api: Api;
  before(async () => {
    api = await buildTestApi({ token: TOKEN });
  });
  after(async () => {
    await api.app.close();
  });
  const put = (id: string, payload: unknown, headers: Record<string, string> = auth) =>
    api.app.inject({ method: 'PUT', url: `/v1/records/${id}`, headers, payload: payload as object });

  it('keeps each distinct SRV entry once (service and protocol compared case-insensitively)', async () => {
    const reply = await put('srv-dup', { names: ['srvdup'], addresses: ['10.70.0.1'], srv: [{ service: 'http', port: 80 }, { service: 'http', port: 80 }, { service: 'HTTP', port: 80 }, { service: 'http', port: 81 }] });
    assert.equal(reply.statusCode, 201, reply.body);
    assert.deepEqual(reply.json().srv.map((s: { service: string; port: number }) => `${s.service}:${s.port}`), ['http:80', 'http:81']);
    const names = (await api.app.inject({ method: 'GET', url: '/v1/names?name=_http._tcp.srvdup' })).json();
    assert.deepEqual(names.map((n: { srv: { port: number } }) => n.srv.port).sort(), [80, 81]);
    const mesos = (await api.app.inject({ method: 'GET', url: '/v1/services/_http._tcp.srvdup.docker' })).json();
    assert.deepEqual(mesos.map((e: { port: string }) => e.port).sort(), ['80', '81']);
  });

  it('takes ids up to 128 characters and names up to 254 in the path', async () => {
    const id = 'i'.repeat(128);
    assert.equal((await put(id, { names: ['long-id'], addresses: ['10.70.0.2'] })).statusCode, 201);
    assert.equal((await api.app.inject({ method: 'GET', url: `/v1/records/${id}` })).json().id, id);
    assert.equal((await api.app.inject({ method: 'GET', url: `/services/${id}` })).statusCode, 200);
    const name = `${'a'.repeat(60)}.${'b'.repeat(60)}.docker`;
    assert.equal((await put('long-name', { names: [name], addresses: ['10.70.0.3'] })).statusCode, 201);
    const hosts = await api.app.inject({ method: 'GET', url: `/v1/hosts/${name}` });
    assert.equal(hosts.statusCode, 200, hosts.body);
    assert.deepEqual(hosts.json(), [{ host: `${name}.`, ip: '10.70.0.3' }]);
    assert.equal((await api.app.inject({ method: 'GET', url: `/v1/records/${'i'.repeat(129)}` })).statusCode, 400);
  });

  const refused: [string, unknown, string, RegExp][] = [
    ['the name server name', { names: ['ns'], addresses: ['10.0.0.1'] }, 'names[0]', /reserved for the zone's name server/],
    ['the name server name of another zone', { names: ['ns.lan.example.'], addresses: ['10.0.0.1'] }, 'names[0]', /reserved/],
    ['a tcp check with empty labels', { names: ['c1'], addresses: ['10.0.0.1'], check: { tcp: '...:22' } }, 'check.tcp', /not host:port/],
    ['a tcp check with a bracketed non-address', { names: ['c1'], addresses: ['10.0.0.1'], check: { tcp: '[:]:22' } }, 'check.tcp', /not host:port/],
    ['a tcp check with an IPv4 address in brackets', { names: ['c1'], addresses: ['10.0.0.1'], check: { tcp: '[1.2.3.4]:22' } }, 'check.tcp', /not host:port/],
    ['an http check with credentials', { names: ['c1'], addresses: ['10.0.0.1'], check: { http: 'http://user:pw@10.0.0.1/' } }, 'check.http', /user name or password/],
  ];
  for (const [what, payload, field, message] of refused) {
    it(`refuses ${what} with 400 naming ${field}`, async () => {
      const reply = await put('refused', payload);
      assert.equal(reply.statusCode, 400, reply.body);
      assert.equal(reply.json().field, field);
      assert.match(reply.json().message, message);
      assert.equal(reply.json().error, 'Bad Request');
    });
  }

  it('accepts valid tcp checks, and a short interval without a timeout (the timeout follows the interval)', async () => {
    for (const tcp of ['db.lan:5432', '10.0.0.1:22', '[2001:db8::1]:22']) {
      const reply = await put('check-ok', { names: ['checked'], addresses: ['10.0.0.1'], check: { tcp, interval: 1 } });
      assert.equal(reply.statusCode, reply.statusCode === 201 ? 201 : 200, reply.body);
      assert.equal(reply.json().check.timeout, 1);
    }
  });

  it('takes the bearer scheme in any case', async () => {
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      const reply = await put('scheme', { names: ['scheme'], addresses: ['10.0.0.1'] }, { authorization: `${scheme} ${TOKEN}` });
      assert.ok(reply.statusCode === 201 || reply.statusCode === 200, `${scheme}: ${reply.statusCode}`);
    }
    assert.equal((await put('scheme', { names: ['scheme'], addresses: ['10.0.0.1'] }, { authorization: `Basic ${TOKEN}` })).statusCode, 401);
  });

  it('treats an empty JSON body as no body on DELETE and renew', async () => {
    await put('empty-body', { names: ['emptybody'], addresses: ['10.0.0.1'], lease: 60 });
    const headers = { ...auth, 'content-type': 'application/json' };
    assert.equal((await api.app.inject({ method: 'POST', url: '/v1/records/empty-body/renew', headers, payload: '' })).statusCode, 200);
    assert.equal((await api.app.inject({ method: 'DELETE', url: '/v1/records/empty-body', headers, payload: '' })).statusCode, 204);
  });

  it('answers every error in one shape: the status text as error, and the field', async () => {
    const json = { ...auth, 'content-type': 'application/json' };
    const garbled = await api.app.inject({ method: 'PUT', url: '/v1/records/x', headers: json, payload: '{"names": [' });
    assert.equal(garbled.statusCode, 400);
    assert.equal(garbled.json().error, 'Bad Request');
    assert.equal(garbled.json().field, 'body');
    const proto = await api.app.inject({ method: 'PUT', url: '/v1/records/x', headers: json, payload: '{"names":["x"],"addresses":["10.0.0.1"],"__proto__":{"a":1}}' });
    assert.equal(proto.statusCode, 400);
    assert.equal(proto.json().field, '__proto__');
    assert.match(proto.json().message, /not a known field/);
    const plain = await api.app.inject({ method: 'PUT', url: '/v1/records/x', headers: { ...auth, 'content-type': 'text/plain' }, payload: '{"names":["x"],"addresses":["10.0.0.1"]}' });
    assert.equal(plain.statusCode, 415);
    assert.equal(plain.json().error, 'Unsupported Media Type');
    assert.equal(plain.json().field, 'content-type');
    for (const reply of [garbled, proto, plain]) assert.deepEqual(Object.keys(reply.json()).sort(), ['error', 'field', 'message', 'statusCode']);
  });

  it('stores and shows an IPv4-mapped IPv6 address as the IPv4 address', async () => {
    const reply = await put('mapped', { names: ['mapped'], addresses: ['::ffff:1.2.3.4', '::FFFF:0102:0305', '1.2.3.4'] });
    assert.equal(reply.statusCode, 201, reply.body);
    assert.deepEqual(reply.json().addresses, ['1.2.3.4', '1.2.3.5']);
  });
});
