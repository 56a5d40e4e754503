// DNS correctness found by trying to break the server: sizes, flags, OPT,
// zone membership, RRsets, zone cuts, IXFR, serials, CH class, QTYPE 0.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { dig } from '../helpers/dig.js';
import { buildQuery, optOf, rcodeOf, sendRaw, sendRawTcp, withOpt } from '../helpers/raw.js';
import { startSeamark, type RunningSeamark } from '../helpers/seamark.js';
import { api } from '../http/client.js';

const run = promisify(execFile);

/** 50 instances of one name with 64 IPv6 addresses each: 3,200 AAAA records, more than a 64 KiB message holds. */
const huge = Array.from({ length: 50 }, (_, i) => ({
  names: [`huge${i}`, 'huge'],
  addresses: Array.from({ length: 64 }, (_, j) => `fd00::${i.toString(16)}:${j.toString(16)}`),
}));

const hosts = [
  { names: ['web'], addresses: ['10.1.0.2'] },
  { names: ['api.prod'], addresses: ['10.4.0.1'] },
  ...huge,
];

/** An IXFR query for `zone` with the client's SOA (this serial) in the authority section. */
function ixfrQuery(zone: string, serial: number): Buffer {
  const query = buildQuery(zone, 251, { flags: 0 });
  query.writeUInt16BE(1, 8);
  const rdata = Buffer.concat([Buffer.from([0, 0]), Buffer.alloc(20)]);
  rdata.writeUInt32BE(serial, 2);
  const fixed = Buffer.from([0xc0, 12, 0, 6, 0, 1, 0, 0, 0, 0, 0, rdata.length]);
  return Buffer.concat([query, fixed, rdata]);
}

/** Non-comment lines of dig's output as "name type data". */
function recordLines(output: string): string[] {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith(';'))
    .map((line) => line.split(/\s+/))
    .map((r) => `${r[0]} ${r[3]} ${r.slice(4).join(' ')}`);
}

async function digLines(port: number, ...args: string[]): Promise<string[]> {
  const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), '+time=5', '+tries=1', ...args], { maxBuffer: 64 << 20 });
  return recordLines(stdout);
}

describe('DNS correctness', () => {
  let seamark: RunningSeamark;
  let port: number;
  before(async () => {
    seamark = await startSeamark({
      config: { docker: 'off', zones: ['docker', 'prod.docker'], hosts, upstreams: [], forwardAllow: ['127.0.0.1/32'], axfrAllow: ['127.0.0.1/32'], serverIdentity: 'ns1.test' },
    });
    port = seamark.dnsPort;
    // Two records named web2 (configured hosts sharing a first name would be one): the same SRV from each.
    for (const [id, address, ttl] of [['web2-a', '10.3.0.1', 60], ['web2-b', '10.3.0.2', undefined]] as const) {
      const put = await api(seamark.httpPort, 'PUT', `/v1/records/${id}`, { names: ['web2'], addresses: [address], ttl, srv: [{ service: 'http', protocol: 'tcp', port: 80 }] });
      assert.ok(put.status < 300, put.text);
    }
  });
  after(() => seamark.stop());

  test('an RRset beyond 64 KiB: TC over UDP, and SERVFAIL over TCP (no partial RRset)', async () => {
    for (const bufsize of ['+bufsize=1232', '+noedns']) {
      const udp = await dig(port, bufsize, '+ignore', 'huge.docker', 'AAAA');
      assert.equal(udp.status, 'NOERROR');
      assert.ok(udp.flags.includes('tc'), `${bufsize}: TC (flags ${udp.flags.join(' ')})`);
      assert.equal(udp.answer.length, 0);
    }
    for (const type of [28, 255]) {
      const [tcp] = await sendRawTcp(port, buildQuery('huge.docker', type));
      assert.ok(tcp, 'a reply over TCP');
      assert.equal(rcodeOf(tcp), 2, 'SERVFAIL: the RRset does not fit any DNS message');
      assert.equal(tcp.readUInt16BE(2) & 0x0200, 0, 'no TC: there is nowhere to retry');
      assert.equal(tcp.readUInt16BE(6), 0, 'no partial RRset');
    }
    const after = await dig(port, 'web.docker', 'A');
    assert.deepEqual(after.answer.map((r) => r.data), ['10.1.0.2'], 'still serving');
  });

  test('RD is copied from the query into zone answers, cached or not, UDP and TCP', async () => {
    for (const args of [['+notcp'], ['+notcp'], ['+tcp'], ['+notcp', '+noedns']]) {
      const reply = await dig(port, ...args, '+norec', 'api.prod.docker', 'A');
      assert.equal(reply.answer[0]?.data, '10.4.0.1');
      assert.ok(!reply.flags.includes('rd'), `${args.join(' ')}: flags ${reply.flags.join(' ')}`);
    }
  });

  test('a label holding a dot is a name under the root, not in the zone: REFUSED to a client that may not forward', async () => {
    const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), '-b', '127.0.0.2', '+time=2', '+tries=1', 'web\\.docker', 'A']);
    assert.match(stdout, /status: REFUSED/);
    assert.doesNotMatch(stdout, /flags:[^;]* aa/);
    assert.doesNotMatch(stdout, /SOA/);
    const inZone = await dig(port, 'a\\.b.docker', 'A');
    assert.equal(inZone.status, 'NXDOMAIN', 'a dotted label below the zone is in the zone');
  });

  test('SRV records are not repeated, and the additional section carries whole address RRsets with their TTL', async () => {
    const reply = await dig(port, '_http._tcp.web2.docker', 'SRV');
    assert.deepEqual(reply.answer.map((r) => r.data).sort(), ['0 0 80 web2.docker.']);
    const additional = reply.additional.filter((r) => r.type === 'A');
    assert.deepEqual(additional.map((r) => r.data).sort(), ['10.3.0.1', '10.3.0.2']);
    const a = await dig(port, 'web2.docker', 'A');
    assert.deepEqual(new Set(additional.map((r) => r.ttl)), new Set([a.answer[0]?.ttl]), 'the A RRset TTL');
    const axfr = await digLines(port, 'docker', 'AXFR');
    assert.equal(axfr.filter((line) => line.startsWith('_http._tcp.web2.docker.')).length, 1, 'once in the transfer too');
  });

  test('non-QUERY opcodes get NOTIMP with an OPT to EDNS queries and none of RD, RA, AA, AD, CD', async () => {
    for (const opcode of [1, 2, 4, 5, 15]) {
      // RD, AD and CD set in the query.
      const query = withOpt(buildQuery('web.docker', 1, { flags: (opcode << 11) | 0x0100 | 0x0020 | 0x0010 }));
      for (const reply of [await sendRaw(port, query), (await sendRawTcp(port, query))[0]]) {
        assert.ok(reply, `opcode ${opcode}: a reply`);
        assert.equal(rcodeOf(reply), 4, `opcode ${opcode}: NOTIMP`);
        assert.equal((reply.readUInt16BE(2) >> 11) & 0xf, opcode);
        assert.equal(reply.readUInt16BE(2) & 0x05b0, 0, `opcode ${opcode}: no AA, RD, RA, AD, CD (flags ${reply.readUInt16BE(2).toString(16)})`);
        assert.equal(optOf(reply)?.payloadSize, 1232, `opcode ${opcode}: OPT`);
      }
      const plain = await sendRaw(port, buildQuery('web.docker', 1, { flags: (opcode << 11) | 0x0100 }));
      assert.ok(plain && optOf(plain) === undefined, 'no OPT without EDNS');
    }
  });

  test('every message of an AXFR to an EDNS query carries an OPT', async () => {
    const replies = await sendRawTcp(port, withOpt(buildQuery('docker', 252, { flags: 0 })), 3, 5000);
    assert.ok(replies.length >= 2, `a transfer of several messages (${replies.length})`);
    for (const reply of replies) assert.equal(optOf(reply)?.payloadSize, 1232);
  });

  test('nested zones: the parent transfer stops at the cut with an NS record; the child holds its own names', async () => {
    const parent = await digLines(port, 'docker', 'AXFR');
    assert.ok(parent.includes('prod.docker. NS ns.prod.docker.'), 'NS for the cut');
    assert.ok(parent.includes('web.docker. A 10.1.0.2'));
    assert.ok(!parent.some((line) => line.startsWith('api.prod.docker.')), 'no child data in the parent');
    const child = await digLines(port, 'prod.docker', 'AXFR');
    assert.ok(child.includes('api.prod.docker. A 10.4.0.1'));
    assert.equal(child[0]?.split(' ')[0], 'prod.docker.');
  });

  test('IXFR with the current serial gets the SOA alone; over UDP the SOA; an older serial the whole zone', async () => {
    const soa = await dig(port, 'prod.docker', 'SOA');
    const serial = Number(soa.answer[0]?.data.split(' ')[2]);
    assert.ok(serial > 0);
    const current = await digLines(port, 'prod.docker', `IXFR=${serial}`);
    assert.deepEqual(current.map((line) => line.split(' ').slice(0, 2).join(' ')), ['prod.docker. SOA'], 'up to date: one SOA');
    const udp = await sendRaw(port, ixfrQuery('prod.docker', serial - 5));
    assert.ok(udp);
    assert.equal(rcodeOf(udp), 0);
    assert.equal(udp.readUInt16BE(6), 1, 'over UDP: the SOA alone, telling the client to use TCP');
    assert.equal(udp.readUInt16BE(12 + 'prod.docker'.length + 2 + 4 + 2), 6, 'the answer is the SOA');
    const older = await digLines(port, 'prod.docker', `IXFR=${serial - 5}`);
    assert.ok(older.includes('api.prod.docker. A 10.4.0.1'), 'an older serial gets the zone');
  });

  test('CH TXT version.bind and id.server are answered; other CH names are REFUSED', async () => {
    const version = await dig(port, 'version.bind', 'TXT', 'CH');
    assert.equal(version.status, 'NOERROR');
    assert.match(version.answer[0]?.data ?? '', /^"seamark \d+\.\d+\.\d+"$/);
    assert.ok(version.flags.includes('aa'));
    const id = await dig(port, 'id.server', 'TXT', 'CH');
    assert.equal(id.answer[0]?.data, '"ns1.test"');
    const other = await dig(port, 'web.docker', 'TXT', 'CH');
    assert.equal(other.status, 'REFUSED');
  });

  test('QTYPE 0 gets FORMERR, with the question', async () => {
    const reply = await sendRaw(port, buildQuery('web.docker', 0));
    assert.ok(reply);
    assert.equal(rcodeOf(reply), 1);
    assert.equal(reply.readUInt16BE(4), 1);
  });
});

test('serverVersion: hide answers version.bind with REFUSED', async () => {
  const seamark = await startSeamark({ config: { docker: 'off', upstreams: [], serverVersion: 'hide' } });
  try {
    const reply = await dig(seamark.dnsPort, 'version.bind', 'TXT', 'CH');
    assert.equal(reply.status, 'REFUSED');
    assert.equal(reply.answer.length, 0);
  } finally {
    await seamark.stop();
  }
});

test('the SOA serial never goes backwards across a restart, however many changes came before', { timeout: 120_000 }, async () => {
  const first = await startSeamark({ config: { docker: 'off', upstreams: [] } });
  const serialOf = async (port: number) => Number((await dig(port, 'docker', 'SOA')).answer[0]?.data.split(' ')[2]);
  let before: number;
  try {
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 30 }, (_, i) => api(first.httpPort, 'PUT', `/v1/records/r${batch}-${i}`, { names: [`r${batch}-${i}`], addresses: ['10.5.0.1'] })),
      );
    }
    before = await serialOf(first.dnsPort);
  } finally {
    await first.stop();
  }
  const second = await startSeamark({ dataDir: first.dataDir, config: { docker: 'off', upstreams: [] } });
  try {
    const after = await serialOf(second.dnsPort);
    assert.ok(after > before, `serial ${after} after the restart, ${before} before`);
    await api(second.httpPort, 'PUT', '/v1/records/one-more', { names: ['one-more'], addresses: ['10.5.0.2'] });
    assert.ok((await serialOf(second.dnsPort)) > after, 'and grows with a change');
  } finally {
    await second.stop();
  }
});

test('a corrupt serial file stops start-up with a message naming it', async () => {
  const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dataDir = join(mkdtempSync(join(tmpdir(), 'seamark-serial-')), 'data');
  mkdirSync(dataDir);
  writeFileSync(join(dataDir, 'soa-serial'), 'garbage\n');
  await assert.rejects(startSeamark({ dataDir, config: { docker: 'off', upstreams: [] } }), /soa-serial.*not an SOA serial/s);
});
