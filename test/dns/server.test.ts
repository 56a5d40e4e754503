// The authoritative side of the DNS server, through real sockets and real clients.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { dig } from '../helpers/dig.js';
import { buildQuery, sendRawTcp, rcodeOf, sendRaw } from '../helpers/raw.js';
import { startSeamark, type RunningSeamark } from '../helpers/seamark.js';

const run = promisify(execFile);
const forty = Array.from({ length: 40 }, (_, i) => `10.40.0.${i + 1}`);

const hosts = [
  { names: ['web'], addresses: ['10.1.0.2', 'fd00::2'], srv: [{ service: 'http', protocol: 'tcp', port: 8080 }] },
  { names: ['web.prod'], addresses: ['10.1.0.3'], ttl: 60 },
  { names: ['big'], addresses: forty },
  { names: ['pair'], addresses: ['10.2.0.1', '10.2.0.2', '10.2.0.3'] },
  { names: ['v6only'], addresses: ['fd00::6'] },
];

describe('DNS server: authoritative answers', () => {
  let seamark: RunningSeamark;
  let port: number;
  before(async () => {
    seamark = await startSeamark({ config: { docker: 'off', hosts, upstreams: [], axfrAllow: ['127.0.0.1/32'] } });
    port = seamark.dnsPort;
  });
  after(() => seamark.stop());

  for (const transport of ['+notcp', '+tcp']) {
    for (const edns of ['+edns=0', '+noedns']) {
      test(`A record over ${transport === '+tcp' ? 'TCP' : 'UDP'} ${edns === '+noedns' ? 'without' : 'with'} EDNS`, async () => {
        const reply = await dig(port, transport, edns, 'web.docker', 'A');
        assert.equal(reply.status, 'NOERROR');
        assert.ok(reply.flags.includes('aa'), 'authoritative answer');
        assert.deepEqual(reply.answer.map((r) => [r.name, r.type, r.data]), [['web.docker.', 'A', '10.1.0.2']]);
        assert.equal(reply.answer[0]?.ttl, 30, 'default TTL');
        assert.equal(reply.edns !== undefined, edns !== '+noedns', 'OPT echoed only to EDNS clients');
      });
    }
  }

  test('kdig gets the same answers over UDP and TCP', async () => {
    for (const transport of ['+notcp', '+tcp']) {
      const { stdout } = await run('kdig', ['@127.0.0.1', '-p', String(port), transport, '+short', 'web.docker', 'AAAA']);
      assert.equal(stdout.trim(), 'fd00::2');
    }
  });

  test('AAAA, and a per-host TTL', async () => {
    assert.deepEqual((await dig(port, 'web.docker', 'AAAA')).answer.map((r) => r.data), ['fd00::2']);
    const prod = await dig(port, 'web.prod.docker', 'A');
    assert.equal(prod.answer[0]?.ttl, 60);
  });

  test('SRV with the target host addresses in the additional section, target not compressed', async () => {
    const reply = await dig(port, '_http._tcp.web.docker', 'SRV');
    assert.deepEqual(reply.answer.map((r) => r.data), ['0 0 8080 web.docker.']);
    assert.deepEqual(reply.additional.map((r) => `${r.name} ${r.type} ${r.data}`).sort(), ['web.docker. A 10.1.0.2', 'web.docker. AAAA fd00::2']);
    const raw = await sendRaw(port, buildQuery('_http._tcp.web.docker', 33));
    assert.ok(raw);
    // priority 0, weight 0, port 8080, then the literal target labels.
    const literal = Buffer.from([0, 0, 0, 0, 0x1f, 0x90, 3, ...Buffer.from('web'), 6, ...Buffer.from('docker'), 0]);
    assert.ok(raw.includes(literal), 'SRV target written out in full');
  });

  test('PTR for IPv4 and IPv6 addresses', async () => {
    assert.deepEqual((await dig(port, '-x', '10.1.0.3')).answer.map((r) => r.data), ['web.prod.docker.']);
    const v6 = await dig(port, '-x', 'fd00::6');
    assert.equal(v6.status, 'NOERROR');
    assert.deepEqual(v6.answer.map((r) => r.data), ['v6only.docker.']);
    assert.ok(v6.answer[0]?.name.endsWith('.ip6.arpa.'));
  });

  test('SOA and NS at the apex in the answer section', async () => {
    const soa = await dig(port, 'docker', 'SOA');
    assert.equal(soa.answer.length, 1);
    assert.match(soa.answer[0]?.data ?? '', /^ns\.docker\. hostmaster\.docker\. \d+ \d+ \d+ \d+ 5$/);
    const ns = await dig(port, 'docker', 'NS');
    assert.deepEqual(ns.answer.map((r) => r.data), ['ns.docker.']);
    assert.ok(ns.flags.includes('aa'));
    assert.deepEqual(ns.additional.map((r) => `${r.name} ${r.data}`), ['ns.docker. 127.0.0.1']);
  });

  test('NXDOMAIN for a missing name, with the SOA and its minimum as negative TTL', async () => {
    const reply = await dig(port, 'missing.docker', 'A');
    assert.equal(reply.status, 'NXDOMAIN');
    assert.ok(reply.flags.includes('aa'));
    assert.equal(reply.answer.length, 0);
    assert.equal(reply.authority[0]?.type, 'SOA');
    assert.equal(reply.authority[0]?.ttl, 5);
  });

  test('NODATA (NOERROR, empty answer, SOA) for a name without the asked type', async () => {
    for (const [name, type] of [['web.docker', 'TXT'], ['v6only.docker', 'A'], ['web.docker', 'MX'], ['docker', 'A']]) {
      const reply = await dig(port, name as string, type as string);
      assert.equal(reply.status, 'NOERROR', `${name} ${type}`);
      assert.equal(reply.answer.length, 0, `${name} ${type}`);
      assert.equal(reply.authority[0]?.type, 'SOA', `${name} ${type}`);
      assert.equal(reply.authority[0]?.ttl, 5);
      assert.ok(reply.flags.includes('aa'));
    }
  });

  test('an empty non-terminal is NODATA, not NXDOMAIN', async () => {
    const ent = await dig(port, 'prod.docker', 'A');
    assert.equal(ent.status, 'NOERROR');
    assert.equal(ent.answer.length, 0);
    const srvEnt = await dig(port, '_tcp.web.docker', 'SRV');
    assert.equal(srvEnt.status, 'NOERROR');
  });

  test('ANY answers what exists', async () => {
    const reply = await dig(port, 'web.docker', 'ANY');
    assert.deepEqual(reply.answer.map((r) => r.type).sort(), ['A', 'AAAA']);
  });

  test('the query name keeps its letter case in the reply', async () => {
    const reply = await dig(port, 'WeB.DoCkEr', 'A');
    assert.equal(reply.answer[0]?.name, 'WeB.DoCkEr.');
    assert.match(reply.output, /;WeB\.DoCkEr\.\s+IN\s+A/);
  });

  test('several addresses are rotated between answers', async () => {
    const firsts = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const reply = await dig(port, 'pair.docker', 'A');
      assert.deepEqual(reply.answer.map((r) => r.data).sort(), ['10.2.0.1', '10.2.0.2', '10.2.0.3']);
      firsts.add(reply.answer[0]?.data ?? '');
    }
    assert.ok(firsts.size > 1, `first address changes between answers (saw ${[...firsts].join(', ')})`);
  });

  test('40 addresses: truncated with TC at 512 bytes, whole over TCP', async () => {
    const small = await dig(port, '+bufsize=512', '+ignore', 'big.docker', 'A');
    assert.ok(small.flags.includes('tc'), 'TC set');
    assert.equal(small.answer.length, 0);
    const plain = await dig(port, '+noedns', '+ignore', 'big.docker', 'A');
    assert.ok(plain.flags.includes('tc'), 'TC set without EDNS');
    const tcp = await dig(port, '+tcp', 'big.docker', 'A');
    assert.deepEqual(tcp.answer.map((r) => r.data).sort(), [...forty].sort());
    const edns = await dig(port, '+bufsize=1232', 'big.docker', 'A');
    assert.equal(edns.answer.length, 40, '40 A records fit in 1232 bytes');
  });

  test('EDNS version 1 gets BADVERS with an OPT of version 0', async () => {
    const reply = await dig(port, '+edns=1', '+noednsnegotiation', 'web.docker', 'A');
    assert.equal(reply.status, 'BADVERS');
    assert.equal(reply.answer.length, 0);
    assert.match(reply.edns ?? '', /version: 0/);
  });

  test('an unknown EDNS option is ignored', async () => {
    const reply = await dig(port, '+ednsopt=65001:abcdef', 'web.docker', 'A');
    assert.equal(reply.status, 'NOERROR');
    assert.equal(reply.answer[0]?.data, '10.1.0.2');
  });

  test('the UDP payload offered is capped at 1232', async () => {
    const reply = await dig(port, '+bufsize=4096', 'web.docker', 'A');
    assert.match(reply.edns ?? '', /udp: 1232/);
  });

  test('AXFR over TCP lists every record between two SOAs; IXFR gets the same', async () => {
    for (const type of ['AXFR', 'IXFR=1']) {
      const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), '+time=2', 'docker', type]);
      const records = stdout.split('\n').filter((line) => line && !line.startsWith(';')).map((line) => line.split(/\s+/));
      assert.equal(records[0]?.[3], 'SOA');
      assert.equal(records.at(-1)?.[3], 'SOA');
      const lines = records.map((r) => `${r[0]} ${r[3]} ${r.slice(4).join(' ')}`);
      for (const address of forty) assert.ok(lines.includes(`big.docker. A ${address}`), `${type} has big.docker ${address}`);
      for (const expected of ['web.docker. A 10.1.0.2', 'web.docker. AAAA fd00::2', 'web.prod.docker. A 10.1.0.3', '_http._tcp.web.docker. SRV 0 0 8080 web.docker.', 'docker. NS ns.docker.']) {
        assert.ok(lines.includes(expected), `${type} has ${expected}`);
      }
    }
  });

  test('AXFR is refused over UDP and to a client outside the allow-list', async () => {
    const udp = await sendRaw(port, buildQuery('docker', 252));
    assert.ok(udp);
    assert.equal(rcodeOf(udp), 5);
    const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), '-b', '127.0.0.2', '+time=2', '+tries=1', 'docker', 'AXFR']).catch((e: { stdout: string }) => e);
    assert.match(stdout, /Transfer failed|REFUSED/);
    assert.doesNotMatch(stdout, /10\.1\.0\.2/);
  });

  test('AXFR and IXFR of a name that is not a zone get NOTAUTH, inside the zone or outside it', async () => {
    for (const name of ['web.docker', 'example.com']) {
      for (const type of [252, 251]) {
        const [reply] = await sendRawTcp(port, buildQuery(name, type));
        assert.ok(reply, `${name} type ${type} answered`);
        assert.equal(rcodeOf(reply), 9, `${name} type ${type}: NOTAUTH`);
        assert.equal(reply.readUInt16BE(6), 0, 'no records');
      }
    }
  });

  test('other opcodes get NOTIMP; QDCOUNT other than 1 gets FORMERR', async () => {
    const notify = await sendRaw(port, buildQuery('web.docker', 1, { flags: 4 << 11 }));
    assert.equal(notify && rcodeOf(notify), 4);
    const two = await sendRaw(port, buildQuery('web.docker', 1, { qdcount: 2 }));
    assert.equal(two && rcodeOf(two), 1);
    const none = await sendRaw(port, buildQuery('web.docker', 1, { qdcount: 0 }).subarray(0, 12));
    assert.equal(none && rcodeOf(none), 1);
    const cut = await sendRaw(port, buildQuery('web.docker', 1).subarray(0, 18));
    assert.equal(cut && rcodeOf(cut), 1, 'unparseable question');
  });

  test('responses and packets shorter than a header are dropped', async () => {
    assert.equal(await sendRaw(port, buildQuery('web.docker', 1, { flags: 0x8000 }), 300), undefined);
    assert.equal(await sendRaw(port, Buffer.from([1, 2, 3]), 300), undefined);
    assert.equal((await dig(port, 'web.docker', 'A')).status, 'NOERROR', 'still answering');
  });

  test("Node's own resolver resolves names through seamark", async () => {
    const resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([`127.0.0.1:${port}`]);
    assert.deepEqual(await resolver.resolve4('web.docker'), ['10.1.0.2']);
    assert.deepEqual(await resolver.resolve6('web.docker'), ['fd00::2']);
    assert.deepEqual(await resolver.resolveSrv('_http._tcp.web.docker'), [{ name: 'web.docker', port: 8080, priority: 0, weight: 0 }]);
    assert.deepEqual(await resolver.reverse('10.1.0.3'), ['web.prod.docker']);
    await assert.rejects(resolver.resolve4('missing.docker'), { code: 'ENOTFOUND' });
    await assert.rejects(resolver.resolve4('v6only.docker'), { code: 'ENODATA' });
  });
});

describe('DNS server: listeners and shutdown', () => {
  test('listens on IPv4 and IPv6 at once', async () => {
    const seamark = await startSeamark({ config: { docker: 'off', hosts, upstreams: [] } });
    await seamark.stop();
    const both = await startSeamark({ config: { docker: 'off', hosts, upstreams: [], dns: [`127.0.0.1:${seamark.dnsPort}`, `[::1]:${seamark.dnsPort}`] }, dnsPort: seamark.dnsPort });
    try {
      const { stdout } = await run('dig', ['@::1', '-p', String(seamark.dnsPort), '+short', 'web.docker']);
      assert.equal(stdout.trim(), '10.1.0.2');
      assert.equal((await dig(seamark.dnsPort, '+short', 'web.docker')).output.trim(), '10.1.0.2');
    } finally {
      await both.stop();
    }
  });

  test('SIGTERM and SIGINT close the sockets and exit 0 within a second', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const seamark = await startSeamark({ config: { docker: 'off', hosts, upstreams: [] } });
      const started = Date.now();
      const code = await seamark.stop(signal);
      assert.equal(code, 0);
      assert.ok(Date.now() - started < 1000, `exited in ${Date.now() - started} ms`);
    }
  });
});

describe('DNS server: TCP (RFC 7766)', () => {
  test('pipelined queries on one connection are all answered; an idle connection is closed', async () => {
    const seamark = await startSeamark({ config: { docker: 'off', upstreams: [], tcpIdleTimeout: 0.5, hosts } });
    try {
      const { connect } = await import('node:net');
      const socket = connect(seamark.dnsPort, '127.0.0.1');
      const frames = ['web.docker', 'pair.docker', 'missing.docker'].map((name, i) => {
        const query = buildQuery(name, 1, { id: 100 + i });
        const frame = Buffer.alloc(query.length + 2);
        frame.writeUInt16BE(query.length, 0);
        query.copy(frame, 2);
        return frame;
      });
      const replies = new Map<number, number>();
      let received = Buffer.alloc(0);
      const closedAt = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
      socket.on('data', (chunk) => {
        received = Buffer.concat([received, chunk]);
        while (received.length >= 2 && received.length >= received.readUInt16BE(0) + 2) {
          const reply = received.subarray(2, received.readUInt16BE(0) + 2);
          replies.set(reply.readUInt16BE(0), rcodeOf(reply));
          received = received.subarray(reply.length + 2);
        }
      });
      await new Promise<void>((resolve) => socket.on('connect', resolve));
      const sentAt = Date.now();
      socket.write(Buffer.concat(frames)); // all three in one segment
      const closed = await closedAt;
      assert.deepEqual([...replies.entries()].sort(), [[100, 0], [101, 0], [102, 3]]);
      assert.ok(closed - sentAt >= 400 && closed - sentAt < 5000, `closed after ${closed - sentAt} ms idle`);
    } finally {
      await seamark.stop();
    }
  });
});
