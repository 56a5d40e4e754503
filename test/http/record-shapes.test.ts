// Hand-made records of every shape through the API: wildcard names, CNAME (alone at its names, no loops, chains
// of at most 8) and TXT; every refusal a 400 naming the field, and nothing half-applied.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildTestApi } from './app.js';

describe('record shapes: wildcards, CNAME, TXT', () => {
  let api: Awaited<ReturnType<typeof buildTestApi>>;
  const put = (id: string, payload: unknown) => api.app.inject({ method: 'PUT', url: `/v1/records/${id}`, payload: payload as object });
  const refused = async (id: string, payload: unknown, field: string, message: RegExp) => {
    const reply = await put(id, payload);
    assert.equal(reply.statusCode, 400, reply.body);
    assert.equal(reply.json().field, field, reply.body);
    assert.match(reply.json().message ?? reply.json().error ?? reply.body, message);
    return reply;
  };
  before(async () => {
    api = await buildTestApi();
  });
  after(() => api.app.close());

  test('a wildcard name is taken as *.<name> under the zone; a * anywhere else is refused', async () => {
    const reply = await put('wild', { names: ['*.app', '*.apps.lan.example'], addresses: ['10.0.0.9'] });
    assert.equal(reply.statusCode, 201, reply.body);
    assert.deepEqual(reply.json().names, ['*.app.docker', '*.apps.lan.example']);
    assert.deepEqual(api.registry.get('manual:wild')?.names, ['*.app.docker', '*.apps.lan.example']);
    await refused('bad', { names: ['a.*.app'], addresses: ['10.0.0.9'] }, 'names[0]', /"\*" that is not the whole leftmost label/);
    await refused('bad', { names: ['*x.app'], addresses: ['10.0.0.9'] }, 'names[0]', /"\*" that is not the whole leftmost label/);
    await refused('bad', { names: ['*.app'], addresses: ['10.0.0.9'], srv: [{ service: 'http', protocol: 'tcp', port: 80 }] }, 'srv[0]', /not a wildcard/);
  });

  test('a CNAME record: names and a target, no addresses; a relative single label goes under the first zone, a dotted outside name is absolute', async () => {
    const inZone = await put('alias', { names: ['db'], cname: 'db1' });
    assert.equal(inZone.statusCode, 201, inZone.body);
    assert.equal(inZone.json().cname, 'db1.docker');
    assert.deepEqual(inZone.json().addresses, []);
    const outside = await put('legacy', { names: ['legacy'], cname: 'db1.prod.example.com.' });
    assert.equal(outside.json().cname, 'db1.prod.example.com');
    assert.equal((await put('legacy2', { names: ['legacy2'], cname: 'db1.prod.example.com' })).json().cname, 'db1.prod.example.com');
    assert.equal(api.registry.get('manual:alias')?.cname, 'db1.docker');
    const read = await api.app.inject({ method: 'GET', url: '/v1/records/alias' });
    assert.equal(read.json().cname, 'db1.docker');
  });

  test('a CNAME owner has no other data: addresses, srv or txt with it, or another record at its name, are 400s', async () => {
    await refused('x', { names: ['x'], cname: 'db1', addresses: ['10.0.0.1'] }, 'cname', /no other data.*addresses/);
    await refused('x', { names: ['x'], cname: 'db1', txt: ['hello'] }, 'cname', /no other data.*txt/);
    await refused('x', { names: ['x'], cname: 'db1', srv: [{ service: 'http', protocol: 'tcp', port: 80 }] }, 'cname', /no other data.*srv/);
    assert.equal((await put('host-x', { names: ['x'], addresses: ['10.0.0.1'] })).statusCode, 201);
    await refused('alias-x', { names: ['y', 'x'], cname: 'db1' }, 'names[1]', /"x\.docker" is served by manual:host-x already/);
    await refused('host-db', { names: ['db'], addresses: ['10.0.0.2'] }, 'names[0]', /"db\.docker" is an alias of db1\.docker \(manual:alias\)/);
    assert.equal(api.registry.get('manual:alias-x'), undefined, 'nothing half-applied');
    assert.equal(api.registry.get('manual:host-db'), undefined);
  });

  test('a loop or a chain longer than 8 is refused when written, naming it; a chain of 8 is fine', async () => {
    assert.equal((await put('l1', { names: ['l1'], cname: 'l2' })).statusCode, 201);
    assert.equal((await put('l2', { names: ['l2'], cname: 'l3' })).statusCode, 201);
    await refused('l3', { names: ['l3'], cname: 'l1' }, 'cname', /loop of aliases: l3\.docker → l1\.docker → l2\.docker → l3\.docker/);
    await refused('self', { names: ['self'], cname: 'self' }, 'cname', /loop of aliases: self\.docker → self\.docker/);
    // A PATCH that would close the loop is refused the same way, and the record keeps its old target.
    const patch = await api.app.inject({ method: 'PATCH', url: '/v1/records/l2', payload: { cname: 'l1' } });
    assert.equal(patch.statusCode, 400, patch.body);
    assert.match(patch.json().message ?? patch.body, /loop of aliases/);
    assert.equal(api.registry.get('manual:l2')?.cname, 'l3.docker');
    // c1 → c2 → … → c9: eight links are fine, the ninth is refused.
    for (let i = 1; i <= 8; i++) assert.equal((await put(`c${i}`, { names: [`c${i}`], cname: `c${i + 1}` })).statusCode, 201);
    await refused('c0', { names: ['c0'], cname: 'c1' }, 'cname', /more than 8 aliases: c0\.docker → c1\.docker → .* → c9\.docker/);
    // Through a wildcard alias: w → a.star.docker, answered by *.star → w.
    assert.equal((await put('star', { names: ['*.star'], cname: 'w' })).statusCode, 201);
    await refused('w', { names: ['w'], cname: 'a.star.docker' }, 'cname', /loop of aliases: w\.docker → a\.star\.docker → w\.docker/);
  });

  test('TXT: strings up to 4096 octets each, several per record; longer, or too many octets in all, is a 400', async () => {
    const spf = await put('spf', { names: ['mail'], txt: ['v=spf1 -all', 'ü'.repeat(2048)] });
    assert.equal(spf.statusCode, 201, spf.body);
    assert.deepEqual(api.registry.get('manual:spf')?.txt, ['v=spf1 -all', 'ü'.repeat(2048)]);
    await refused('long', { names: ['long'], txt: ['ü'.repeat(2049)] }, 'txt[0]', /4098 octets long in UTF-8 \(at most 4096\)/);
    await refused('many', { names: ['many'], txt: Array.from({ length: 5 }, (_, i) => `${i}`.repeat(4000)) }, 'txt', /20000 octets in all \(at most 16384 a record\)/);
    await refused('none', { names: ['none'] }, 'addresses', /required, unless the record is a "cname" or carries "txt"/);
    const patched = await api.app.inject({ method: 'PATCH', url: '/v1/records/spf', payload: { txt: null, addresses: ['10.0.0.25'] } });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.equal(api.registry.get('manual:spf')?.txt, undefined);
  });

  test('/v1/names lists CNAME and TXT rows', async () => {
    const names = await api.app.inject({ method: 'GET', url: '/v1/names?name=db.docker' });
    assert.deepEqual(names.json().map((entry: { type: string; cname?: string }) => `${entry.type} ${entry.cname ?? ''}`), ['CNAME db1.docker']);
    const mail = await api.app.inject({ method: 'PUT', url: '/v1/records/txt-only', payload: { names: ['spf'], txt: ['v=spf1 -all'] } });
    assert.equal(mail.statusCode, 201, mail.body);
    const rows = await api.app.inject({ method: 'GET', url: '/v1/names?name=spf.docker' });
    assert.deepEqual(rows.json().map((entry: { type: string; txt?: string[] }) => `${entry.type} ${entry.txt?.join() ?? ''}`), ['TXT v=spf1 -all']);
  });
});
