// Cluster mode when an etcd member freezes (SIGSTOP: it keeps its connections and accepts new ones but answers
// nothing): the node that follows the cluster through it notices the silent watch, says so, moves to a live
// member and reads the cluster again, so a container started on another node resolves on it during the freeze.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { metric, startSeamark, type RunningSeamark } from '../helpers/seamark.js';
import { api, waitUntil } from '../http/client.js';
import { containerAddresses, dockerUnavailable, removeByPrefix, runContainer, seamarkResolver, skipLoudly, testPrefix } from '../docker/engine.js';
import { answers, startEtcd, type EtcdCluster } from './etcd.js';

const unavailable = dockerUnavailable();
if (unavailable !== undefined) skipLoudly(unavailable);
const prefix = testPrefix('clz');

describe('cluster mode with a frozen etcd member', { skip: unavailable, timeout: 240000 }, () => {
  let etcd: EtcdCluster;
  let a: RunningSeamark;
  let b: RunningSeamark;
  const fqdn = (suffix: string) => `${prefix}${suffix}.docker`;
  const config = (node: string, extra: Record<string, unknown> = {}) => ({
    etcd: etcd.endpoints, nodeName: node, nodeTtl: 5, advertiseAddress: '192.0.2.1', clusterAddresses: 'container', etcdPrefix: `/seamark-${prefix}/`, ...extra,
  });

  before(async () => {
    await removeByPrefix(prefix);
    etcd = await startEtcd(3);
    a = await startSeamark({ config: config('node-a'), waitFor: 'published this node\'s instances to etcd' });
    b = await startSeamark({ config: config('node-b', { docker: 'off' }), waitFor: 'seamark started' });
  });
  after(async () => {
    for (const member of etcd?.members ?? []) etcd.resume(member);
    await a?.stop('SIGKILL');
    await b?.stop('SIGKILL');
    await etcd?.stop();
    await removeByPrefix(prefix);
  });

  it('a node watching through a frozen member moves to a live one: a new container and a new record of A resolve on B', async () => {
    const frozen = etcd.members[0]!;
    await waitUntil(async () => (await api(b.httpPort, 'GET', '/v1/cluster')).body.member === frozen.clientUrl, 10000, 'B to follow the first endpoint');
    etcd.pause(frozen);
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
      etcd.resume(frozen);
    }
  });

  it('the etcd leader paused for longer than the node lease costs no lease while paused, and every name answers once it resumes', async () => {
    await runContainer(`${prefix}steady`);
    const addresses = await containerAddresses(`${prefix}steady`);
    await waitUntil(async () => (await answers(b, fqdn('steady'))).join() === addresses.join(), 15000, 'steady on B');
    const lossesBefore = [await metric(a, 'seamark_cluster_lease_losses_total'), await metric(b, 'seamark_cluster_lease_losses_total')];
    const leader = await etcd.leader();
    etcd.pause(leader);
    try {
      // Twice the node TTL: keep-alives must find the live members, whatever member each node was using.
      await new Promise((resolve) => setTimeout(resolve, 10000));
      assert.deepEqual([await metric(a, 'seamark_cluster_lease_losses_total'), await metric(b, 'seamark_cluster_lease_losses_total')], lossesBefore, 'no node lost its lease while the leader was paused');
      assert.deepEqual(await answers(b, fqdn('steady')), addresses);
    } finally {
      etcd.resume(leader);
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
