// What a node owns in etcd, and how it keeps it: keys deleted by another hand come back, a second seamark with
// the same --node-name is refused and changes nothing of the first's, and SkyDNS keys of nodes `sk` and `sk-2`
// (one name a prefix of the other) stay each their own.
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import type { RunningSeamark } from '../helpers/seamark.js';
import { api, waitUntil } from '../http/client.js';
import { containerAddresses, runContainer } from '../docker/engine.js';
import { answers } from './etcd.js';
import { describeCluster } from './suite.js';

const NODE_TTL = 3;
const base64 = (text: string) => Buffer.from(text).toString('base64');

describeCluster('cluster mode: what a node owns in etcd', 'clo', { settings: { nodeTtl: NODE_TTL, clusterAddresses: 'container' } }, (suite) => {
  const { prefix, fqdn, config } = suite;
  let a: RunningSeamark;
  let b: RunningSeamark;
  const etcdPrefix = `/seamark-${prefix}/`;
  let webId = '';
  /** Keys (and their leases) under a prefix, read straight from etcd. */
  const keysUnder = async (keyPrefix: string): Promise<Map<string, string>> => {
    const end = Buffer.from(keyPrefix);
    end[end.length - 1] = (end[end.length - 1] as number) + 1;
    const response = await suite.etcd.gateway('/v3/kv/range', { key: base64(keyPrefix), range_end: end.toString('base64') });
    const kvs = (response.kvs ?? []) as { key: string; lease?: string }[];
    return new Map(kvs.map((kv) => [Buffer.from(kv.key, 'base64').toString(), kv.lease ?? '0']));
  };
  /** The lease a key lives on; undefined when the key is absent. */
  const leaseOf = async (key: string): Promise<string | undefined> => {
    const response = await suite.etcd.gateway('/v3/kv/range', { key: base64(key) });
    const [kv] = (response.kvs ?? []) as { lease?: string }[];
    return kv === undefined ? undefined : (kv.lease ?? '0');
  };
  const deletePrefix = async (keyPrefix: string) => {
    const end = Buffer.from(keyPrefix);
    end[end.length - 1] = (end[end.length - 1] as number) + 1;
    await suite.etcd.gateway('/v3/kv/deleterange', { key: base64(keyPrefix), range_end: end.toString('base64') });
  };

  before(async () => {
    a = await suite.start({ config: config('sk', { etcdSkydns: true }), waitFor: 'published this node\'s instances to etcd' });
    b = await suite.start({ config: config('sk-2', { etcdSkydns: true }), waitFor: 'published this node\'s instances to etcd' });
  });

  it('a node\'s keys deleted with `etcdctl del --prefix` come back, and the SkyDNS keys of `sk-2` survive the repair by `sk`', async () => {
    webId = await runContainer(`${prefix}web`);
    const addresses = await containerAddresses(`${prefix}web`);
    const skydnsDir = `/skydns/docker/${prefix}web/`;
    // Both nodes follow the same Docker engine here: each publishes the container, under its own keys.
    await waitUntil(async () => (await keysUnder(skydnsDir)).size === 2, 15000, 'both nodes\' SkyDNS keys');
    const before = await keysUnder(skydnsDir);
    await waitUntil(async () => (await keysUnder(`${etcdPrefix}instances/sk/`)).size > 0, 15000, 'sk\'s instance keys');

    await deletePrefix(`${etcdPrefix}instances/sk/`);
    await suite.etcd.gateway('/v3/kv/deleterange', { key: base64(`${etcdPrefix}nodes/sk`) });
    await waitUntil(async () => (await keysUnder(`${etcdPrefix}instances/sk/`)).size > 0, 10000, 'sk to rewrite its instance keys');
    await waitUntil(async () => (await leaseOf(`${etcdPrefix}nodes/sk`)) !== undefined, 10000, 'sk to rewrite its node key');
    assert.ok(a.logs.some((line) => String(line.msg).includes('rewritten')), 'sk said it repaired its keys');
    await waitUntil(async () => (await answers(b, fqdn('web'))).join() === addresses.join(), 10000, 'the container to answer on sk-2');
    // sk's full read of /skydns/ kept to its own keys: sk-2's are there, on sk-2's lease, unchanged.
    assert.deepEqual(await keysUnder(skydnsDir), before);
  });

  it('a second seamark with the same --node-name is refused and changes nothing of the first\'s', async () => {
    const held = await leaseOf(`${etcdPrefix}nodes/sk`);
    // The engine is shared with other tests: only this test's container is compared.
    const webKey = `${etcdPrefix}instances/sk/docker:${webId}`;
    const webLease = await leaseOf(webKey);
    assert.ok(webLease !== undefined && webLease !== '0', [...(await keysUnder(`${etcdPrefix}instances/sk/`)).keys()].join(' ') + ' ' + webKey);
    // Docker off: had it published its (empty) picture, every one of sk's instance keys would be gone.
    const duplicate = await suite.start({ config: config('sk', { docker: 'off' }), waitFor: 'seamark started' });
    const code = await new Promise<number | null>((resolve) => duplicate.process.once('exit', resolve));
    assert.equal(code, 1);
    const fatal = duplicate.logs.find((line) => line.level === 60);
    assert.match(String(fatal?.msg), /node name sk is held in etcd by another live seamark/);
    assert.equal(await leaseOf(`${etcdPrefix}nodes/sk`), held, 'the first node keeps its node key, on its lease');
    assert.equal(await leaseOf(webKey), webLease, 'and its instance keys, on its lease');
    assert.deepEqual(await answers(b, fqdn('web')), await containerAddresses(`${prefix}web`));
    const nodes = (await api(b.httpPort, 'GET', '/v1/cluster')).body.nodes as { name: string }[];
    assert.deepEqual(nodes.map((n) => n.name), ['sk', 'sk-2']);
  });
});
