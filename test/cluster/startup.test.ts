// Cluster mode starting while etcd is down: the API listens at once and says what it waits for (`pending:
// cluster`), DNS answers what it has, and once etcd answers the node catches up and is ready.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSeamark, type RunningSeamark } from '../helpers/seamark.js';
import { api, waitUntil } from '../http/client.js';
import { answers, startEtcd, type EtcdCluster } from './etcd.js';
import { testPrefix } from '../docker/engine.js';

const prefix = testPrefix('cls');

describe('cluster mode: starting with etcd down', { timeout: 120000 }, () => {
  let etcd: EtcdCluster;
  let a: RunningSeamark;
  let b: RunningSeamark;
  const config = (node: string) => ({ etcd: etcd.endpoints, nodeName: node, nodeTtl: 3, advertiseAddress: '192.0.2.1', etcdPrefix: `/seamark-${prefix}/`, docker: 'off' });

  before(async () => {
    etcd = await startEtcd(1);
    a = await startSeamark({ config: config('node-a'), waitFor: 'published this node\'s instances to etcd' });
    assert.equal((await api(a.httpPort, 'PUT', '/v1/records/kept', { names: [`${prefix}kept`], addresses: ['10.0.0.1'] })).status, 201);
    await etcd.kill(etcd.members[0]!);
  });
  after(async () => {
    await a?.stop('SIGKILL');
    await b?.stop('SIGKILL');
    await etcd?.stop();
  });

  it('listens while etcd is down, says pending: cluster, and is ready with the records once etcd answers', async () => {
    b = await startSeamark({ config: config('node-b') });
    const health = await api(b.httpPort, 'GET', '/healthz');
    assert.equal(health.status, 200);
    const ready = await api(b.httpPort, 'GET', '/readyz');
    assert.equal(ready.status, 503);
    assert.deepEqual(ready.body.pending, ['cluster']);
    assert.equal(ready.body.cluster.connected, false);
    // A write is refused with 503, not lost.
    assert.equal((await api(b.httpPort, 'PUT', '/v1/records/early', { names: [`${prefix}early`], addresses: ['10.0.0.2'] })).status, 503);

    await etcd.start(etcd.members[0]!);
    await waitUntil(async () => (await api(b.httpPort, 'GET', '/readyz')).status === 200, 20000, 'B to be ready once etcd answers');
    await waitUntil(async () => (await answers(b, `${prefix}kept.docker`)).join() === '10.0.0.1', 10000, 'the record written before on B');
  });
});
