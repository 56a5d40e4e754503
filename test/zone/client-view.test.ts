// Which of a container's addresses each client is given: the networks it shares with the asker, the preferred
// network for other clients, every address of hand-made hosts; SRV additional records and PTR follow the rule.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Instance } from '../../src/registry/instance.js';
import { Registry } from '../../src/registry/registry.js';
import { clientView } from '../../src/zone/client-view.js';
import { RRType, Rcode, type ResourceRecord } from '../../src/zone/records.js';
import { lookup, type ZoneSettings } from '../../src/zone/view.js';

const settings: ZoneSettings = { zones: ['docker'], ttl: 30, negativeTtl: 5, failOpen: true, serialBase: 1000 };
const strict: ZoneSettings = { ...settings, networks: { unshared: 'nodata', preferred: [] } };
const preferBack: ZoneSettings = { ...settings, networks: { unshared: 'addresses', preferred: ['nowhere', 'back'] } };

const registry = new Registry();
const add = (owner: string, partial: Partial<Instance>) => registry.upsert({ owner, source: 'docker', names: [], addresses: [], srv: [], healthy: true, ...partial });
add('docker:svc', {
  names: ['svc.docker'],
  addresses: ['10.1.0.5', '10.2.0.5', 'fd00:2::5'],
  addressNetworks: ['front', 'back', 'back'],
  srv: [{ service: 'http', protocol: 'tcp', port: 80, priority: 10, weight: 10 }],
});
add('docker:on-front', { names: ['on-front.docker'], addresses: ['10.1.0.9'], addressNetworks: ['front'] });
add('docker:on-both', { names: ['on-both.docker'], addresses: ['10.1.0.8', '10.2.0.8'], addressNetworks: ['front', 'back'] });
add('docker:on-other', { names: ['on-other.docker'], addresses: ['10.3.0.9'], addressNetworks: ['other'] });
add('manual:vm', { source: 'manual', names: ['vm.docker'], addresses: ['192.0.2.7', '192.0.2.8'] });

const data = (records: readonly ResourceRecord[]) => records.map((r) => ('address' in r ? r.address : 'target' in r ? r.target : r.type)).sort();
const ask = (from: string, name: string, type: number, zone = settings) => lookup(registry, zone, name, type, 0, clientView(registry, from));

test('a container gets the addresses on the networks it shares with the target', () => {
  assert.deepEqual(data(ask('10.1.0.9', 'svc.docker', RRType.A)?.answers ?? []), ['10.1.0.5']);
  assert.deepEqual(data(ask('10.1.0.9', 'svc.docker', RRType.AAAA)?.answers ?? []), [], 'no AAAA on front');
  assert.equal(ask('10.1.0.9', 'svc.docker', RRType.AAAA)?.rcode, Rcode.NOERROR);
  // A client on both networks, asking from either of its addresses, shares both.
  assert.deepEqual(data(ask('10.2.0.8', 'svc.docker', RRType.A)?.answers ?? []), ['10.1.0.5', '10.2.0.5']);
});

test('no shared network: every address, or NODATA when unshared is nodata', () => {
  assert.deepEqual(data(ask('10.3.0.9', 'svc.docker', RRType.A)?.answers ?? []), ['10.1.0.5', '10.2.0.5']);
  const none = ask('10.3.0.9', 'svc.docker', RRType.A, strict);
  assert.equal(none?.rcode, Rcode.NOERROR);
  assert.deepEqual(none?.answers, []);
  assert.equal(none?.authority[0]?.type, RRType.SOA, 'NODATA carries the SOA');
});

test('other clients get every address, or those on the first preferred network the target is on', () => {
  assert.deepEqual(data(ask('127.0.0.1', 'svc.docker', RRType.A)?.answers ?? []), ['10.1.0.5', '10.2.0.5']);
  assert.deepEqual(data(ask('127.0.0.1', 'svc.docker', RRType.A, preferBack)?.answers ?? []), ['10.2.0.5']);
  assert.deepEqual(data(ask('127.0.0.1', 'on-front.docker', RRType.A, preferBack)?.answers ?? []), ['10.1.0.9'], 'not on a preferred network: all');
});

test('hand-made hosts are the same for everyone', () => {
  for (const from of ['10.1.0.9', '10.3.0.9', '127.0.0.1']) assert.deepEqual(data(ask(from, 'vm.docker', RRType.A, strict)?.answers ?? []), ['192.0.2.7', '192.0.2.8']);
});

test('SRV additional records and PTR follow the same rule', () => {
  const srv = ask('10.1.0.9', '_http._tcp.svc.docker', RRType.SRV);
  assert.deepEqual(data(srv?.answers ?? []), ['svc.docker']);
  assert.deepEqual(data(srv?.additional ?? []), ['10.1.0.5']);
  assert.deepEqual(data(ask('10.1.0.9', '5.0.1.10.in-addr.arpa', RRType.PTR)?.answers ?? []), ['svc.docker']);
  assert.equal(ask('10.1.0.9', '5.0.2.10.in-addr.arpa', RRType.PTR, strict), undefined, 'an address it is not given is not answered');
  assert.deepEqual(data(ask('127.0.0.1', '5.0.2.10.in-addr.arpa', RRType.PTR, strict)?.answers ?? []), ['svc.docker']);
});
