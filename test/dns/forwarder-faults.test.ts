// The forwarder against an upstream that misbehaves on purpose (scripted), and
// against record changes that make seamark the authority for a cached name.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { dig } from '../helpers/dig.js';
import { buildQuery, rcodeOf } from '../helpers/raw.js';
import { freePort, startSeamark } from '../helpers/seamark.js';
import { api } from '../http/client.js';
import { rdataA, rdataSoa, startScriptedUpstream, wireName, type ScriptedAnswer } from './scripted-upstream.js';

const A = 1;
const SOA = 6;
const PTR = 12;

/** Sends `queries` on one TCP connection (pipelined), optionally half-closing after them; resolves with the replies read until `count` arrived or the server closed. */
function overTcp(port: number, queries: Buffer[], options: { halfClose?: boolean; count?: number; timeoutMs?: number } = {}): Promise<Buffer[]> {
  return new Promise((resolve) => {
    const replies: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    let buffered = Buffer.alloc(0);
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(replies);
    };
    const timer = setTimeout(done, options.timeoutMs ?? 10000);
    socket.on('error', done);
    socket.on('close', done);
    socket.on('end', done);
    socket.on('connect', () => {
      socket.write(Buffer.concat(queries.map((q) => Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]))));
      if (options.halfClose) socket.end();
    });
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= buffered.readUInt16BE(0) + 2) {
        replies.push(buffered.subarray(2, buffered.readUInt16BE(0) + 2));
        buffered = buffered.subarray(buffered.readUInt16BE(0) + 2);
      }
      if (replies.length >= (options.count ?? queries.length)) done();
    });
  });
}

test('65,536 and more forwarded queries outstanding to a dead upstream: SERVFAIL, and DNS, HTTP and SIGTERM still work', { timeout: 180_000 }, async () => {
  const dead = await freePort();
  const seamark = await startSeamark({ config: { docker: 'off', upstreams: [`127.0.0.1:${dead}`], forwardTimeout: 15, hosts: [{ names: ['web'], addresses: ['10.1.0.2'] }] } });
  try {
    const queries = Array.from({ length: 70_000 }, (_, i) => buildQuery(`n${i}.flood.test`, A, { id: i & 0xffff }));
    const replies = await overTcp(seamark.dnsPort, queries, { timeoutMs: 120_000 });
    assert.equal(replies.length, 70_000, 'every query answered');
    assert.ok(replies.every((reply) => rcodeOf(reply) === 2), 'SERVFAIL for each');
    const zone = await dig(seamark.dnsPort, '+short', 'web.docker');
    assert.equal(zone.output.trim(), '10.1.0.2');
    const health = await api(seamark.httpPort, 'GET', '/healthz');
    assert.equal(health.status, 200);
  } finally {
    assert.equal(await seamark.stop(), 0, 'exits on SIGTERM');
  }
});

test('a forwarded answer in the UDP answer cache gives way to a record that takes over its name, in every worker', { timeout: 60_000 }, async () => {
  const upstream = await startScriptedUpstream((q) => (q.type === PTR ? { answers: [{ name: q.name, type: PTR, ttl: 300, rdata: wireName('upstream.example') }] } : undefined));
  const seamark = await startSeamark({ config: { docker: 'off', workers: 2, upstreams: [`127.0.0.1:${upstream.port}`] } });
  try {
    for (let i = 0; i < 8; i++) {
      const before = await dig(seamark.dnsPort, '-x', '10.9.9.5');
      assert.equal(before.answer[0]?.data, 'upstream.example.');
    }
    const put = await api(seamark.httpPort, 'PUT', '/v1/records/h9', { names: ['h9'], addresses: ['10.9.9.5'] });
    assert.ok(put.status < 300, put.text);
    for (const args of [[], ['+noedns'], ['+tcp']]) {
      for (let i = 0; i < 8; i++) {
        const after = await dig(seamark.dnsPort, ...args, '-x', '10.9.9.5');
        assert.deepEqual(after.answer.map((r) => r.data), ['h9.docker.'], `${args.join(' ')}: ${after.output}`);
        assert.ok(after.flags.includes('aa'));
      }
    }
  } finally {
    await seamark.stop();
    await upstream.stop();
  }
});

test('a query or answer lost on the way to the upstream is sent again: the client gets its answer well within its own timeout', async () => {
  // The upstream ignores the first copy of every question, as if the datagram had been lost.
  const seen = new Set<string>();
  const upstream = await startScriptedUpstream((q): ScriptedAnswer | undefined => {
    if (!q.viaTcp && !seen.has(q.name)) {
      seen.add(q.name);
      return undefined;
    }
    return { answers: [{ name: q.name, type: A, ttl: 300, rdata: rdataA('192.0.2.8') }] };
  });
  // A forward timeout far beyond dig's 2 s: waiting it out would leave the client with nothing.
  const seamark = await startSeamark({ config: { docker: 'off', forwardTimeout: 10, upstreams: [`127.0.0.1:${upstream.port}`] } });
  try {
    for (const name of ['lost.once.test', 'lost.twice.test']) {
      const reply = await dig(seamark.dnsPort, name, 'A');
      assert.equal(reply.status, 'NOERROR', reply.output);
      assert.deepEqual(reply.answer.map((r) => r.data), ['192.0.2.8']);
      assert.equal(upstream.asked.filter((q) => q.name === name).length, 2, 'sent once more, not flooded');
    }
  } finally {
    await seamark.stop();
    await upstream.stop();
  }
});

test('a negative answer is cached for min(SOA TTL, SOA MINIMUM), and relayed with that TTL', { timeout: 30_000 }, async () => {
  const upstream = await startScriptedUpstream((q) => ({ rcode: 3, authority: [{ name: 'neg.test', type: SOA, ttl: 3600, rdata: rdataSoa('neg.test', 1, 2) }] }));
  const seamark = await startSeamark({ config: { docker: 'off', upstreams: [`127.0.0.1:${upstream.port}`] } });
  try {
    const first = await dig(seamark.dnsPort, 'gone.neg.test', 'A');
    assert.equal(first.status, 'NXDOMAIN');
    assert.ok((first.authority[0]?.ttl ?? 99) <= 2, `SOA TTL ${first.authority[0]?.ttl}`);
    const cached = await dig(seamark.dnsPort, 'gone.neg.test', 'A');
    assert.equal(cached.status, 'NXDOMAIN');
    assert.equal(upstream.asked.length, 1, 'second answer from the cache');
    for (const [args, asked] of [[[], 2], [['+tcp'], 3]] as const) {
      await new Promise((resolve) => setTimeout(resolve, 2500));
      await dig(seamark.dnsPort, ...args, 'gone.neg.test', 'A');
      assert.equal(upstream.asked.length, asked, `asked again (${args.join('') || 'UDP'}) once MINIMUM passed`);
    }
  } finally {
    await seamark.stop();
    await upstream.stop();
  }
});

test('an upstream answer with a TTL-0 record in the authority and additional sections is relayed, not SERVFAIL', async () => {
  const upstream = await startScriptedUpstream((q) => ({
    answers: [{ name: q.name, type: A, ttl: 300, rdata: rdataA('192.0.2.4') }],
    authority: [{ name: 'zero.test', type: 2, ttl: 0, rdata: wireName('ns.zero.test') }],
    additional: [{ name: 'ns.zero.test', type: A, ttl: 0, rdata: rdataA('192.0.2.53') }],
  }));
  const seamark = await startSeamark({ config: { docker: 'off', upstreams: [`127.0.0.1:${upstream.port}`] } });
  try {
    for (const args of [[], ['+tcp'], []]) {
      const reply = await dig(seamark.dnsPort, ...args, 'www.zero.test', 'A');
      assert.equal(reply.status, 'NOERROR', reply.output);
      assert.deepEqual(reply.answer.map((r) => r.data), ['192.0.2.4']);
    }
  } finally {
    await seamark.stop();
    await upstream.stop();
  }
});

test('TCP queries truncated over UDP open at most 256 upstream TCP connections at once; the rest get SERVFAIL at once', { timeout: 60_000 }, async () => {
  // Every UDP answer is truncated and the upstream's TCP side never answers: each TCP query would hold a connection.
  const upstream = await startScriptedUpstream((q): ScriptedAnswer | undefined => (q.viaTcp ? undefined : { truncated: true }));
  const seamark = await startSeamark({ config: { docker: 'off', forwardTimeout: 4, upstreams: [`127.0.0.1:${upstream.port}`] } });
  try {
    // Eight connections of 50 queries, 150 ms apart: all within the 4 s an upstream TCP query is held, and never
    // more UDP queries at once than the upstream's receive buffer holds.
    const batches = Array.from({ length: 8 }, (_, b) => Array.from({ length: 50 }, (_, i) => buildQuery(`n${b * 50 + i}.tcp-flood.test`, A, { id: i + 1 })));
    const replies = (
      await Promise.all(batches.map(async (queries, b) => {
        await new Promise((resolve) => setTimeout(resolve, b * 150));
        return overTcp(seamark.dnsPort, queries, { timeoutMs: 30_000 });
      }))
    ).flat();
    assert.equal(replies.length, 400, 'every query answered');
    assert.ok(replies.every((reply) => rcodeOf(reply) === 2), 'SERVFAIL for each');
    assert.equal(upstream.asked.filter((q) => q.viaTcp).length, 256, 'upstream TCP queries held to the bound');
    const zone = await dig(seamark.dnsPort, '+tcp', '+time=8', 'n1.tcp-flood.test');
    assert.equal(zone.status, 'SERVFAIL', 'TCP forwarding works again once they are gone');
    assert.equal(upstream.asked.filter((q) => q.viaTcp).length, 257);
  } finally {
    await seamark.stop();
    await upstream.stop();
  }
});

test('a TCP query never joins a UDP lookup that comes back truncated: it gets the whole answer', async () => {
  const upstream = await startScriptedUpstream((q): ScriptedAnswer => (q.viaTcp ? { answers: [{ name: q.name, type: A, ttl: 300, rdata: rdataA('192.0.2.5') }] } : { truncated: true, delayMs: 500 }));
  const seamark = await startSeamark({ config: { docker: 'off', upstreams: [`127.0.0.1:${upstream.port}`] } });
  try {
    const [udp, tcp] = await Promise.all([dig(seamark.dnsPort, '+ignore', 'big.tc.test', 'A'), dig(seamark.dnsPort, '+tcp', 'big.tc.test', 'A')]);
    assert.ok(udp.flags.includes('tc'));
    assert.ok(!tcp.flags.includes('tc'), `no TC over TCP: ${tcp.flags.join(' ')}`);
    assert.deepEqual(tcp.answer.map((r) => r.data), ['192.0.2.5']);
  } finally {
    await seamark.stop();
    await upstream.stop();
  }
});

test("forwarded answers copy the client's RD, and carry seamark's OPT, not the upstream's", async () => {
  const upstream = await startScriptedUpstream((q) => ({ answers: [{ name: q.name, type: A, ttl: 300, rdata: rdataA('192.0.2.6') }], optPayload: 4096 }));
  const seamark = await startSeamark({ config: { docker: 'off', upstreams: [`127.0.0.1:${upstream.port}`] } });
  try {
    const recursive = await dig(seamark.dnsPort, 'rd.fwd.test', 'A');
    assert.ok(recursive.flags.includes('rd'));
    // Without RD the answer comes from the cache the recursive query filled.
    for (const args of [['+notcp'], ['+tcp'], ['+notcp']]) {
      const reply = await dig(seamark.dnsPort, ...args, '+norec', 'rd.fwd.test', 'A');
      assert.deepEqual(reply.answer.map((r) => r.data), ['192.0.2.6']);
      assert.ok(!reply.flags.includes('rd'), `${args[0]}: flags ${reply.flags.join(' ')}`);
      assert.match(reply.edns ?? '', /udp: 1232/);
    }
  } finally {
    await seamark.stop();
    await upstream.stop();
  }
});

test('a client that half-closes its TCP connection after a query still gets the forwarded answer', async () => {
  const upstream = await startScriptedUpstream((q) => ({ answers: [{ name: q.name, type: A, ttl: 300, rdata: rdataA('192.0.2.7') }], delayMs: 300 }));
  const seamark = await startSeamark({ config: { docker: 'off', upstreams: [`127.0.0.1:${upstream.port}`], hosts: [{ names: ['web'], addresses: ['10.1.0.2'] }] } });
  try {
    const replies = await overTcp(seamark.dnsPort, [buildQuery('half.fwd.test', A, { id: 1 }), buildQuery('web.docker', A, { id: 2 }), buildQuery('other.fwd.test', A, { id: 3 })], {
      halfClose: true,
    });
    assert.deepEqual(replies.map((reply) => reply.readUInt16BE(0)).sort(), [1, 2, 3]);
    assert.ok(replies.every((reply) => rcodeOf(reply) === 0));
  } finally {
    await seamark.stop();
    await upstream.stop();
  }
});
