// Cluster mode starting while etcd is down: the API listens at once and says what it waits for (`pending:
// cluster`), DNS answers what it has, and once etcd answers the node catches up and is ready. Starting with the
// first etcd endpoint frozen (SIGSTOP: it accepts connections and never answers): the read moves to the next
// member after one attempt, and the node starts with the hand-made records, ready.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSeamark, type RunningSeamark } from '../helpers/seamark.js';
import { api, waitUntil } from '../http/client.js';
import { answers, startEtcd, type EtcdCluster, type EtcdMember } from './etcd.js';
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

describe('cluster mode: starting with the first etcd endpoint frozen', { timeout: 120000 }, () => {
  let etcd: EtcdCluster;
  let b: RunningSeamark;
  let endpoints: string[];
  const config = (node: string) => ({ etcd: endpoints, nodeName: node, nodeTtl: 3, advertiseAddress: '192.0.2.1', etcdPrefix: `/seamark-${prefix}-frozen/`, docker: 'off' });

  before(async () => {
    etcd = await startEtcd(3);
    // A follower first: the leader's own election would only add etcd's election time to the figure.
    const leader = await etcd.leader();
    const frozen = etcd.members.find((member) => member !== leader) as EtcdMember;
    endpoints = [frozen.clientUrl, ...etcd.endpoints.filter((url) => url !== frozen.clientUrl)];
    const a = await startSeamark({ config: config('node-a'), waitFor: 'published this node\'s instances to etcd' });
    assert.equal((await api(a.httpPort, 'PUT', '/v1/records/kept', { names: [`${prefix}kept`], addresses: ['10.0.0.1'] })).status, 201);
    await a.stop();
  });
  after(async () => {
    for (const member of etcd?.members ?? []) etcd.resume(member);
    await b?.stop('SIGKILL');
    await etcd?.stop();
  });

  it('reads through the next member: the API listens with the hand-made records served, ready, and writes work while the member stays frozen', async () => {
    const frozen = etcd.members.find((member) => member.clientUrl === endpoints[0]) as EtcdMember;
    etcd.pause(frozen);
    try {
      const spawnedAt = Date.now();
      b = await startSeamark({ config: config('node-b') });
      const at = (msg: string) => Number(b.logs.find((line) => line.msg === msg)?.time);
      console.log(`first --etcd endpoint frozen: "seamark started" ${Date.now() - spawnedAt} ms after the process was spawned, ${at('seamark started') - at('cluster mode: following etcd')} ms after it began reading etcd`);
      // The records were read at start, through a live member: DNS did not start without them.
      assert.equal(b.logs.some((line) => String(line.msg).startsWith('etcd did not answer at start')), false, 'start read the records');
      assert.equal((await api(b.httpPort, 'GET', '/v1/records/kept')).status, 200);
      assert.deepEqual(await answers(b, `${prefix}kept.docker`), ['10.0.0.1']);
      const ready = await api(b.httpPort, 'GET', '/readyz');
      assert.equal(ready.status, 200);
      assert.notEqual(ready.body.cluster.member, frozen.clientUrl, 'B follows a live member');
      assert.ok(b.logs.some((line) => line.msg === 'etcd member did not answer the read of the cluster: reading through the next' && line.member === frozen.clientUrl));
      assert.equal((await api(b.httpPort, 'PUT', '/v1/records/during', { names: [`${prefix}during`], addresses: ['10.0.0.3'] })).status, 201);
      assert.deepEqual(await answers(b, `${prefix}during.docker`), ['10.0.0.3']);
    } finally {
      etcd.resume(frozen);
    }
  });
});
