// Cluster mode with real parts: one etcd process, node A following the real
// Docker engine, node B with `--docker off`; answers read with dig on B.
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { dig } from '../helpers/dig.js';
import type { RunningSeamark } from '../helpers/seamark.js';
import { api, waitUntil } from '../http/client.js';
import { containerAddresses, docker, runContainer } from '../docker/engine.js';
import { lapseGraceMs } from '../../src/cluster/subscriber.js';
import { answers } from './etcd.js';
import { describeCluster } from './suite.js';

const ADVERTISE_A = '192.0.2.10';
const NODE_TTL = 3;

describeCluster('cluster mode: two nodes over one etcd', 'cl', { settings: { nodeTtl: NODE_TTL, advertiseAddress: '192.0.2.99' } }, (suite) => {
  const { prefix, fqdn, config } = suite;
  let a: RunningSeamark;
  let b: RunningSeamark;

  before(async () => {
    a = await suite.start({ config: config('node-a', { advertiseAddress: ADVERTISE_A }), waitFor: 'published this node\'s instances to etcd' });
    b = await suite.start({ config: config('node-b', { docker: 'off' }), waitFor: 'seamark started' });
  });

  it('answers a container of A on B: by default A\'s advertise address and the published host port', async () => {
    await runContainer(`${prefix}web`, ['-p', '127.0.0.1::80', '-l', 'seamark.srv.http=80/tcp']);
    const hostPort = Number((await docker('port', `${prefix}web`, '80/tcp')).split(':').pop());
    await waitUntil(async () => (await answers(b, fqdn('web'))).length > 0, 15000, 'web on node B');
    assert.deepEqual(await answers(b, fqdn('web')), [ADVERTISE_A]);
    const srv = await answers(b, `_http._tcp.${fqdn('web')}`, 'SRV');
    assert.deepEqual(srv, [`0 0 ${hostPort} ${fqdn('web')}.`]);
    // The local node answers the container's own address, as without a cluster.
    assert.deepEqual(await answers(a, fqdn('web')), await containerAddresses(`${prefix}web`));
  });

  it('serves a container without published ports on its own node only, unless its label asks for container addresses', async () => {
    await runContainer(`${prefix}private`);
    await runContainer(`${prefix}routed`, ['-l', 'seamark.cluster-addresses=container']);
    const routed = await containerAddresses(`${prefix}routed`);
    await waitUntil(async () => (await answers(b, fqdn('routed'))).length > 0, 15000, 'routed on node B');
    assert.deepEqual(await answers(b, fqdn('routed')), routed);
    assert.equal((await answers(a, fqdn('private'))).length, 1);
    assert.equal((await dig(b.dnsPort, fqdn('private'), 'A')).status, 'NXDOMAIN');
  });

  it('shows the node of every name in /v1/names and lists both nodes in /v1/cluster', async () => {
    const names = await api(b.httpPort, 'GET', `/v1/names?name=${fqdn('web')}`);
    assert.equal(names.body[0].node, 'node-a');
    assert.match(names.body[0].owner, /^node:node-a\/docker:/);
    const cluster = await api(b.httpPort, 'GET', '/v1/cluster');
    assert.equal(cluster.status, 200);
    assert.equal(cluster.body.node, 'node-b');
    assert.equal(cluster.body.connected, true);
    assert.deepEqual(cluster.body.nodes.map((n: { name: string }) => n.name), ['node-a', 'node-b']);
    const nodeA = cluster.body.nodes.find((n: { name: string }) => n.name === 'node-a');
    assert.equal(nodeA.advertiseAddress, ADVERTISE_A);
    assert.ok(nodeA.instances >= 2, `node-a publishes the test containers (${nodeA.instances})`);
    assert.ok(Date.now() - Date.parse(nodeA.lastSeen) < (NODE_TTL + 2) * 1000, `last seen recently: ${nodeA.lastSeen}`);
    const ready = await api(b.httpPort, 'GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.cluster.connected, true);
    const metrics = await api(b.httpPort, 'GET', '/metrics');
    assert.match(metrics.text, /^seamark_cluster_connected 1$/m);
    assert.match(metrics.text, /^seamark_cluster_watch_events_total [1-9]/m);
  });

  it('a stopped container leaves B: NXDOMAIN', async () => {
    await docker('rm', '-f', `${prefix}web`);
    await waitUntil(async () => (await dig(b.dnsPort, fqdn('web'), 'A')).status === 'NXDOMAIN', 15000, 'web gone from node B');
  });

  it('a record PUT on B answers on A, and a delete on A leaves B', async () => {
    const put = await api(b.httpPort, 'PUT', '/v1/records/vm1', { names: [`${prefix}vm1`], addresses: ['10.1.2.3'] });
    assert.equal(put.status, 201);
    await waitUntil(async () => (await answers(a, `${prefix}vm1.docker`)).join() === '10.1.2.3', 15000, 'vm1 on node A');
    assert.equal((await api(a.httpPort, 'GET', '/v1/records/vm1')).body.addresses[0], '10.1.2.3');
    const patched = await api(a.httpPort, 'PATCH', '/v1/records/vm1', { addresses: ['10.1.2.4'] });
    assert.equal(patched.status, 200);
    await waitUntil(async () => (await answers(b, `${prefix}vm1.docker`)).join() === '10.1.2.4', 15000, 'vm1 changed on node B');
    assert.equal((await api(a.httpPort, 'DELETE', '/v1/records/vm1')).status, 204);
    await waitUntil(async () => (await dig(b.dnsPort, `${prefix}vm1.docker`, 'A')).status === 'NXDOMAIN', 15000, 'vm1 gone from node B');
  });

  it('an instance value in etcd that does not read as one is skipped, with a warning naming the field', async () => {
    const key = Buffer.from(`/seamark-${prefix}/instances/node-x/manual:odd`).toString('base64');
    const put = (value: unknown) => suite.etcd.gateway('/v3/kv/put', { key, value: Buffer.from(JSON.stringify(value)).toString('base64') });
    await put({ source: 'manual', names: [`${prefix}odd.docker`], addresses: ['192.0.2.51'], srv: [], healthy: true });
    await waitUntil(async () => (await answers(b, fqdn('odd'))).join() === '192.0.2.51', 15000, 'the readable value on node B');
    await put({ source: 'manual', names: [`${prefix}odd.docker`], srv: [], healthy: true });
    await waitUntil(async () => (await dig(b.dnsPort, fqdn('odd'), 'A')).status === 'NXDOMAIN', 15000, 'the unreadable value gone from node B');
    const warning = b.logs.find((line) => line.msg === 'unreadable instance in etcd: skipped' && String(line.key).endsWith('/manual:odd'));
    assert.equal(warning?.problem, 'addresses is required');
    await suite.etcd.gateway('/v3/kv/deleterange', { key });
  });

  it('kill -9 of A: its containers leave B within the lease TTL and the grace after it (+2 s); B\'s own records stay', async () => {
    await api(b.httpPort, 'PUT', '/v1/records/keep', { names: [`${prefix}keep`], addresses: ['10.9.9.9'] });
    await waitUntil(async () => (await answers(b, fqdn('routed'))).length > 0, 15000, 'routed on node B');
    await a.stop('SIGKILL');
    const killedAt = Date.now();
    // A lapsed lease looks like a node that may publish again at once: B keeps its instances for the grace first.
    const boundMs = NODE_TTL * 1000 + lapseGraceMs(NODE_TTL) + 2000;
    await waitUntil(async () => (await dig(b.dnsPort, fqdn('routed'), 'A')).status === 'NXDOMAIN', boundMs, 'routed gone from node B');
    console.log(`kill -9 → gone from the other node: ${Date.now() - killedAt} ms (lease TTL ${NODE_TTL} s, grace ${lapseGraceMs(NODE_TTL)} ms)`);
    assert.ok(b.logs.some((line) => String(line.msg).startsWith('node node-a did not publish again within')), 'B says why node-a went');
    assert.deepEqual(await answers(b, `${prefix}keep.docker`), ['10.9.9.9']);
    const cluster = await api(b.httpPort, 'GET', '/v1/cluster');
    assert.deepEqual(cluster.body.nodes.map((n: { name: string }) => n.name), ['node-b']);
  });
});
