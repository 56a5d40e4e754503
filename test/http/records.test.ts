// /v1/records through real HTTP against the real seamark, each change checked with dig.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dig } from '../helpers/dig.js';
import { seamarkForSuite } from '../helpers/seamark.js';
import { api, digAddresses } from './client.js';

describe('/v1/records', () => {
  const seamark = seamarkForSuite({ config: { docker: 'off', zones: ['docker', 'lan.example'] } });
  const call = (method: string, path: string, body?: unknown) => api(seamark.httpPort, method, path, body);

  it('creates with PUT, reads, replaces, patches and deletes, each visible in DNS at once', async () => {
    const created = await call('PUT', '/v1/records/db1', { names: ['db1', 'postgres.lan.example.'], addresses: ['10.0.0.5', '2001:DB8::5'], ttl: 120 });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body.names, ['db1.docker', 'postgres.lan.example']);
    assert.deepEqual(created.body.addresses, ['10.0.0.5', '2001:db8::5']);
    assert.equal(created.body.healthy, true);
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'db1.docker'), ['10.0.0.5']);
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'postgres.lan.example', 'AAAA'), ['2001:db8::5']);
    const answer = await dig(seamark.dnsPort, 'db1.docker', 'A');
    assert.equal(answer.answer[0]?.ttl, 120);

    const read = await call('GET', '/v1/records/db1');
    assert.equal(read.status, 200);
    assert.equal(read.body.id, 'db1');
    assert.equal(read.body.ttl, 120);

    const again = await call('PUT', '/v1/records/db1', { names: ['db1'], addresses: ['10.0.0.6'] });
    assert.equal(again.status, 200, 'PUT on an existing id replaces');
    assert.equal(again.body.createdAt, created.body.createdAt);
    assert.equal(again.body.ttl, undefined);
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'db1.docker'), ['10.0.0.6']);
    assert.equal((await dig(seamark.dnsPort, 'postgres.lan.example', 'AAAA')).status, 'NXDOMAIN');

    const patched = await call('PATCH', '/v1/records/db1', { addresses: ['10.0.0.7', '10.0.0.8'], srv: [{ service: 'postgres', port: 5432 }] });
    assert.equal(patched.status, 200);
    assert.deepEqual(patched.body.names, ['db1.docker']);
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'db1.docker'), ['10.0.0.7', '10.0.0.8']);
    const srv = await dig(seamark.dnsPort, '_postgres._tcp.db1.docker', 'SRV');
    assert.deepEqual(srv.answer.map((r) => r.data), ['0 0 5432 db1.docker.']);

    const deleted = await call('DELETE', '/v1/records/db1');
    assert.equal(deleted.status, 204);
    assert.equal((await dig(seamark.dnsPort, 'db1.docker', 'A')).status, 'NXDOMAIN');
    assert.equal((await call('GET', '/v1/records/db1')).status, 404);
    assert.equal((await call('DELETE', '/v1/records/db1')).status, 404);
  });

  it('with If-None-Match: * a PUT only creates: an existing record answers 412 and stays as it was', async () => {
    const createOnly = (addresses: string[]) =>
      fetch(`http://127.0.0.1:${seamark.httpPort}/v1/records/once`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', 'if-none-match': '*' },
        body: JSON.stringify({ names: ['once'], addresses }),
      });
    const first = await createOnly(['10.0.3.1']);
    assert.equal(first.status, 201);
    const second = await createOnly(['10.0.3.2']);
    assert.equal(second.status, 412);
    assert.match(((await second.json()) as { message: string }).message, /record "once" exists/);
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'once.docker'), ['10.0.3.1']);
    assert.deepEqual((await call('GET', '/v1/records/once')).body.addresses, ['10.0.3.1']);
    await call('DELETE', '/v1/records/once');
  });

  it('creates with POST under a server-generated id, and lists with a name filter', async () => {
    const created = await call('POST', '/v1/records', { names: ['build-box'], addresses: ['192.168.7.20'] });
    assert.equal(created.status, 201);
    assert.match(created.body.id, /^[0-9a-f-]{36}$/);
    assert.equal(created.headers.get('location'), `/v1/records/${created.body.id}`);
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'build-box.docker'), ['192.168.7.20']);
    const ptr = await dig(seamark.dnsPort, '-x', '192.168.7.20');
    assert.deepEqual(ptr.answer.map((r) => r.data), ['build-box.docker.']);

    await call('PUT', '/v1/records/other', { names: ['other'], addresses: ['192.168.7.21'] });
    const all = await call('GET', '/v1/records');
    assert.equal(all.status, 200);
    assert.ok(all.body.length >= 2);
    const filtered = await call('GET', '/v1/records?name=build-box');
    assert.deepEqual(filtered.body.map((r: { id: string }) => r.id), [created.body.id]);
    const qualified = await call('GET', '/v1/records?name=build-box.docker.');
    assert.deepEqual(qualified.body.map((r: { id: string }) => r.id), [created.body.id]);
  });

  it('renews a lease, and 409s a renew of a record without one', async () => {
    const created = await call('PUT', '/v1/records/vm1', { names: ['vm1'], addresses: ['10.9.0.1'], lease: 600 });
    const renewed = await call('POST', '/v1/records/vm1/renew');
    assert.equal(renewed.status, 200);
    assert.ok(Date.parse(renewed.body.expiresAt) >= Date.parse(created.body.expiresAt));
    assert.ok(Date.parse(renewed.body.expiresAt) > Date.now() + 590_000);
    assert.deepEqual(await digAddresses(seamark.dnsPort, 'vm1.docker'), ['10.9.0.1']);
    await call('PUT', '/v1/records/nolease', { names: ['nolease'], addresses: ['10.9.0.2'] });
    const conflict = await call('POST', '/v1/records/nolease/renew');
    assert.equal(conflict.status, 409);
    assert.match(conflict.body.message, /no lease/);
    assert.equal((await call('POST', '/v1/records/missing/renew')).status, 404);
  });

  it('lists every served name with source, owner and health in /v1/names', async () => {
    await call('PUT', '/v1/records/web', { names: ['web'], addresses: ['10.3.0.1', 'fd00::1'], srv: [{ service: 'http', port: 80 }] });
    const names = await call('GET', '/v1/names?name=web');
    assert.equal(names.status, 200);
    assert.deepEqual(
      names.body.map((e: { type: string; addresses: string[] }) => [e.type, e.addresses]),
      [['A', ['10.3.0.1']], ['AAAA', ['fd00::1']]],
    );
    assert.equal(names.body[0].source, 'manual');
    assert.equal(names.body[0].owner, 'manual:web');
    assert.equal(names.body[0].healthy, true);
    const all = await call('GET', '/v1/names');
    const srv = all.body.find((e: { name: string }) => e.name === '_http._tcp.web.docker');
    assert.deepEqual(srv.srv, { target: 'web.docker', port: 80, priority: 0, weight: 0 });
    assert.ok(all.body.some((e: { source: string; name: string }) => e.source === 'config' && e.name === 'ns.docker'));
  });
});
