// Cluster mode when an etcd member freezes (SIGSTOP: it keeps its connections and accepts new ones but answers
// nothing): the node that follows the cluster through it notices the silent watch, says so, moves to a live
// member and reads the cluster again, so a container started on another node resolves on it during the freeze.
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { metric, type RunningSeamark } from '../helpers/seamark.js';
import { api, waitUntil } from '../http/client.js';
import { containerAddresses, runContainer, seamarkResolver } from '../docker/engine.js';
import { answers } from './etcd.js';
import { describeCluster } from './suite.js';

describeCluster('cluster mode with a frozen etcd member', 'clz', { members: 3, settings: { nodeTtl: 5, clusterAddresses: 'container' } }, (suite) => {
  const { prefix, fqdn, config } = suite;
  let a: RunningSeamark;
  let b: RunningSeamark;

  before(async () => {
    a = await suite.start({ config: config('node-a'), waitFor: 'published this node\'s instances to etcd' });
    b = await suite.start({ config: config('node-b', { docker: 'off' }), waitFor: 'seamark started' });
  });

  it('a node watching through a frozen member moves to a live one: a new container and a new record of A resolve on B', async () => {
    const frozen = suite.etcd.members[0]!;
    await waitUntil(async () => (await api(b.httpPort, 'GET', '/v1/cluster')).body.member === frozen.clientUrl, 10000, 'B to follow the first endpoint');
    suite.etcd.pause(frozen);
    try {
      await runContainer(`${prefix}new`);
      const addresses = await containerAddresses(`${prefix}new`);
      // The bound: a silent watch is noticed within 3 s, a write through a frozen member is retried on another.
      await waitUntil(async () => (await answers(b, fqdn('new'))).join() === addresses.join(), 15000, 'the container started on A to resolve on B');
      assert.equal((await api(a.httpPort, 'PUT', '/v1/records/frozen', { names: [`${prefix}rec`], addresses: ['10.0.0.7'] })).status, 201);
      await waitUntil(async () => (await answers(b, fqdn('rec'))).join() === '10.0.0.7', 15000, 'the record written through A to resolve on B');
      const status = (await api(b.httpPort, 'GET', '/v1/cluster')).body;
      assert.notEqual(status.member, frozen.clientUrl, 'B follows a live member');
      assert.equal(status.connected, true);
      // B said it was behind while it was, naming the member.
      const warning = b.logs.find((line) => String(line.msg).startsWith('etcd unreachable') && String(line.err).includes(frozen.clientUrl));
      assert.ok(warning, 'B warned that the member it watched through fell silent');
    } finally {
      suite.etcd.resume(frozen);
    }
  });

  it('the etcd leader paused for longer than the node lease costs no lease while paused, and every name answers once it resumes', async () => {
    await runContainer(`${prefix}steady`);
    const addresses = await containerAddresses(`${prefix}steady`);
    await waitUntil(async () => (await answers(b, fqdn('steady'))).join() === addresses.join(), 15000, 'steady on B');
    const lossesBefore = [await metric(a, 'seamark_cluster_lease_losses_total'), await metric(b, 'seamark_cluster_lease_losses_total')];
    const leader = await suite.etcd.leader();
    suite.etcd.pause(leader);
    try {
      // Twice the node TTL: keep-alives must find the live members, whatever member each node was using.
      await new Promise((resolve) => setTimeout(resolve, 10000));
      assert.deepEqual([await metric(a, 'seamark_cluster_lease_losses_total'), await metric(b, 'seamark_cluster_lease_losses_total')], lossesBefore, 'no node lost its lease while the leader was paused');
      assert.deepEqual(await answers(b, fqdn('steady')), addresses);
    } finally {
      suite.etcd.resume(leader);
    }
    // Should etcd let leases lapse as the old leader resumes, the other nodes keep serving a lapsed node's names
    // while it publishes again: asked without pause for 5 s, B never says NXDOMAIN.
    const resolver = seamarkResolver(b.dnsPort);
    const outcomes = new Set<string>();
    for (const until = Date.now() + 5000; Date.now() < until; ) {
      try {
        outcomes.add((await resolver.resolve4(fqdn('steady'))).sort().join());
      } catch (error) {
        outcomes.add(String((error as NodeJS.ErrnoException).code));
      }
    }
    assert.equal(outcomes.has('ENOTFOUND'), false, 'never NXDOMAIN on B after the leader resumed');
    await waitUntil(async () => (await answers(b, fqdn('steady'))).join() === addresses.join(), 10000, 'steady on B after the leader resumed');
  });
});
