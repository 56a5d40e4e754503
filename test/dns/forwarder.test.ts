// Forwarding names outside the zones, through a real dnsmasq on loopback.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { dig } from '../helpers/dig.js';
import { startDnsmasq, type RunningDnsmasq } from '../helpers/dnsmasq.js';
import { freePort, startSeamark, type RunningSeamark } from '../helpers/seamark.js';

const run = promisify(execFile);

describe('forwarder', () => {
  let upstream: RunningDnsmasq;
  let seamark: RunningSeamark;
  before(async () => {
    upstream = await startDnsmasq({ 'ext.example.test': '192.0.2.7', 'other.example.test': '192.0.2.8', 'third.example.test': '192.0.2.9' }, ['--local-ttl=300']);
    seamark = await startSeamark({
      config: { docker: 'off', upstreams: [`127.0.0.1:${upstream.port}`], forwardAllow: ['127.0.0.1/32'], hosts: [{ names: ['web'], addresses: ['10.1.0.2'] }] },
    });
  });
  after(async () => {
    await seamark.stop();
    await upstream.stop();
  });

  test('answers a name outside the zones from the upstream, with the client ID and question case', async () => {
    const reply = await dig(seamark.dnsPort, 'Ext.Example.TEST', 'A');
    assert.equal(reply.status, 'NOERROR');
    assert.deepEqual(reply.answer.map((r) => `${r.name} ${r.data}`), ['Ext.Example.TEST. 192.0.2.7']);
    assert.ok(!reply.flags.includes('aa'), 'not authoritative');
    assert.ok(reply.flags.includes('ra'), 'recursion available');
  });

  // The TTL counted down by the time passed is forwarder-clock.test.ts's, on a clock the test drives.
  test('the second query is served from the cache, never with a TTL above the first', async () => {
    const first = await dig(seamark.dnsPort, 'other.example.test', 'A');
    const asked = upstream.queries.filter((q) => q === 'other.example.test').length;
    assert.equal(asked, 1);
    const second = await dig(seamark.dnsPort, 'OTHER.example.test', 'A');
    assert.deepEqual(second.answer.map((r) => r.data), ['192.0.2.8']);
    assert.equal(second.answer[0]?.name, 'OTHER.example.test.');
    assert.equal(upstream.queries.filter((q) => q === 'other.example.test').length, 1, 'upstream not asked again');
    assert.ok((second.answer[0]?.ttl ?? 0) <= (first.answer[0]?.ttl ?? 0), `TTL ${second.answer[0]?.ttl} not above ${first.answer[0]?.ttl}`);
  });

  test('forwarded answers over TCP too', async () => {
    const reply = await dig(seamark.dnsPort, '+tcp', 'third.example.test', 'A');
    assert.deepEqual(reply.answer.map((r) => r.data), ['192.0.2.9']);
  });

  test('REFUSED for a client outside the allow-list, zone names still answered', async () => {
    const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(seamark.dnsPort), '-b', '127.0.0.2', '+time=2', '+tries=1', 'ext.example.test']);
    assert.match(stdout, /status: REFUSED/);
    const inZone = await run('dig', ['@127.0.0.1', '-p', String(seamark.dnsPort), '-b', '127.0.0.2', '+short', 'web.docker']);
    assert.equal(inZone.stdout.trim(), '10.1.0.2');
  });
});

test('a forwarded answer too big for a UDP client gets TC, and arrives whole over TCP', async () => {
  const many = Array.from({ length: 60 }, (_, i) => `--host-record=many.example.test,192.0.2.${i + 1}`);
  const upstream = await startDnsmasq({}, [...many, '--local-ttl=300']);
  const seamark = await startSeamark({ config: { docker: 'off', upstreams: [`127.0.0.1:${upstream.port}`] } });
  try {
    const tcp = await dig(seamark.dnsPort, '+tcp', '+noedns', 'many.example.test', 'A');
    assert.equal(tcp.answer.length, 60);
    // Now cached whole; a plain UDP client cannot take 60 addresses in 512 bytes.
    const udp = await dig(seamark.dnsPort, '+noedns', '+ignore', 'many.example.test', 'A');
    assert.ok(udp.flags.includes('tc'), `TC set (flags: ${udp.flags.join(' ')})`);
    assert.equal(udp.answer.length, 0);
    const retried = await dig(seamark.dnsPort, '+noedns', 'many.example.test', 'A');
    assert.equal(retried.answer.length, 60, 'dig retries over TCP and gets everything');
  } finally {
    await seamark.stop();
    await upstream.stop();
  }
});

test('SERVFAIL when every upstream is dead', async () => {
  const dead = await freePort();
  const seamark = await startSeamark({ config: { docker: 'off', upstreams: [`127.0.0.1:${dead}`], forwardTimeout: 0.3 } });
  try {
    const reply = await dig(seamark.dnsPort, 'nowhere.example.test', 'A');
    assert.equal(reply.status, 'SERVFAIL');
  } finally {
    await seamark.stop();
  }
});

test('a dead upstream is skipped for the next one', async () => {
  const dead = await freePort();
  const upstream = await startDnsmasq({ 'alive.example.test': '192.0.2.10' });
  const seamark = await startSeamark({ config: { docker: 'off', upstreams: [`127.0.0.1:${dead}`, `127.0.0.1:${upstream.port}`], forwardTimeout: 0.3 } });
  try {
    const reply = await dig(seamark.dnsPort, 'alive.example.test', 'A');
    assert.deepEqual(reply.answer.map((r) => r.data), ['192.0.2.10']);
  } finally {
    await seamark.stop();
    await upstream.stop();
  }
});

test('a negative upstream answer is cached for the SOA minimum', async () => {
  // The upstream is another seamark, authoritative for neg.test: its NXDOMAIN carries an SOA with MINIMUM 60.
  const authority = await startSeamark({ config: { docker: 'off', zones: ['neg.test'], negativeTtl: 60, upstreams: [] } });
  const seamark = await startSeamark({ config: { docker: 'off', upstreams: [`127.0.0.1:${authority.dnsPort}`] } });
  try {
    const first = await dig(seamark.dnsPort, 'gone.neg.test', 'A');
    assert.equal(first.status, 'NXDOMAIN');
    assert.equal(first.authority[0]?.type, 'SOA');
    await authority.stop();
    const second = await dig(seamark.dnsPort, 'gone.neg.test', 'A');
    assert.equal(second.status, 'NXDOMAIN', 'answered from the cache with the upstream gone');
    assert.ok((second.authority[0]?.ttl ?? 0) <= 60 && (second.authority[0]?.ttl ?? 0) > 50);
  } finally {
    await seamark.stop();
    await authority.stop();
  }
});
