// Cluster mode when etcd goes away: every node keeps answering what it had,
// local Docker changes still show on their node, hand-made writes get 503 with
// nothing half-applied, and once etcd is back every node converges.
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { dig } from '../helpers/dig.js';
import type { RunningSeamark } from '../helpers/seamark.js';
import { api, waitUntil } from '../http/client.js';
import { containerAddresses, runContainer } from '../docker/engine.js';
import { answers, picture } from './etcd.js';
import { describeCluster } from './suite.js';

describeCluster('cluster mode: etcd down and back', 'clf', { settings: { nodeTtl: 3, clusterAddresses: 'container' } }, (suite) => {
  const { prefix, fqdn, config } = suite;
  let a: RunningSeamark;
  let b: RunningSeamark;

  before(async () => {
    a = await suite.start({ config: config('node-a'), waitFor: 'published this node\'s instances to etcd' });
    b = await suite.start({ config: config('node-b', { docker: 'off' }) });
  });

  it('keeps answering through an outage, refuses hand-made writes with 503, and converges once etcd is back', async () => {
    await runContainer(`${prefix}before`);
    const beforeAddresses = await containerAddresses(`${prefix}before`);
    assert.equal((await api(b.httpPort, 'PUT', '/v1/records/acked', { names: [`${prefix}acked`], addresses: ['10.0.0.1'] })).status, 201);
    await waitUntil(async () => (await answers(b, fqdn('before'))).join() === beforeAddresses.join(), 15000, 'container on B');
    await waitUntil(async () => (await answers(a, fqdn('acked'))).join() === '10.0.0.1', 15000, 'record on A');

    await suite.etcd.kill(suite.etcd.members[0]!);
    await waitUntil(async () => (await api(b.httpPort, 'GET', '/readyz')).body.cluster.connected === false, 15000, 'B to notice the outage');
    // Every node keeps what it had.
    assert.deepEqual(await answers(b, fqdn('before')), beforeAddresses);
    assert.deepEqual(await answers(b, fqdn('acked')), ['10.0.0.1']);
    assert.deepEqual(await answers(a, fqdn('acked')), ['10.0.0.1']);
    const ready = await api(b.httpPort, 'GET', '/readyz');
    assert.equal(ready.status, 200, 'ready stays 200 once a first sync happened');
    assert.match((await api(b.httpPort, 'GET', '/metrics')).text, /^seamark_cluster_connected 0$/m);
    // A local Docker change still shows on its node.
    await runContainer(`${prefix}during`);
    const duringAddresses = await containerAddresses(`${prefix}during`);
    await waitUntil(async () => (await answers(a, fqdn('during'))).join() === duringAddresses.join(), 15000, 'new container on A during the outage');
    // A hand-made write is refused, and nothing of it is applied.
    const refused = await api(b.httpPort, 'PUT', '/v1/records/refused', { names: [`${prefix}refused`], addresses: ['10.0.0.2'] });
    assert.equal(refused.status, 503);
    assert.match(refused.body.message, /etcd/);
    assert.equal((await api(b.httpPort, 'GET', '/v1/records/refused')).status, 404);
    assert.equal((await dig(b.dnsPort, fqdn('refused'), 'A')).status, 'NXDOMAIN');
    assert.equal((await api(a.httpPort, 'DELETE', '/v1/records/acked')).status, 503);
    assert.deepEqual(await answers(a, fqdn('acked')), ['10.0.0.1']);
    // Outlive the node lease: the outage must expire nobody once etcd is back.
    await new Promise((resolve) => setTimeout(resolve, 4000));

    await suite.etcd.start(suite.etcd.members[0]!);
    await waitUntil(async () => (await answers(b, fqdn('during'))).join() === duringAddresses.join(), 20000, 'B to learn of the container started during the outage');
    await waitUntil(async () => JSON.stringify(await picture(a, prefix)) === JSON.stringify(await picture(b, prefix)), 20000, 'A and B to serve the same picture');
    assert.deepEqual(await answers(b, fqdn('before')), beforeAddresses);
    // The store holds exactly what was acknowledged.
    for (const node of [a, b]) {
      const records = (await api(node.httpPort, 'GET', '/v1/records')).body as { id: string }[];
      assert.deepEqual(records.map((r) => r.id), ['acked']);
    }
    assert.equal((await api(a.httpPort, 'PUT', '/v1/records/after', { names: [`${prefix}after`], addresses: ['10.0.0.3'] })).status, 201);
    await waitUntil(async () => (await answers(b, fqdn('after'))).join() === '10.0.0.3', 15000, 'a write after the outage on B');
    // One warning per outage, not one per retry.
    for (const node of [a, b]) {
      assert.equal(node.logs.filter((line) => String(line.msg).startsWith('etcd unreachable')).length, 1, 'one warning for the outage');
    }
  });
});
