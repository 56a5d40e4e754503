// The SkyDNS/CoreDNS projection: keys and values as CoreDNS's etcd plugin
// reads them (msg.Service: host, port, ttl), written and removed with the container.
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import type { RunningSeamark } from '../helpers/seamark.js';
import { waitUntil } from '../http/client.js';
import { containerAddresses, docker, runContainer } from '../docker/engine.js';
import { describeCluster } from './suite.js';

describeCluster('SkyDNS projection', 'sky', { timeout: 120000, settings: { clusterAddresses: 'container', etcdSkydns: true } }, (suite) => {
  const { prefix } = suite;
  let a: RunningSeamark;

  /** Every key under /skydns/ with its parsed value. */
  const skydns = async (): Promise<Map<string, Record<string, unknown>>> => {
    const base64 = (text: string) => Buffer.from(text).toString('base64');
    const response = await suite.etcd.gateway('/v3/kv/range', { key: base64('/skydns/'), range_end: base64('/skydns0') });
    const kvs = (response.kvs ?? []) as { key: string; value: string }[];
    return new Map(kvs.map((kv) => [Buffer.from(kv.key, 'base64').toString(), JSON.parse(Buffer.from(kv.value, 'base64').toString()) as Record<string, unknown>]));
  };

  before(async () => {
    a = await suite.start({ config: suite.config('node-a'), waitFor: 'published this node\'s instances to etcd' });
  });

  it('writes /skydns/<name reversed>/<node>-<short id> = {"host","port","ttl"} and removes it with the container', async () => {
    const id = await runContainer(`${prefix}sky`, ['-l', 'seamark.srv.http=80/tcp', '-l', 'seamark.ttl=42']);
    const [address] = await containerAddresses(`${prefix}sky`);
    const key = `/skydns/docker/${prefix}sky/node-a-${id.slice(0, 12)}`;
    await waitUntil(async () => (await skydns()).has(key), 15000, `${key} in etcd`);
    const value = (await skydns()).get(key);
    assert.deepEqual(value, { host: address, port: 80, ttl: 42 });
    // Only fields of CoreDNS's msg.Service, with its types.
    assert.equal(typeof value?.host, 'string');
    assert.equal(typeof value?.port, 'number');
    assert.equal(typeof value?.ttl, 'number');
    await docker('rm', '-f', `${prefix}sky`);
    await waitUntil(async () => !(await skydns()).has(key), 15000, `${key} gone`);
  });
});
