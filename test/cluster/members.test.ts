// Cluster mode over a 3-member etcd cluster: losing one member or the leader
// changes no answer and writes keep working with quorum; a node whose etcd
// member was away while the history was compacted catches up to the same picture.
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { metric, type RunningSeamark } from '../helpers/seamark.js';
import { api, waitUntil } from '../http/client.js';
import { containerAddresses, docker, runContainer } from '../docker/engine.js';
import { answers, picture } from './etcd.js';
import { describeCluster } from './suite.js';

const NODE_TTL = 3;

describeCluster('cluster mode over three etcd members', 'clm', { members: 3, timeout: 300000, settings: { nodeTtl: NODE_TTL, clusterAddresses: 'container' } }, (suite) => {
  const { prefix, fqdn, config } = suite;
  let a: RunningSeamark;
  let b: RunningSeamark;
  let c: RunningSeamark;

  before(async () => {
    a = await suite.start({ config: config('node-a'), waitFor: 'published this node\'s instances to etcd' });
    b = await suite.start({ config: config('node-b', { docker: 'off' }) });
    // C talks to the last member only, so it can be cut off while the others go on.
    c = await suite.start({ config: config('node-c', { etcd: [suite.etcd.endpoints[2] as string], docker: 'off' }) });
  });

  it('a killed follower, then a killed leader, change no answer; writes keep working with quorum', async () => {
    await runContainer(`${prefix}app`);
    const appAddresses = await containerAddresses(`${prefix}app`);
    assert.equal((await api(b.httpPort, 'PUT', '/v1/records/vm', { names: [`${prefix}vm`], addresses: ['10.0.0.1'] })).status, 201);
    await waitUntil(async () => (await answers(b, fqdn('app'))).join() === appAddresses.join(), 15000, 'app on B');
    await waitUntil(async () => (await answers(a, fqdn('vm'))).join() === '10.0.0.1', 15000, 'vm on A');

    const steady = async (what: string) => {
      // Over twice the node lease: a lease that was not kept alive would have expired by the end.
      for (const end = Date.now() + 2 * NODE_TTL * 1000; Date.now() < end; ) {
        assert.deepEqual(await answers(b, fqdn('app')), appAddresses, `app on B ${what}`);
        assert.deepEqual(await answers(a, fqdn('vm')), ['10.0.0.1'], `vm on A ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      // A lost lease takes a node's containers out of every other node's answers, however briefly.
      for (const [name, node] of [['A', a], ['B', b]] as const) {
        assert.equal(await metric(node, 'seamark_cluster_lease_losses_total'), 0, `node ${name} kept its lease ${what}`);
      }
    };
    const leader = await suite.etcd.leader();
    const follower = suite.etcd.members.find((m) => m !== leader && m !== suite.etcd.members[2]) ?? suite.etcd.members.find((m) => m !== leader)!;
    await suite.etcd.kill(follower);
    await steady('with a follower down');
    assert.equal((await api(b.httpPort, 'PUT', '/v1/records/vm2', { names: [`${prefix}vm2`], addresses: ['10.0.0.2'] })).status, 201);
    await waitUntil(async () => (await answers(a, fqdn('vm2'))).join() === '10.0.0.2', 15000, 'vm2 on A with a follower down');
    await suite.etcd.start(follower);

    const newLeader = await suite.etcd.leader();
    await suite.etcd.kill(newLeader);
    await steady('with the leader killed');
    assert.equal((await api(a.httpPort, 'PUT', '/v1/records/vm3', { names: [`${prefix}vm3`], addresses: ['10.0.0.3'] })).status, 201);
    await waitUntil(async () => (await answers(b, fqdn('vm3'))).join() === '10.0.0.3', 15000, 'vm3 on B after the leader change');
    await suite.etcd.start(newLeader);
  });

  it('a node cut off while the history is compacted catches up to the same picture', async () => {
    const cutOff = suite.etcd.members[2]!;
    await waitUntil(async () => JSON.stringify(await picture(c, prefix)) === JSON.stringify(await picture(b, prefix)), 20000, 'C in step before the cut');
    await suite.etcd.kill(cutOff);
    // The cut-off member may have been the leader: the writes below are made once the other two have elected one
    // (a write during an election may wait out its deadline and get 503; the first test writes after a steady spell).
    await waitUntil(async () => suite.etcd.leader().then(() => true, () => false), 10000, 'an etcd leader among the other two');
    // Changes C misses: a record written, one deleted, a container started, one removed.
    assert.equal((await api(b.httpPort, 'PUT', '/v1/records/missed', { names: [`${prefix}missed`], addresses: ['10.0.0.9'] })).status, 201);
    assert.equal((await api(b.httpPort, 'DELETE', '/v1/records/vm')).status, 204);
    await runContainer(`${prefix}new`);
    await docker('rm', '-f', `${prefix}app`);
    await waitUntil(async () => (await answers(b, fqdn('new'))).length > 0, 15000, 'new on B');
    await suite.etcd.compact();
    await suite.etcd.start(cutOff);
    await waitUntil(async () => JSON.stringify(await picture(c, prefix)) === JSON.stringify(await picture(b, prefix)), 30000, 'C to catch up with B');
    const seen = await picture(c, prefix);
    assert.ok(seen.some((line) => line.startsWith(`${prefix}missed.docker A 10.0.0.9`)), seen.join('\n'));
    assert.ok(!seen.some((line) => line.startsWith(`${prefix}vm.docker `)), 'the deleted record is gone');
    assert.ok(!seen.some((line) => line.startsWith(`${prefix}app.docker `)), 'the removed container is gone');
  });
});
