// Leased hand-made records in a cluster expire by etcd (one etcd lease per record), never by a node's clock:
// a node whose clock runs an hour fast deletes no record, a record written through a node an hour slow is not
// deleted early by the others, and both wrong clocks are reported loudly. The nodes with wrong clocks run in this
// process with an injected clock (a real clock cannot be set wrong for one process); node A is a real seamark.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { Registry as MetricsRegistry } from 'prom-client';
import { Cluster } from '../../src/cluster/index.js';
import { loadConfig } from '../../src/config/load.js';
import { Registry } from '../../src/registry/registry.js';
import type { ManualRecord } from '../../src/sources/manual/record.js';
import { systemClock, type LeaseClock } from '../../src/sources/manual/leases.js';
import { ManualSource } from '../../src/sources/manual/source.js';
import { startSeamark, type RunningSeamark } from '../helpers/seamark.js';
import { api, waitUntil } from '../http/client.js';
import { testPrefix } from '../docker/engine.js';
import { answers, startEtcd, type EtcdCluster } from './etcd.js';

const prefix = testPrefix('cll');
const HOUR_MS = 3600 * 1000;

interface SkewedNode {
  manual: ManualSource;
  registry: Registry;
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

describe('cluster mode: record leases and wrong clocks', { timeout: 180000 }, () => {
  let etcd: EtcdCluster;
  let a: RunningSeamark;
  const nodes: SkewedNode[] = [];
  const etcdPrefix = `/seamark-${prefix}/`;

  /** A cluster node in this process whose clock is `offsetMs` off (timers run at the real pace). */
  const startSkewedNode = async (name: string, offsetMs: number): Promise<SkewedNode> => {
    const clock: LeaseClock = { now: () => Date.now() + offsetMs, setTimer: systemClock.setTimer };
    const { config } = loadConfig({ help: false, version: false, flags: { docker: 'off', etcd: etcd.endpoints, nodeName: name, nodeTtl: '3', advertiseAddress: '192.0.2.5', etcdPrefix } }, {});
    const logs: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
    const registry = new Registry();
    const cluster = new Cluster(config, registry, new MetricsRegistry(), 'test', log, clock);
    const store = cluster.recordStore<ManualRecord>();
    cluster.startSubscriber();
    const manual = new ManualSource({ store, registry, zones: config.zones, log, clock });
    await manual.start();
    cluster.startPublisher();
    const node = { manual, registry, logs, stop: async () => (manual.stop(), await cluster.stop()) };
    nodes.push(node);
    return node;
  };
  const served = (node: SkewedNode, id: string) => [...node.registry.all()].some((instance) => instance.owner === `manual:${id}`);

  before(async () => {
    etcd = await startEtcd(1);
    a = await startSeamark({ config: { etcd: etcd.endpoints, nodeName: 'node-a', nodeTtl: 3, advertiseAddress: '192.0.2.1', etcdPrefix, docker: 'off' }, waitFor: 'published this node\'s instances to etcd' });
  });
  after(async () => {
    for (const node of nodes) await node.stop();
    await a?.stop('SIGKILL');
    await etcd?.stop();
  });

  it('a node an hour fast deletes no record, and says its clock is off', async () => {
    assert.equal((await api(a.httpPort, 'PUT', '/v1/records/long', { names: [`${prefix}long`], addresses: ['10.0.0.1'], lease: 600 })).status, 201);
    const fast = await startSkewedNode('node-fast', HOUR_MS);
    await waitUntil(() => served(fast, 'long'), 10000, 'the record on the fast node');
    await waitUntil(() => fast.logs.some((line) => /clock is 3[56]\d\d s ahead of etcd/.test(String(line.msg))), 10000, 'the fast node to report its clock');
    // By the fast node's clock the record lapsed 50 minutes ago; etcd's lease has 10 minutes to go.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.ok(served(fast, 'long'), 'the fast node still serves the record');
    assert.equal((await api(a.httpPort, 'GET', '/v1/records/long')).status, 200);
    assert.deepEqual(await answers(a, `${prefix}long.docker`), ['10.0.0.1']);
  });

  it('a record written through a node an hour slow lives its lease on every node, then leaves every node', async () => {
    const slow = await startSkewedNode('node-slow', -HOUR_MS);
    await waitUntil(() => slow.logs.some((line) => /clock is 3[56]\d\d s behind etcd/.test(String(line.msg))), 10000, 'the slow node to report its clock');
    await slow.manual.put('short', { names: [`${prefix}short`], addresses: ['10.0.0.2'], srv: [], lease: 4 });
    // By A's clock (and the fast node's) this record lapsed an hour ago as soon as it was written.
    await waitUntil(async () => (await answers(a, `${prefix}short.docker`)).join() === '10.0.0.2', 5000, 'the record on A');
    const [fast] = nodes;
    await waitUntil(() => served(fast!, 'short'), 5000, 'the record on the fast node');
    assert.equal((await api(a.httpPort, 'GET', '/v1/records/short')).status, 200, 'A keeps it');
    // etcd's lease of 4 s lapses: every node drops it, the slow writer too.
    await waitUntil(async () => (await answers(a, `${prefix}short.docker`)).length === 0, 15000, 'the record to leave A once its etcd lease lapsed');
    await waitUntil(() => !served(slow, 'short') && !served(fast!, 'short'), 5000, 'the record to leave the nodes with wrong clocks');
    assert.ok(served(fast!, 'long'), 'the long record stays');
  });
});
