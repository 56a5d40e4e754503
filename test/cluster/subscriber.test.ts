// The cluster subscriber over a scripted etcd client: a resync or a batch of watch events that fails is
// logged and the cluster is read again, so the picture catches up instead of stopping where it broke.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { Registry as MetricsRegistry } from 'prom-client';
import type { EtcdClient, KeyValue, WatchHandlers } from '../../src/cluster/client.js';
import { encodeInstance, KeyLayout } from '../../src/cluster/keys.js';
import { EtcdLink } from '../../src/cluster/link.js';
import { Subscriber } from '../../src/cluster/subscriber.js';
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

function capturingLog() {
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) });
  return { log, lines };
}

test('a resync that fails after the list is logged and tried again until the picture is read', { timeout: 5000 }, async () => {
  const { client, state } = scriptedEtcd([{ key: layout.instance('b', 'docker:1'), value: encodeInstance(remote('docker:1', 'web.docker', '10.0.0.7')), modRevision: 5 }]);
  const { log, lines } = capturingLog();
  const registry = new Registry();
  let sinkCalls = 0;
  const subscriber = new Subscriber({
    client,
    layout,
    link: new EtcdLink(log, new MetricsRegistry()),
    registry,
    nodeName: 'a',
    records: {
      replaceAll: () => {
        if (++sinkCalls === 1) throw new Error('record store not ready');
      },
      apply: () => undefined,
    },
    log,
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
  const { log, lines } = capturingLog();
  const registry = new Registry();
  let failApply = true;
  const subscriber = new Subscriber({
    client,
    layout,
    link: new EtcdLink(log, new MetricsRegistry()),
    registry,
    nodeName: 'a',
    records: {
      replaceAll: () => undefined,
      apply: () => {
        if (failApply) throw new Error('unexpected record');
      },
    },
    log,
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
