// Cluster mode when etcd ends a node's lease while the node lives (a lapse after a paused leader resumes looks the
// same to the others as a revoke by hand, which is how it is made here): the other node keeps answering the node's
// container without a gap while the node publishes again; a node that does not come back is dropped after the
// grace; a node stopped cleanly (SIGTERM) leaves at once, without a grace.
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { lapseGraceMs } from '../../src/cluster/subscriber.js';
import { metric, type RunningSeamark } from '../helpers/seamark.js';
import { api, waitUntil } from '../http/client.js';
import { containerAddresses, runContainer, seamarkResolver } from '../docker/engine.js';
import { answers } from './etcd.js';
import { describeCluster } from './suite.js';

const NODE_TTL = 12;
const GRACE_MS = lapseGraceMs(NODE_TTL);

describeCluster('cluster mode: a node whose lease etcd ends', 'cla', { settings: { nodeTtl: NODE_TTL, clusterAddresses: 'container' } }, (suite) => {
  const { prefix, fqdn, config } = suite;
  let a: RunningSeamark;
  let b: RunningSeamark;
  let addresses: string[];
  /** Revokes node A's lease in etcd: its keys go at once, as when etcd lets a lease lapse. */
  const revokeLeaseOfA = async () => {
    const key = Buffer.from(`/seamark-${prefix}/nodes/node-a`).toString('base64');
    const node = (await suite.etcd.gateway('/v3/kv/range', { key })) as { kvs?: { lease: string }[] };
    const id = node.kvs?.[0]?.lease;
    assert.ok(id !== undefined, 'node-a\'s key is in etcd');
    await suite.etcd.gateway('/v3/lease/revoke', { ID: id });
    return Date.now();
  };
  const lapseWarnings = () => b.logs.filter((line) => String(line.msg).startsWith('node node-a\'s keys left etcd without its leaving mark'));

  before(async () => {
    a = await suite.start({ config: config('node-a'), waitFor: 'published this node\'s instances to etcd' });
    b = await suite.start({ config: config('node-b', { docker: 'off' }) });
    await runContainer(`${prefix}web`);
    addresses = await containerAddresses(`${prefix}web`);
    await waitUntil(async () => (await answers(b, fqdn('web'))).join() === addresses.join(), 15000, 'web on B');
  });

  it('a lease etcd ends under a live node: the other node answers its container all through, while the node publishes again', async () => {
    const lossesBefore = await metric(a, 'seamark_cluster_lease_losses_total');
    const publishedBefore = a.logs.filter((line) => line.msg === 'published this node\'s instances to etcd').length;
    const resolver = seamarkResolver(b.dnsPort);
    const outcomes = new Map<string, number>();
    let polling = true;
    // Asks B continuously, one query after the other, from before the revoke to a second after A published again.
    const poll = (async () => {
      while (polling) {
        let outcome: string;
        try {
          outcome = (await resolver.resolve4(fqdn('web'))).sort().join();
        } catch (error) {
          outcome = String((error as NodeJS.ErrnoException).code);
        }
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
    })();
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const revokedAt = await revokeLeaseOfA();
      await waitUntil(async () => a.logs.filter((line) => line.msg === 'published this node\'s instances to etcd').length > publishedBefore, 15000, 'A to publish again');
      const republished = a.logs.filter((line) => line.msg === 'published this node\'s instances to etcd').at(-1) as { time: number };
      console.log(`lease revoked → node published again after ${republished.time - revokedAt} ms (grace ${GRACE_MS} ms)`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    } finally {
      polling = false;
      await poll;
    }
    console.log('answers on B through the lapse:', Object.fromEntries(outcomes));
    assert.equal(outcomes.get('ENOTFOUND'), undefined, 'never NXDOMAIN on B');
    assert.ok((outcomes.get(addresses.join()) ?? 0) > 10, 'B answered the container\'s addresses');
    assert.deepEqual([...outcomes.keys()].filter((outcome) => outcome !== addresses.join() && outcome !== 'ETIMEOUT'), [], 'nothing but the container\'s addresses (or a timeout on this busy machine)');
    assert.equal(await metric(a, 'seamark_cluster_lease_losses_total'), lossesBefore + 1, 'A lost its lease');
    assert.equal(lapseWarnings().length, 1, 'B saw the lapse');
    await waitUntil(async () => b.logs.some((line) => line.msg === 'node node-a published again after its lease lapsed'), 10000, 'B to see A back');
    const back = b.logs.find((line) => line.msg === 'node node-a published again after its lease lapsed');
    assert.equal(back?.dropped, 0, 'nothing of A was dropped');
  });

  it('a node that does not publish again within the grace is dropped; once it does, it answers again', async () => {
    // A frozen process cannot publish again.
    process.kill(a.pid, 'SIGSTOP');
    try {
      const warningsBefore = lapseWarnings().length;
      await revokeLeaseOfA();
      await waitUntil(async () => lapseWarnings().length > warningsBefore, 10000, 'B to see the lapse');
      assert.deepEqual(await answers(b, fqdn('web')), addresses, 'kept over the grace');
      await waitUntil(async () => (await answers(b, fqdn('web'))).length === 0, GRACE_MS + 10000, 'web to leave B after the grace');
      const dropped = b.logs.find((line) => String(line.msg).startsWith('node node-a did not publish again within'));
      // A serves every container of this host; the test's own is one of them.
      assert.ok(Number(dropped?.dropped) >= 1, 'B says it dropped A\'s instances');
      assert.equal((await api(b.httpPort, 'GET', '/v1/cluster')).body.nodes.some((n: { name: string }) => n.name === 'node-a'), false);
    } finally {
      process.kill(a.pid, 'SIGCONT');
    }
    await waitUntil(async () => (await answers(b, fqdn('web'))).join() === addresses.join(), 20000, 'web on B once A publishes again');
  });

  it('a node stopped cleanly (SIGTERM) leaves every other node at once, without a grace', async () => {
    const warningsBefore = lapseWarnings().length;
    await a.stop('SIGTERM');
    const stoppedAt = Date.now();
    // Well within the grace a lapse would have.
    await waitUntil(async () => (await answers(b, fqdn('web'))).length === 0, GRACE_MS - 1000, 'web to leave B');
    console.log(`SIGTERM → gone from the other node after ${Date.now() - stoppedAt} ms`);
    assert.equal(lapseWarnings().length, warningsBefore, 'no grace for a node that left');
  });
});
