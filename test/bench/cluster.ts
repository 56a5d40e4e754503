// `npm run bench:cluster`: cluster mode against a real etcd. How long from an
// instance published by a (simulated) node to its answer on another node
// (median, p99), and how long 50 simulated nodes × 200 instances take to
// become resolvable on one node, with that node's resident memory. Then, on a
// 3-member etcd: how long a dead node's instances take to leave another node
// (its lease of 3 s stops being renewed, as after `kill -9`; the other node
// keeps them for the grace after the lapse, 3 s at that TTL), and how long an
// instance takes to answer on a node whose etcd member is frozen (SIGSTOP).
import { readFileSync } from 'node:fs';
import { connectEtcd, etcdOptions, type WriteOp } from '../../src/cluster/client.js';
import { KeyLayout } from '../../src/cluster/keys.js';
import { lapseGraceMs } from '../../src/cluster/subscriber.js';
import { dig } from '../helpers/dig.js';
import { startSeamark } from '../helpers/seamark.js';
import { api, waitUntil } from '../http/client.js';
import { startEtcd } from '../cluster/etcd.js';

const NODES = 50;
const PER_NODE = 200;
const SAMPLES = 100;

const etcd = await startEtcd(1);
const layout = new KeyLayout('/seamark/');
const client = connectEtcd({ hosts: etcd.endpoints });
// A seamark that fails to start must not leave the etcd processes behind.
const node = await startSeamark({ config: { etcd: etcd.endpoints, nodeName: 'reader', docker: 'off', advertiseAddress: '192.0.2.1', logLevel: 'info' } }).catch(async (error: unknown) => {
  await etcd.stop();
  throw error;
});
try {
  const value = (name: string, address: string) => JSON.stringify({ source: 'docker', names: [name], addresses: [address], srv: [], healthy: true });
  const lease = await client.grantLease(600);

  // One instance at a time: put by a simulated node, then dig on the reader until it answers.
  const latencies: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const name = `lat${i}.docker`;
    const started = performance.now();
    await client.write([{ put: layout.instance('sim-latency', `docker:lat${i}`), value: value(name, `10.200.${i >> 8}.${i & 255}`), lease }]);
    for (;;) {
      const result = await dig(node.dnsPort, name, 'A');
      if (result.answer.length > 0) break;
    }
    latencies.push(performance.now() - started);
  }
  latencies.sort((x, y) => x - y);
  const median = latencies[Math.floor(SAMPLES / 2)] as number;
  const p99 = latencies[Math.floor(SAMPLES * 0.99)] as number;

  // 50 nodes × 200 instances, each node writing its instances in transactions, all at once.
  const started = performance.now();
  await Promise.all(
    Array.from({ length: NODES }, async (_, n) => {
      const ops: WriteOp[] = Array.from({ length: PER_NODE }, (_, i) => ({
        put: layout.instance(`sim${n}`, `docker:c${i}`),
        value: value(`c${i}.sim${n}.docker`, `10.${100 + (n >> 8)}.${n & 255}.${i}`),
        lease,
      }));
      await client.write(ops);
    }),
  );
  const last = `c${PER_NODE - 1}.sim${NODES - 1}.docker`;
  await waitUntil(async () => (await api(node.httpPort, 'GET', `/v1/names?name=${last}`)).body.length > 0, 120000, 'the last instance');
  await waitUntil(async () => {
    const metrics = (await api(node.httpPort, 'GET', '/metrics')).text;
    const served = Number(/^seamark_records\{source="docker"\} (\d+)/m.exec(metrics)?.[1] ?? 0);
    return served >= NODES * PER_NODE + SAMPLES;
  }, 120000, 'every instance');
  const allMs = performance.now() - started;
  const rssMb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${node.pid}/status`, 'utf8'))?.[1]) / 1024;
  console.log(`instance published by another node → answered by dig: median ${median.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (${SAMPLES} samples)`);
  console.log(`${NODES} nodes × ${PER_NODE} instances (${NODES * PER_NODE}) resolvable on one node after ${(allMs / 1000).toFixed(2)} s; its resident memory ${rssMb.toFixed(0)} MB`);
} finally {
  client.close();
  await node.stop('SIGKILL');
  await etcd.stop();
}

const FAULT_SAMPLES = 3;
const three = await startEtcd(3);
const liveClient = connectEtcd({ hosts: three.endpoints.slice(1) });
const follower = await startSeamark({ config: { etcd: three.endpoints, nodeName: 'follower', docker: 'off', advertiseAddress: '192.0.2.1', logLevel: 'info', nodeTtl: 3 } }).catch(async (error: unknown) => {
  liveClient.close();
  await three.stop();
  throw error;
});
try {
  const value = (name: string) => JSON.stringify({ source: 'docker', names: [name], addresses: ['10.201.0.1'], srv: [], healthy: true });
  const resolvable = async (name: string) => (await dig(follower.dnsPort, name, 'A')).answer.length > 0;

  // A dead node: its lease (TTL 3 s) is no longer kept alive; time from its last keep-alive to NXDOMAIN on the follower.
  // It writes its node key as a seamark does, so the follower sees a lapse (not a node leaving) and keeps it for the grace.
  const failovers: number[] = [];
  for (let i = 0; i < FAULT_SAMPLES; i++) {
    const lease = await liveClient.grantLease(3);
    const name = `dead${i}.docker`;
    const nodeValue = JSON.stringify({ name: `dead${i}`, advertiseAddress: '192.0.2.9', dns: [], version: 'bench', startedAt: new Date().toISOString(), lease, ttl: 3 });
    await liveClient.write([
      { put: layout.instance(`dead${i}`, 'docker:x'), value: value(name), lease },
      { put: layout.node(`dead${i}`), value: nodeValue, lease },
    ]);
    await waitUntil(() => resolvable(name), 10000, name);
    await liveClient.keepAlive(lease);
    const died = performance.now();
    await waitUntil(async () => !(await resolvable(name)), 20000, `${name} to leave`);
    failovers.push(performance.now() - died);
  }

  // The member the follower watches through freezes; an instance is written through the other two.
  const frozenTimes: number[] = [];
  const commitTimes: number[] = [];
  for (let i = 0; i < FAULT_SAMPLES; i++) {
    const followed = (await api(follower.httpPort, 'GET', '/v1/cluster')).body.member as string;
    const member = three.members.find((m) => m.clientUrl === followed)!;
    const others = connectEtcd(etcdOptions({ etcd: three.endpoints.filter((url) => url !== followed) }));
    const lease = await others.grantLease(600);
    three.pause(member);
    const name = `frozen${i}.docker`;
    const frozenAt = performance.now();
    // A write made while the frozen member was the leader first waits for etcd's own election.
    await others.write([{ put: layout.instance('writer', `docker:f${i}`), value: value(name), lease }]);
    commitTimes.push(performance.now() - frozenAt);
    await waitUntil(() => resolvable(name), 30000, name);
    frozenTimes.push(performance.now() - frozenAt);
    three.resume(member);
    others.close();
    await waitUntil(async () => (await api(follower.httpPort, 'GET', '/v1/cluster')).body.connected === true, 30000, 'the follower connected');
  }
  const fmt = (values: number[]) => values.map((ms) => (ms / 1000).toFixed(2)).join(', ');
  console.log(`dead node (lease TTL 3 s, no longer renewed; grace ${lapseGraceMs(3) / 1000} s) → its instances NXDOMAIN on another node after: ${fmt(failovers)} s`);
  console.log(`member a node watches through frozen (SIGSTOP) → an instance written through the others at once (committed after ${fmt(commitTimes)} s) answers on that node after: ${fmt(frozenTimes)} s from the freeze`);
} finally {
  for (const member of three.members) three.resume(member);
  liveClient.close();
  await follower.stop('SIGKILL');
  await three.stop();
}
