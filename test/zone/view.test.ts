// The zone view as a pure function: answers, NODATA, NXDOMAIN and health.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Instance } from '../../src/registry/instance.js';
import { Registry } from '../../src/registry/registry.js';
import { RRType, Rcode, type ResourceRecord } from '../../src/zone/records.js';
import { lookup, zoneTransfer, type ZoneSettings } from '../../src/zone/view.js';

const settings: ZoneSettings = { zones: ['docker', 'lab.docker'], ttl: 30, negativeTtl: 5, failOpen: true, serialBase: 1000 };

function registryWith(...instances: Partial<Instance>[]): Registry {
  const registry = new Registry();
  instances.forEach((partial, i) => registry.upsert({ owner: `docker:${i}`, source: 'docker', names: [], addresses: [], srv: [], healthy: true, ...partial }));
  return registry;
}

const data = (records: ResourceRecord[]) => records.map((r) => ('address' in r ? r.address : 'target' in r ? r.target : r.type));

test('unhealthy instances leave the answer, unless all are unhealthy and the view fails open', () => {
  const registry = registryWith({ names: ['web.docker'], addresses: ['10.0.0.1'] }, { names: ['web.docker'], addresses: ['10.0.0.2'], healthy: false });
  assert.deepEqual(data(lookup(registry, settings, 'web.docker', RRType.A)?.answers ?? []), ['10.0.0.1']);
  const allDown = registryWith({ names: ['web.docker'], addresses: ['10.0.0.1'], healthy: false }, { names: ['web.docker'], addresses: ['10.0.0.2'], healthy: false });
  assert.deepEqual(data(lookup(allDown, settings, 'web.docker', RRType.A)?.answers ?? []).sort(), ['10.0.0.1', '10.0.0.2']);
  const closed = lookup(allDown, { ...settings, failOpen: false }, 'web.docker', RRType.A);
  assert.equal(closed?.rcode, Rcode.NOERROR);
  assert.deepEqual(closed?.answers, []);
});

test('rotation moves the first address and keeps the set', () => {
  const registry = registryWith({ names: ['r.docker'], addresses: ['10.0.0.1', '10.0.0.2', '10.0.0.3'] });
  const firsts = [0, 1, 2].map((rotation) => data(lookup(registry, settings, 'r.docker', RRType.A, rotation)?.answers ?? [])[0]);
  assert.deepEqual(firsts, ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
});

test('one RRset, one TTL: the smallest of its instances', () => {
  const registry = registryWith({ names: ['t.docker'], addresses: ['10.0.0.1'], ttl: 100 }, { names: ['t.docker'], addresses: ['10.0.0.2'], ttl: 7 });
  assert.deepEqual(lookup(registry, settings, 't.docker', RRType.A)?.answers.map((r) => r.ttl), [7, 7]);
});

test('each RRset takes the TTLs of the instances that give it records only (RFC 2181 §5.2)', () => {
  const registry = registryWith(
    { names: ['mixed.docker'], addresses: ['10.0.0.1'], ttl: 100 },
    { names: ['mixed.docker'], addresses: ['fd00::1'], ttl: 15 },
    { names: ['mixed.docker'], addresses: ['10.0.0.2', 'fd00::2'], ttl: 60 },
  );
  assert.deepEqual(lookup(registry, settings, 'mixed.docker', RRType.A)?.answers.map((r) => r.ttl), [60, 60]);
  assert.deepEqual(lookup(registry, settings, 'mixed.docker', RRType.AAAA)?.answers.map((r) => r.ttl), [15, 15]);
  const any = lookup(registry, settings, 'mixed.docker', RRType.ANY)?.answers ?? [];
  assert.deepEqual(any.map((r) => `${r.type}/${r.ttl}`), ['1/60', '1/60', '28/15', '28/15']);
});

test('the longest zone wins: a name in lab.docker gets the SOA of lab.docker', () => {
  const registry = registryWith({ names: ['nas.lab.docker'], addresses: ['10.0.0.1'] });
  const missing = lookup(registry, settings, 'gone.lab.docker', RRType.A);
  assert.equal(missing?.rcode, Rcode.NXDOMAIN);
  assert.equal(missing?.authority[0]?.name, 'lab.docker');
  assert.equal(missing?.authority[0]?.ttl, 5);
});

test('outside the zones and unknown reverse names are not the zone view’s to answer', () => {
  const registry = registryWith({ names: ['web.docker'], addresses: ['10.0.0.1'] });
  assert.equal(lookup(registry, settings, 'example.com', RRType.A), undefined);
  assert.equal(lookup(registry, settings, '9.9.9.9.in-addr.arpa', RRType.PTR), undefined);
  assert.deepEqual(data(lookup(registry, settings, '1.0.0.10.in-addr.arpa', RRType.PTR)?.answers ?? []), ['web.docker']);
});

test('a zone transfer holds every record of that zone only, between two SOAs', () => {
  const registry = registryWith({ names: ['web.docker'], addresses: ['10.0.0.1', 'fd00::1'] }, { names: ['nas.lab.docker'], addresses: ['10.0.0.2'] });
  const records = zoneTransfer(registry, settings, 'lab.docker');
  assert.equal(records[0]?.type, RRType.SOA);
  assert.equal(records.at(-1)?.type, RRType.SOA);
  assert.deepEqual(records.filter((r) => r.type === RRType.A).map((r) => r.name), ['nas.lab.docker']);
});

test('zone membership compares labels: an escaped dot in a label is no boundary', () => {
  const registry = registryWith({ names: ['web.docker'], addresses: ['10.0.0.1'] });
  assert.equal(lookup(registry, settings, 'web\\.docker', RRType.A), undefined, 'one label under the root');
  assert.equal(lookup(registry, settings, 'a\\\\.docker', RRType.A)?.rcode, Rcode.NXDOMAIN, 'a label ending in a backslash, then docker');
  assert.equal(lookup(registry, settings, 'a\\.b.docker', RRType.A)?.rcode, Rcode.NXDOMAIN);
});

test('a parent zone transfer stops at a served child zone, with its NS and glue', () => {
  const registry = registryWith(
    { names: ['web.docker'], addresses: ['10.0.0.1'] },
    { names: ['nas.lab.docker'], addresses: ['10.0.0.2'] },
    { names: ['ns.lab.docker'], addresses: ['10.0.0.53'] },
  );
  const records = zoneTransfer(registry, settings, 'docker');
  assert.deepEqual(records.filter((r) => r.type === RRType.NS).map((r) => `${r.name} ${data([r])[0]}`), ['docker ns.docker', 'lab.docker ns.lab.docker']);
  assert.deepEqual(records.filter((r) => r.type === RRType.A).map((r) => r.name), ['web.docker', 'ns.lab.docker'], 'glue, no child data');
});

test('SRV: a record two instances share is answered once; the additional section holds the target RRset whole', () => {
  const srv = [{ service: 'http', protocol: 'tcp', port: 80, priority: 0, weight: 0 }];
  const registry = registryWith(
    { names: ['web2.docker'], addresses: ['10.0.0.1'], srv, ttl: 60 },
    { names: ['web2.docker'], addresses: ['10.0.0.2'], srv },
    { names: ['web2.docker'], addresses: ['10.0.0.3'], healthy: false },
  );
  const response = lookup(registry, settings, '_http._tcp.web2.docker', RRType.SRV);
  assert.equal(response?.answers.length, 1);
  assert.deepEqual(response?.additional.map((r) => [data([r])[0], r.ttl]), [['10.0.0.1', 30], ['10.0.0.2', 30]]);
  assert.equal(zoneTransfer(registry, settings, 'docker').filter((r) => r.type === RRType.SRV).length, 1);
});
