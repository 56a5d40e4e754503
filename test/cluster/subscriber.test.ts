// The cluster subscriber over a scripted etcd client: a resync or a batch of watch events that fails is
// logged and the cluster is read again, so the picture catches up instead of stopping where it broke; a full
// read that misses a node whose lease lapsed during a watch gap keeps its instances for the grace.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { Registry as MetricsRegistry } from 'prom-client';
import type { EtcdClient, KeyValue, WatchHandlers } from '../../src/cluster/client.js';
import { encodeInstance, KeyLayout } from '../../src/cluster/keys.js';
import { EtcdLink } from '../../src/cluster/link.js';
import { Subscriber, type RecordSink } from '../../src/cluster/subscriber.js';
import type { Instance } from '../../src/registry/instance.js';
import { Registry } from '../../src/registry/registry.js';

const layout = new KeyLayout('/seamark/');
const remote = (owner: string, name: string, address: string): Instance => ({ owner, source: 'docker', names: [name], addresses: [address], srv: [], healthy: true });

/** An etcd holding `entries`, that counts lists and hands out the watch handlers. */
function scriptedEtcd(entries: KeyValue[]) {
  const state = { lists: 0, watches: [] as WatchHandlers[] };
  const reader = {
    endpoint: 'http://etcd:2379',
    list: async () => {
      state.lists++;
      return { revision: 10 + state.lists, entries };
    },
    watch: (_prefix: string, _from: number, handlers: WatchHandlers) => {
      state.watches.push(handlers);
      return { cancel: () => undefined };
    },
    close: () => undefined,
  };
  const client = { endpoints: [reader.endpoint], reader: () => reader } as unknown as EtcdClient;
  return { client, state };
}

/** The subscriber's retry timers are unref'd (they must not hold seamark open): this holds the test process open meanwhile. */
function holdOpen(): () => void {
  const timer = setInterval(() => undefined, 1000);
  return () => clearInterval(timer);
}

/** A subscriber of node `a` over a scripted client, with its registry and the lines it logs. */
function subscriberOver(client: EtcdClient, records?: RecordSink) {
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) });
  const registry = new Registry();
  const link = new EtcdLink(log, new MetricsRegistry());
  const subscriber = new Subscriber({ client, layout, link, registry, nodeName: 'a', nodeTtl: 10, ...(records === undefined ? {} : { records }), log });
  return { subscriber, registry, lines };
}

test('a resync that fails after the list is logged and tried again until the picture is read', { timeout: 5000 }, async () => {
  const { client, state } = scriptedEtcd([{ key: layout.instance('b', 'docker:1'), value: encodeInstance(remote('docker:1', 'web.docker', '10.0.0.7')), modRevision: 5 }]);
  let sinkCalls = 0;
  const { subscriber, registry, lines } = subscriberOver(client, {
    replaceAll: () => {
      if (++sinkCalls === 1) throw new Error('record store not ready');
    },
    apply: () => undefined,
  });
  subscriber.start();
  const release = holdOpen();
  try {
    await subscriber.firstSync();
    assert.equal(state.lists, 2, 'listed once more after the failure');
    assert.deepEqual(registry.byName('web.docker').map((i) => i.addresses), [['10.0.0.7']]);
    const failure = lines.find((line) => line.msg.startsWith('cluster resync failed'));
    assert.ok(failure !== undefined && failure.level === 50, 'the failure is an error line');
  } finally {
    release();
    subscriber.stop();
  }
});

test('watch events that cannot be applied make the subscriber read the cluster again', { timeout: 5000 }, async () => {
  const { client, state } = scriptedEtcd([]);
  let failApply = true;
  const { subscriber, lines } = subscriberOver(client, {
    replaceAll: () => undefined,
    apply: () => {
      if (failApply) throw new Error('unexpected record');
    },
  });
  subscriber.start();
  const release = holdOpen();
  try {
    await subscriber.firstSync();
    failApply = false;
    assert.doesNotThrow(() => state.watches[0]?.onEvents([{ kind: 'put', key: layout.record('r1'), value: '{}', modRevision: 12 }]));
    assert.equal(lines.filter((line) => line.msg.startsWith('applying etcd watch events failed')).length, 0);
    failApply = true;
    assert.doesNotThrow(() => state.watches[0]?.onEvents([{ kind: 'put', key: layout.record('r2'), value: '{}', modRevision: 13 }]));
    assert.equal(lines.filter((line) => line.msg.startsWith('applying etcd watch events failed')).length, 1);
    for (let i = 0; i < 50 && state.lists < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(state.lists, 2, 'listed again');
    assert.equal(state.watches.length, 2, 'and watching from the new list');
  } finally {
    release();
    subscriber.stop();
  }
});

test('a full read without a node\'s keys and without its leaving mark keeps its instances for the grace; what it publishes again replaces them', { timeout: 10000 }, async () => {
  const nodeKey = (node: string, lease: string, extra: Record<string, unknown> = {}): KeyValue => ({
    key: layout.node(node),
    value: JSON.stringify({ name: node, advertiseAddress: '192.0.2.2', dns: [], version: 'test', startedAt: '2026-01-01T00:00:00.000Z', lease, ttl: 3, ...extra }),
    modRevision: 4,
  });
  const instanceKey = (node: string, owner: string, name: string): KeyValue => ({ key: layout.instance(node, owner), value: encodeInstance(remote(owner, name, '10.0.0.7')), modRevision: 4 });
  // Node b's lease will lapse during a gap in the watch; node c marked its key as leaving before it stopped.
  const entries = [nodeKey('b', '1'), instanceKey('b', 'docker:1', 'web.docker'), nodeKey('c', '2', { leaving: true }), instanceKey('c', 'docker:1', 'gone.docker')];
  const { client, state } = scriptedEtcd(entries);
  const { subscriber, registry, lines } = subscriberOver(client);
  const readAgain = async () => {
    const lists = state.lists;
    state.watches.at(-1)?.onBroken('watch ended');
    for (let i = 0; i < 100 && state.lists === lists; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  };
  const served = (name: string) => registry.byName(name).length > 0;
  subscriber.start();
  const release = holdOpen();
  try {
    await subscriber.firstSync();
    assert.ok(served('web.docker') && served('gone.docker'));
    entries.splice(0);
    await readAgain();
    assert.ok(served('web.docker'), 'b\'s instance is kept over the lapse');
    assert.ok(!served('gone.docker'), 'c left: its instance goes at once');
    assert.ok(lines.some((line) => line.msg.startsWith('node b\'s keys left etcd without its leaving mark')));
    entries.push(nodeKey('b', '3'), instanceKey('b', 'docker:2', 'api.docker'));
    await readAgain();
    assert.ok(served('api.docker'), 'what b published again is served');
    assert.ok(!served('web.docker'), 'what b did not publish again goes');
    assert.ok(lines.some((line) => line.msg === 'node b published again after its lease lapsed'));
  } finally {
    release();
    subscriber.stop();
  }
});
