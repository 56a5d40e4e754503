// The forwarder against a hostile network and a hostile or broken upstream (scripted on loopback): forged answers,
// junk outside the question's bailiwick, CNAMEs into seamark's own zone, queries without RD, failing upstreams.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { RRType, Rcode } from '../../src/zone/records.js';
import { dig } from '../helpers/dig.js';
import { buildQuery, rcodeOf, sendRaw } from '../helpers/raw.js';
import { startSeamark, type RunningSeamark } from '../helpers/seamark.js';
import { rdataA, rdataSoa, startScriptedUpstream, wireName, record, type ScriptedAnswer, type ScriptedUpstream } from './scripted-upstream.js';

const run = promisify(execFile);
const { A, NS, CNAME, SOA, MX, AAAA } = RRType;
const SERVFAIL = Rcode.SERVFAIL;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A forged answer to `name` A with this ID, claiming `address` for an hour. */
function forgedAnswer(name: string, id: number, address: string): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x8180, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(1, 6);
  const question = Buffer.concat([wireName(name), Buffer.from([0, A, 0, 1])]);
  return Buffer.concat([header, question, record({ name, type: A, ttl: 3600, rdata: rdataA(address) })]);
}

/** Sends one forged answer for every ID to each of `ports`, a few hundred per turn of the event loop. */
async function flood(upstream: ScriptedUpstream, name: string, ports: number[]): Promise<void> {
  const packet = forgedAnswer(name, 0, '6.6.6.6');
  for (const port of ports) {
    for (let id = 0; id < 65536; id++) {
      packet.writeUInt16BE(id, 0);
      upstream.sendFrom(Buffer.from(packet), port);
      if (id % 512 === 511) await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

describe('forwarder: forged answers', () => {
  let upstream: ScriptedUpstream;
  let seamark: RunningSeamark;
  before(async () => {
    upstream = await startScriptedUpstream((q) => ({
      answers: [{ name: q.name, type: A, ttl: 300, rdata: rdataA('192.0.2.1') }],
      // The real answer to a victim name comes late: the window a blind attacker races.
      delayMs: q.name.startsWith('victim') ? 1500 : q.name.startsWith('slow') ? 1000 : 0,
    }));
    seamark = await startSeamark({ config: { docker: 'off', upstreams: [`127.0.0.1:${upstream.port}`], forwardTimeout: 5 } });
  });
  after(async () => {
    await seamark.stop();
    await upstream.stop();
  });

  test('each forwarded query leaves from its own random port: 100 queries, (almost) 100 ports', async () => {
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => sendRaw(seamark.dnsPort, buildQuery(`spread-${i}.example.test`, A), 5000)));
    assert.ok(replies.every((reply) => reply !== undefined && rcodeOf(reply) === 0), 'every query answered');
    const ports = new Set(upstream.asked.filter((q) => q.name.startsWith('spread-')).map((q) => q.from.port));
    // Random ports from the kernel's ephemeral range (about 28,000) may meet by chance; one fixed port is what failed.
    assert.ok(ports.size >= 90, `${ports.size} distinct source ports over 100 queries`);
  });

  test('the sockets waiting for upstream answers are connected to the upstream, from the address that reaches it', async () => {
    const waiting = Promise.all(Array.from({ length: 10 }, (_, i) => dig(seamark.dnsPort, `slow-${i}.example.test`, 'A')));
    await sleep(400);
    const { stdout } = await run('ss', ['-uanpH']);
    const mine = stdout.split('\n').filter((line) => line.includes(`pid=${seamark.pid},`) && line.includes(`127.0.0.1:${upstream.port}`));
    await waiting;
    assert.ok(mine.length >= 10, `sockets towards the upstream:\n${mine.join('\n')}`);
    for (const line of mine) assert.match(line, new RegExp(`^ESTAB\\s+\\d+\\s+\\d+\\s+127\\.0\\.0\\.1:\\d+\\s+127\\.0\\.0\\.1:${upstream.port}\\b`), line);
  });

  test('a blind flood of forged answers to the port the last query used never lands: not for the client, not in the cache', { timeout: 120_000 }, async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      // The attacker learns a source port from a query for a name of its own (its server sees it)...
      await dig(seamark.dnsPort, `probe-${attempt}.attacker.test`, 'A');
      const learned = upstream.asked.filter((q) => q.name === `probe-${attempt}.attacker.test`).at(-1)?.from.port;
      assert.ok(learned !== undefined);
      // ...then makes seamark ask for the victim and floods every ID to that port and the next, before the real answer.
      const victim = `victim-${attempt}.example.test`;
      const asking = dig(seamark.dnsPort, '+tries=1', '+time=5', victim, 'A');
      await sleep(50);
      await flood(upstream, victim, [learned, learned + 1]);
      const reply = await asking;
      assert.deepEqual(reply.answer.map((r) => r.data), ['192.0.2.1'], `attempt ${attempt}: the real answer`);
      const again = await dig(seamark.dnsPort, victim, 'A');
      assert.deepEqual(again.answer.map((r) => r.data), ['192.0.2.1'], `attempt ${attempt}: the cache holds the real answer`);
    }
  });
});

describe('forwarder: what an upstream says is scrubbed to the question', () => {
  let upstream: ScriptedUpstream;
  let seamark: RunningSeamark;
  const scripts: Record<string, ScriptedAnswer> = {};
  before(async () => {
    upstream = await startScriptedUpstream((q) => scripts[q.name] ?? { rcode: 3 });
    seamark = await startSeamark({
      config: {
        docker: 'off',
        upstreams: [`127.0.0.1:${upstream.port}`],
        forwardFailureTtl: 1,
        hosts: [
          { names: ['host000'], addresses: ['10.1.0.1'] },
          { names: ['host002'], addresses: ['10.1.0.2'] },
        ],
      },
    });
  });
  after(async () => {
    await seamark.stop();
    await upstream.stop();
  });

  test('records outside the answer chain and the bailiwick, and any record for seamark’s zone, are dropped; the rest is kept', async () => {
    scripts['www.example.test'] = {
      answers: [
        { name: 'www.example.test', type: A, ttl: 300, rdata: rdataA('192.0.2.10') },
        { name: 'unrelated.other.test', type: A, ttl: 3600, rdata: rdataA('6.6.6.6') },
        { name: 'host000.docker', type: A, ttl: 3600, rdata: rdataA('6.6.6.6') },
      ],
      authority: [
        { name: 'example.test', type: NS, ttl: 300, rdata: wireName('ns1.example.test') },
        { name: 'victim.example', type: NS, ttl: 3600, rdata: wireName('ns.evil') },
        { name: 'docker', type: NS, ttl: 3600, rdata: wireName('ns.evil') },
      ],
      additional: [
        { name: 'ns1.example.test', type: A, ttl: 300, rdata: rdataA('192.0.2.53') },
        { name: 'www.victim.example', type: A, ttl: 3600, rdata: rdataA('6.6.6.6') },
        { name: 'ns.evil', type: A, ttl: 3600, rdata: rdataA('6.6.6.6') },
        { name: 'host000.docker', type: A, ttl: 3600, rdata: rdataA('6.6.6.6') },
      ],
    };
    for (const label of ['from the upstream', 'from the cache']) {
      const reply = await dig(seamark.dnsPort, 'www.example.test', 'A');
      assert.equal(reply.status, 'NOERROR', label);
      assert.deepEqual(reply.answer.map((r) => `${r.name} ${r.type} ${r.data}`), ['www.example.test. A 192.0.2.10'], label);
      assert.deepEqual(reply.authority.map((r) => `${r.name} ${r.type} ${r.data}`), ['example.test. NS ns1.example.test.'], label);
      assert.deepEqual(reply.additional.map((r) => `${r.name} ${r.type} ${r.data}`), ['ns1.example.test. A 192.0.2.53'], label);
    }
    const own = await dig(seamark.dnsPort, 'host000.docker', 'A');
    assert.deepEqual(own.answer.map((r) => r.data), ['10.1.0.1']);
  });

  test('an MX answer keeps the address of its exchange in the bailiwick, not one elsewhere', async () => {
    scripts['mail.example.test'] = {
      answers: [
        { name: 'mail.example.test', type: MX, ttl: 300, rdata: Buffer.concat([Buffer.from([0, 10]), wireName('mx.mail.example.test')]) },
        { name: 'mail.example.test', type: MX, ttl: 300, rdata: Buffer.concat([Buffer.from([0, 20]), wireName('mx.victim.example')]) },
      ],
      additional: [
        { name: 'mx.mail.example.test', type: A, ttl: 300, rdata: rdataA('192.0.2.25') },
        { name: 'mx.victim.example', type: A, ttl: 3600, rdata: rdataA('6.6.6.6') },
      ],
    };
    const reply = await dig(seamark.dnsPort, 'mail.example.test', 'MX');
    assert.equal(reply.answer.length, 2);
    assert.deepEqual(reply.additional.map((r) => `${r.name} ${r.data}`), ['mx.mail.example.test. 192.0.2.25']);
  });

  test('a CNAME chain is kept whole; an upstream CNAME into seamark’s zone is answered from the zone', async () => {
    scripts['alias.example.test'] = {
      answers: [
        { name: 'alias.example.test', type: CNAME, ttl: 300, rdata: wireName('real.example.net') },
        { name: 'real.example.net', type: A, ttl: 300, rdata: rdataA('192.0.2.44') },
        { name: 'elsewhere.example.net', type: A, ttl: 300, rdata: rdataA('6.6.6.6') },
      ],
    };
    const chain = await dig(seamark.dnsPort, 'alias.example.test', 'A');
    assert.deepEqual(chain.answer.map((r) => `${r.name} ${r.type} ${r.data}`), ['alias.example.test. CNAME real.example.net.', 'real.example.net. A 192.0.2.44']);

    scripts['x.example.test'] = {
      answers: [
        { name: 'x.example.test', type: CNAME, ttl: 300, rdata: wireName('host002.docker') },
        { name: 'host002.docker', type: A, ttl: 3600, rdata: rdataA('6.6.6.6') },
      ],
    };
    scripts['y.example.test'] = { answers: [{ name: 'y.example.test', type: CNAME, ttl: 300, rdata: wireName('doesnotexist.docker') }] };
    for (const label of ['from the upstream', 'from the cache']) {
      const into = await dig(seamark.dnsPort, 'x.example.test', 'A');
      assert.equal(into.status, 'NOERROR', label);
      assert.deepEqual(into.answer.map((r) => `${r.name} ${r.type} ${r.data}`), ['x.example.test. CNAME host002.docker.', 'host002.docker. A 10.1.0.2'], label);
      const nodata = await dig(seamark.dnsPort, 'x.example.test', 'AAAA');
      assert.equal(nodata.status, 'NOERROR', label);
      assert.deepEqual(nodata.answer.map((r) => r.type), ['CNAME'], `${label}: NODATA after the CNAME`);
      assert.deepEqual(nodata.authority.map((r) => `${r.name} ${r.type}`), ['docker. SOA'], label);
      const missing = await dig(seamark.dnsPort, 'y.example.test', 'A');
      assert.equal(missing.status, 'NXDOMAIN', `${label}: the zone's rcode for the CNAME's target`);
      assert.deepEqual(missing.answer.map((r) => `${r.name} ${r.type} ${r.data}`), ['y.example.test. CNAME doesnotexist.docker.'], label);
      assert.deepEqual(missing.authority.map((r) => `${r.name} ${r.type}`), ['docker. SOA'], label);
    }
    // The answer follows the zone: a new record for the CNAME's target is served through the cached chain.
    const upstreamAsked = upstream.asked.filter((q) => q.name === 'y.example.test').length;
    const put = await fetch(`http://127.0.0.1:${seamark.httpPort}/v1/records/dne`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ names: ['doesnotexist'], addresses: ['10.1.0.9'] }),
    });
    assert.ok(put.ok, await put.text());
    const found = await dig(seamark.dnsPort, 'y.example.test', 'A');
    assert.equal(found.status, 'NOERROR');
    assert.deepEqual(found.answer.map((r) => r.data), ['doesnotexist.docker.', '10.1.0.9']);
    assert.equal(upstream.asked.filter((q) => q.name === 'y.example.test').length, upstreamAsked, 'the chain came from the cache');
  });

  test('a query without RD is answered from the cache only: nothing is asked upstream', async () => {
    scripts['norec.example.test'] = { answers: [{ name: 'norec.example.test', type: A, ttl: 300, rdata: rdataA('192.0.2.77') }] };
    const cold = await dig(seamark.dnsPort, '+norec', 'norec.example.test', 'A');
    assert.equal(cold.status, 'REFUSED');
    assert.equal(upstream.asked.filter((q) => q.name === 'norec.example.test').length, 0, 'not forwarded');
    await dig(seamark.dnsPort, 'norec.example.test', 'A');
    const warm = await dig(seamark.dnsPort, '+norec', 'norec.example.test', 'A');
    assert.equal(warm.status, 'NOERROR');
    assert.deepEqual(warm.answer.map((r) => r.data), ['192.0.2.77']);
    assert.equal(upstream.asked.filter((q) => q.name === 'norec.example.test').length, 1);
  });

  test('an upstream SERVFAIL is remembered for forwardFailureTtl: retries within it do not reach the upstream', async () => {
    scripts['broken.example.test'] = { rcode: SERVFAIL };
    const asked = () => upstream.asked.filter((q) => q.name === 'broken.example.test').length;
    for (let i = 0; i < 3; i++) {
      const reply = await dig(seamark.dnsPort, '+tries=1', 'broken.example.test', 'A');
      assert.equal(reply.status, 'SERVFAIL');
    }
    assert.equal(asked(), 1, 'asked once for three client queries');
    await sleep(1200);
    scripts['broken.example.test'] = { answers: [{ name: 'broken.example.test', type: A, ttl: 300, rdata: rdataA('192.0.2.88') }] };
    const healed = await dig(seamark.dnsPort, 'broken.example.test', 'A');
    assert.deepEqual(healed.answer.map((r) => r.data), ['192.0.2.88'], 'asked again once the failure TTL ran out');
    assert.equal(asked(), 2);
  });

  test('a negative answer keeps its SOA only when it is the question’s own zone', async () => {
    scripts['gone.example.test'] = {
      rcode: 3,
      authority: [
        { name: 'example.test', type: SOA, ttl: 300, rdata: rdataSoa('example.test', 1, 60) },
        { name: 'victim.example', type: SOA, ttl: 3600, rdata: rdataSoa('victim.example', 1, 3600) },
      ],
    };
    const reply = await dig(seamark.dnsPort, 'gone.example.test', 'A');
    assert.equal(reply.status, 'NXDOMAIN');
    assert.deepEqual(reply.authority.map((r) => `${r.name} ${r.type}`), ['example.test. SOA']);
  });

  test('an answer with AAAA records for another name is not an answer for this one', async () => {
    scripts['v6.example.test'] = { answers: [{ name: 'other.example.test', type: AAAA, ttl: 300, rdata: Buffer.alloc(16, 1) }] };
    const reply = await dig(seamark.dnsPort, 'v6.example.test', 'AAAA');
    assert.equal(reply.status, 'NOERROR');
    assert.equal(reply.answer.length, 0);
  });
});
