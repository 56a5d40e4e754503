// The shape of the SkyDNS keys, by CoreDNS's etcd plugin rules: the SRV target of an entry whose host is an
// address is the key read back as a name (reversed path segments), so each segment must be a DNS label of at most
// 63 octets and the name at most 253; `ttl` is always written (CoreDNS would serve 300 s without it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_NODE_LABEL, SKYDNS_PREFIX, skydnsKeys, skydnsNodeLabel } from '../../src/cluster/skydns.js';
import type { Instance } from '../../src/registry/instance.js';

const containerId = 'f'.repeat(64);
const instance = (names: string[], extra: Partial<Instance> = {}): Instance => ({
  owner: `docker:${containerId}`, source: 'docker', names, addresses: ['172.17.0.5'], srv: [], healthy: true, ...extra,
});
/** The name CoreDNS makes of a key (plugin/etcd/msg.Domain): the segments after /skydns/, reversed. */
const domainOf = (key: string) => key.slice(SKYDNS_PREFIX.length).split('/').reverse().join('.');

test('every label of the SRV target CoreDNS builds fits 63 octets, for any node name seamark accepts', () => {
  const longNode = `N${'o'.repeat(61)}e`; // 63 characters, the longest --node-name
  for (const node of ['sk', 'Host_1.example.com', longNode]) {
    const published = new Map([[`docker:${containerId}`, instance(['web.docker'], { srv: [{ service: 'http', protocol: 'tcp', port: 80, priority: 0, weight: 0 }, { service: 'https', protocol: 'tcp', port: 443, priority: 0, weight: 0 }], addresses: ['172.17.0.5', '10.0.0.5'] })]]);
    const keys = skydnsKeys(node, published, 30);
    assert.equal(keys.size, 4, 'one entry per address and port');
    for (const key of keys.keys()) {
      const target = domainOf(key);
      for (const label of target.split('.')) assert.ok(label.length >= 1 && label.length <= 63, `${label} in ${target}`);
      assert.match(key.slice(key.lastIndexOf('/') + 1), /^[a-z0-9-]+-f{12}-[0-3]$/, 'a node label, the short id, the entry index');
    }
  }
  assert.ok(skydnsNodeLabel(longNode).length <= MAX_NODE_LABEL);
  assert.notEqual(skydnsNodeLabel(`${longNode}`), skydnsNodeLabel(`${longNode.slice(0, -1)}x`), 'long names stay apart');
});

test('ttl is always written: the instance\'s own, else the zone default', () => {
  const published = new Map([
    ['docker:aaaaaaaaaaaa1', instance(['a.docker'], { owner: 'docker:aaaaaaaaaaaa1', ttl: 42 })],
    ['docker:bbbbbbbbbbbb2', instance(['b.docker'], { owner: 'docker:bbbbbbbbbbbb2' })],
  ]);
  const values = [...skydnsKeys('sk', published, 30).values()].map((value) => JSON.parse(value) as { host: string; ttl: number });
  assert.deepEqual(values, [{ host: '172.17.0.5', ttl: 42 }, { host: '172.17.0.5', ttl: 30 }]);
});

test('nodes `sk` and `sk-2` publishing the same container get different keys', () => {
  const published = new Map([[`docker:${containerId}`, instance(['web.docker'])]]);
  const sk = [...skydnsKeys('sk', published, 30).keys()];
  const sk2 = [...skydnsKeys('sk-2', published, 30).keys()];
  assert.deepEqual(sk, ['/skydns/docker/web/sk-ffffffffffff']);
  assert.deepEqual(sk2, ['/skydns/docker/web/sk-2-ffffffffffff']);
});

test('a name too long to take the entry label is left out rather than written as a target CoreDNS cannot serve', () => {
  const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(50)}.docker`;
  const published = new Map([[`docker:${containerId}`, instance([long, 'short.docker'])]]);
  assert.deepEqual([...skydnsKeys('sk', published, 30).keys()], ['/skydns/docker/short/sk-ffffffffffff']);
});
