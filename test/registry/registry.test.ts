// The registry's indexes: names, SRV names, addresses and empty non-terminals follow every change.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compactInstance, NO_SRV, type Instance } from '../../src/registry/instance.js';
import { addressFromReverseName, canonicalAddress, qualifyName, reverseName } from '../../src/registry/names.js';
import { Registry } from '../../src/registry/registry.js';

const host = (owner: string, names: string[], addresses: string[], extra: Partial<Instance> = {}): Instance => ({
  owner,
  source: 'manual',
  names,
  addresses,
  srv: [],
  healthy: true,
  ...extra,
});

test('instances are found by name, SRV name and address, and leave every index when removed', () => {
  const registry = new Registry();
  registry.upsert(host('manual:a', ['web.prod.docker'], ['10.0.0.1', 'FD00::1'], { srv: [{ service: 'http', protocol: 'tcp', port: 80, priority: 0, weight: 0 }] }));
  assert.equal(registry.byName('web.prod.docker')[0]?.owner, 'manual:a');
  assert.equal(registry.bySrvName('_http._tcp.web.prod.docker')[0]?.owner, 'manual:a');
  assert.equal(registry.byAddress('fd00:0:0::1')[0]?.owner, 'manual:a');
  assert.ok(registry.hasDescendants('prod.docker'));
  assert.ok(registry.hasDescendants('_tcp.web.prod.docker'));
  assert.ok(!registry.hasDescendants('web.prod.docker.x'));

  assert.equal(registry.remove('manual:a'), true);
  assert.equal(registry.remove('manual:a'), false);
  assert.deepEqual(registry.byName('web.prod.docker'), []);
  assert.deepEqual(registry.byAddress('10.0.0.1'), []);
  assert.ok(!registry.hasDescendants('prod.docker'));
  assert.equal(registry.size, 0);
});

test('an upsert replaces the instance with the same owner; two owners of a name both answer', () => {
  const registry = new Registry();
  registry.upsert(host('docker:1', ['web.docker'], ['10.0.0.1']));
  registry.upsert(host('docker:2', ['web.docker'], ['10.0.0.2']));
  registry.upsert(host('docker:1', ['api.docker'], ['10.0.0.3']));
  assert.deepEqual(registry.byName('web.docker').map((i) => i.owner), ['docker:2']);
  assert.deepEqual(registry.byName('api.docker').map((i) => i.addresses), [['10.0.0.3']]);
  assert.deepEqual(registry.byAddress('10.0.0.1'), []);
});

test('replaceByPrefix swaps one source as a single change; the generation and listeners follow', () => {
  const registry = new Registry();
  const seen: number[] = [];
  registry.onChange((generation) => seen.push(generation));
  registry.upsert(host('config:x', ['x.docker'], ['10.0.0.9']));
  registry.upsert(host('docker:old', ['old.docker'], ['10.0.0.1']));
  registry.replaceByPrefix('docker:', [host('docker:new', ['new.docker'], ['10.0.0.2'])]);
  assert.deepEqual(seen, [1, 2, 3]);
  assert.deepEqual(registry.byName('old.docker'), []);
  assert.equal(registry.byName('new.docker').length, 1);
  assert.equal(registry.byName('x.docker').length, 1, 'other sources untouched');
});

test('a replica fed with the mutations ends up equal, with the same generation', () => {
  const primary = new Registry();
  const replica = new Registry();
  primary.onMutation((change, generation) => replica.apply(structuredClone(change), generation));
  primary.upsert(host('manual:a', ['a.docker'], ['10.0.0.1']));
  primary.replaceByPrefix('docker:', [host('docker:b', ['b.docker'], ['10.0.0.2'])]);
  primary.remove('manual:a');
  assert.equal(replica.generation, primary.generation);
  assert.deepEqual([...replica.all()], [...primary.all()]);
});

test('a throwing listener is reported by name; the change stands and every other listener still runs', () => {
  const failures: { listener: string; message: string }[] = [];
  const registry = new Registry({ onListenerError: (error, listener) => failures.push({ listener, message: (error as Error).message }) });
  const mutations: number[] = [];
  const changes: number[] = [];
  registry.onMutation(() => {
    throw new Error('replica gone');
  }, 'replication');
  registry.onMutation((_change, generation) => mutations.push(generation), 'counter');
  registry.onChange(() => {
    throw new Error('disk full');
  }, 'serial');
  registry.onChange((generation) => changes.push(generation));
  registry.upsert(host('manual:a', ['a.docker'], ['10.0.0.1']));
  registry.remove('manual:a');
  assert.deepEqual(mutations, [1, 2]);
  assert.deepEqual(changes, [1, 2]);
  assert.equal(registry.generation, 2);
  assert.deepEqual(registry.byName('a.docker'), [], 'the removal applied');
  assert.deepEqual(failures, [
    { listener: 'replication', message: 'replica gone' },
    { listener: 'serial', message: 'disk full' },
    { listener: 'replication', message: 'replica gone' },
    { listener: 'serial', message: 'disk full' },
  ]);
});

test('name helpers: qualification, canonical addresses, reverse names both ways', () => {
  assert.equal(qualifyName('Web', ['docker', 'lab']), 'web.docker');
  assert.equal(qualifyName('nas.lab.', ['docker', 'lab']), 'nas.lab');
  assert.equal(qualifyName('nas.lab', ['docker', 'lab']), 'nas.lab');
  assert.equal(canonicalAddress('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
  assert.equal(canonicalAddress('::ffff:1.2.3.4'), '::ffff:102:304');
  assert.equal(canonicalAddress('10.0.0.256'), undefined);
  assert.equal(reverseName('10.1.2.3'), '3.2.1.10.in-addr.arpa');
  assert.equal(addressFromReverseName(reverseName('fd00::6')), 'fd00::6');
  assert.equal(addressFromReverseName('2.1.10.in-addr.arpa'), undefined, 'a network, not a host');
});

test('compactInstance: a received copy of an instance becomes an equal one that holds no spare room', () => {
  const full: Instance = {
    owner: 'docker:abc',
    source: 'docker',
    names: ['web.docker', '*.web.docker'],
    addresses: ['172.18.0.2', 'fd00::2'],
    addressNetworks: ['front', 'front'],
    ttl: 60,
    srv: [{ service: 'http', protocol: 'tcp', port: 80, priority: 0, weight: 0 }],
    healthy: true,
    origin: { container: 'web', networks: ['front'] },
    publishedPorts: [{ port: 80, protocol: 'tcp', hostPort: 8080 }],
    clusterAddresses: 'published',
    txt: ['v=1'],
  };
  const alias: Instance = { owner: 'manual:db', source: 'manual', names: ['db.docker'], addresses: [], srv: [], healthy: false, cname: 'db1.docker' };
  for (const instance of [full, alias]) {
    const received = structuredClone(instance);
    const compact = compactInstance(received);
    assert.deepStrictEqual(compact, instance, 'the same instance, field for field; absent fields stay absent');
    assert.notEqual(compact.names, received.names, 'arrays are fresh copies cut to their length');
  }
  assert.equal(compactInstance(structuredClone(alias)).srv, NO_SRV, 'an empty SRV list is the shared one');
});
