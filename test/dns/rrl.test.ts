// Response rate limiting: a raw-socket flood from one loopback address, well-behaved
// clients from others, against the real seamark; and the limiter's accounting by itself.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { BlockList } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DROP, ResponseRateLimiter, SEND, SLIP, ipv6Bytes, slipReply, type RrlOptions } from '../../src/dns/rrl.js';
import { dig } from '../helpers/dig.js';
import { buildQuery, optOf, rcodeOf, sendRaw, withOpt } from '../helpers/raw.js';
import { metric, startSeamark, type RunningSeamark } from '../helpers/seamark.js';

const hosts = [
  { names: ['web'], addresses: ['10.1.0.2'] },
  { names: ['db'], addresses: ['10.1.0.3'] },
];

interface FloodResult {
  sent: number;
  full: number;
  slipped: number;
  /** Empty TC replies that carried an OPT record. */
  slippedWithOpt: number;
}

/**
 * Sends `count` queries for `name` from `source`, 20 per turn of the event loop (so the
 * loopback socket buffers do not overflow), and counts full and empty-TC replies.
 */
function flood(port: number, source: string, name: string, count: number, edns = false): Promise<FloodResult> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const result: FloodResult = { sent: count, full: 0, slipped: 0, slippedWithOpt: 0 };
    let quietTimer: NodeJS.Timeout | undefined;
    // Done once no reply has come for half a second after the last query.
    const settle = () => {
      clearTimeout(quietTimer);
      quietTimer = setTimeout(() => socket.close(() => resolve(result)), 500);
    };
    socket.on('message', (reply) => {
      const truncated = (reply[2] as number) & 0x02;
      if (truncated && reply.readUInt16BE(6) === 0) {
        result.slipped++;
        if (optOf(reply) !== undefined) result.slippedWithOpt++;
      }
      else if (reply.readUInt16BE(6) > 0) result.full++;
      if (quietTimer !== undefined) settle();
    });
    socket.bind(0, source, () => {
      const query = edns ? withOpt(buildQuery(name, 1)) : buildQuery(name, 1);
      let sent = 0;
      const sendSome = () => {
        for (let end = Math.min(count, sent + 20); sent < end; sent++) {
          query.writeUInt16BE(sent & 0xffff, 0);
          socket.send(query, port, '127.0.0.1');
        }
        if (sent < count) setImmediate(sendSome);
        else settle();
      };
      sendSome();
    });
  });
}

/** One query from `source` as a stub resolver asks: up to three tries, a second each. */
async function ask(port: number, name: string, source: string): Promise<Buffer | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const reply = await sendRaw(port, buildQuery(name, 1, { id: attempt + 1 }), 1000, source);
    if (reply !== undefined) return reply;
  }
  return undefined;
}

describe('response rate limiting on the wire', () => {
  let seamark: RunningSeamark;
  before(async () => {
    // Loopback is not exempt here, so the test's loopback addresses stand for clients on the Internet.
    seamark = await startSeamark({ config: { docker: 'off', hosts, upstreams: [], rrlExempt: [], rrlRate: 5, rrlWindow: 2, rrlSlip: 2, logLevel: 'info' } });
  });
  after(() => seamark.stop());

  test('a flood from one address is limited; every 2nd limited answer slips as an empty TC reply', async () => {
    const answeredBefore = await metric(seamark, 'seamark_dns_queries_total');
    const result = await flood(seamark.dnsPort, '127.0.1.2', 'web.docker', 400);
    // On a loaded machine some of the flood is lost in the loopback socket buffers before seamark
    // reads it: what seamark answered is the measure, not what was sent.
    const answered = (await metric(seamark, 'seamark_dns_queries_total')) - answeredBefore;
    assert.ok(answered >= 100, `seamark answered ${answered} of the 400 queries`);
    // At most 5 a second get through in full (the flood lasts a second or two), the rest are limited.
    assert.ok(result.full >= 1 && result.full <= 20, `full answers: ${result.full} of ${answered}`);
    const limited = await metric(seamark, 'seamark_dns_rrl_limited_total');
    const slipped = await metric(seamark, 'seamark_dns_rrl_slipped_total');
    assert.ok(limited >= answered - 20 && limited <= answered - result.full, `limited: ${limited} of ${answered} answered, ${result.full} received in full`);
    assert.ok(Math.abs(slipped - limited / 2) <= 1, `slipped ${slipped} of ${limited} limited (slip 2)`);
    assert.ok(result.slipped > 0 && result.slipped <= slipped, `empty TC replies received: ${result.slipped}`);
  });

  test('a slip to an EDNS query carries an OPT, as every reply to one does (RFC 6891 §7)', async () => {
    const result = await flood(seamark.dnsPort, '127.0.4.2', 'db.docker', 300, true);
    assert.ok(result.slipped > 0, `empty TC replies received: ${result.slipped}`);
    assert.equal(result.slippedWithOpt, result.slipped);
    const plain = await flood(seamark.dnsPort, '127.0.5.2', 'db.docker', 300);
    assert.ok(plain.slipped > 0);
    assert.equal(plain.slippedWithOpt, 0, 'no OPT in a slip to a query without one');
  });

  test('meanwhile a client in another /24 and another answer from the same /24 are answered', async () => {
    const flooding = flood(seamark.dnsPort, '127.0.1.2', 'web.docker', 2000);
    for (let i = 0; i < 3; i++) {
      const reply = await ask(seamark.dnsPort, 'web.docker', '127.0.2.3');
      assert.ok(reply !== undefined && rcodeOf(reply) === 0 && reply.readUInt16BE(6) === 1, 'well-behaved client answered in full');
      const other = await ask(seamark.dnsPort, 'db.docker', '127.0.1.9');
      assert.ok(other !== undefined && other.readUInt16BE(6) === 1, 'another answer to the same /24 is its own budget');
    }
    const { full } = await flooding;
    assert.ok(full <= 30, `the flood still limited: ${full} full answers of 2000`);
  });

  test('the same answer to another address of the flooding /24 is limited with it', async () => {
    const flooding = flood(seamark.dnsPort, '127.0.1.2', 'web.docker', 2000);
    await sleep(100);
    const neighbour = await flood(seamark.dnsPort, '127.0.1.77', 'web.docker', 20);
    assert.ok(neighbour.full < 20, `neighbour got ${neighbour.full} of 20 in full`);
    await flooding;
  });

  test('a limited real client gets its answer over TCP, and the flooder is answered again once quiet for the window', async () => {
    await flood(seamark.dnsPort, '127.0.1.2', 'web.docker', 500);
    const overTcp = await dig(seamark.dnsPort, '-b', '127.0.1.2', '+tcp', 'web.docker', 'A');
    assert.deepEqual(overTcp.answer.map((r) => r.data), ['10.1.0.2'], 'TCP is never limited');
    await sleep(3500);
    const reply = await ask(seamark.dnsPort, 'web.docker', '127.0.1.2');
    assert.ok(reply !== undefined && reply.readUInt16BE(6) === 1, 'answered in full after rrlWindow (2 s) of quiet');
  });
});

describe('response rate limiting: default exemptions', () => {
  let seamark: RunningSeamark;
  before(async () => {
    seamark = await startSeamark({ config: { docker: 'off', hosts, upstreams: [], rrlRate: 5, logLevel: 'info' } });
  });
  after(() => seamark.stop());

  test('loopback and the forwarding allow-list are exempt by default', async () => {
    const result = await flood(seamark.dnsPort, '127.0.1.2', 'web.docker', 300);
    // Far more than 5 a second get through (some may be lost in the socket buffers on a busy machine).
    assert.ok(result.full >= 100, `exempt flood answered in full: ${result.full} of 300`);
    assert.equal(result.slipped, 0);
    assert.equal(await metric(seamark, 'seamark_dns_rrl_limited_total'), 0);
  });
});

describe('ResponseRateLimiter', () => {
  const options = (clock: { now: number }, extra: Partial<RrlOptions> = {}): RrlOptions => ({
    responsesPerSecond: 3,
    window: 5,
    slip: 2,
    ipv4PrefixLength: 24,
    ipv6PrefixLength: 56,
    tableSize: 64,
    exempt: new BlockList(),
    now: () => clock.now,
    ...extra,
  });
  /** A response to `name`/A with the given rcode and answer count. */
  const response = (name: string, rcode = 0, answers = 1): Buffer => {
    const reply = buildQuery(name, 1);
    reply[2] = 0x84;
    reply[3] = rcode;
    reply.writeUInt16BE(answers, 6);
    return reply;
  };
  const verdicts = (limiter: ResponseRateLimiter, reply: Buffer, client: string, n: number) =>
    Array.from({ length: n }, () => limiter.verdict(reply, client));

  test('credit refills each second; debt lasts up to the window', () => {
    const clock = { now: 1 };
    const limiter = new ResponseRateLimiter(options(clock));
    const web = response('web.docker');
    assert.deepEqual(verdicts(limiter, web, '192.0.2.1', 5), [SEND, SEND, SEND, DROP, SLIP]);
    clock.now = 2;
    // 3 credits pay the 2 over; still limited.
    assert.deepEqual(verdicts(limiter, web, '192.0.2.1', 2), [SEND, DROP]);
    assert.equal(limiter.limited, 3);
    assert.equal(limiter.slipped, 1);
    // A long flood's debt is capped at window × rate, so it is paid off after the window of quiet.
    verdicts(limiter, web, '192.0.2.1', 1000);
    clock.now = 2 + 5;
    assert.notEqual(limiter.verdict(web, '192.0.2.1'), SEND, 'window seconds of credit only pay the debt off');
    clock.now = 2 + 7;
    assert.equal(limiter.verdict(web, '192.0.2.1'), SEND);
  });

  test('the key: /24 and /56 prefixes, the answer, NXDOMAIN by zone, errors together', () => {
    const clock = { now: 1 };
    const limiter = new ResponseRateLimiter(options(clock, { slip: 0 }));
    const use = (reply: Buffer, client: string) => verdicts(limiter, reply, client, 3);
    use(response('web.docker'), '192.0.2.1');
    assert.equal(limiter.verdict(response('WEB.docker'), '192.0.2.200'), DROP, 'same /24, same name in any case');
    assert.equal(limiter.verdict(response('web.docker'), '192.0.3.1'), SEND, 'another /24');
    assert.equal(limiter.verdict(response('db.docker'), '192.0.2.1'), SEND, 'another name');
    const aaaa = response('web.docker');
    aaaa.writeUInt16BE(28, aaaa.length - 4);
    assert.equal(limiter.verdict(aaaa, '192.0.2.1'), SEND, 'another type');
    assert.equal(limiter.verdict(response('web.docker', 0, 0), '192.0.2.1'), SEND, 'NODATA is its own class');

    use(response('a.docker'), '2001:db8:0:ff00::1');
    assert.equal(limiter.verdict(response('a.docker'), '2001:db8:0:ffaa:1::2'), DROP, 'same /56');
    assert.equal(limiter.verdict(response('a.docker'), '2001:db8:0:fe00::1'), SEND, 'another /56');
    assert.equal(limiter.verdict(response('a.docker'), '::ffff:192.0.2.9'), SEND, 'IPv4-mapped counts as IPv4');

    // NXDOMAIN for made-up names under one zone: the SOA owner (a pointer into the question) is the key.
    const nx = (label: string) => {
      const reply = response(`${label}.docker`, 3, 0);
      reply.writeUInt16BE(1, 8);
      return Buffer.concat([reply, Buffer.from([0xc0, 12 + 1 + label.length])]);
    };
    verdicts(limiter, nx('x1'), '198.51.100.1', 3);
    assert.equal(limiter.verdict(nx('other-random-name'), '198.51.100.1'), DROP, 'random names under one zone count as one');
    verdicts(limiter, response('p.docker', 5, 0), '203.0.113.1', 3);
    assert.equal(limiter.verdict(response('q.docker', 2, 0), '203.0.113.1'), DROP, 'every error to a prefix counts together');
  });

  test('exempt clients are never limited; the table stays bounded', () => {
    const clock = { now: 1 };
    const exempt = new BlockList();
    exempt.addSubnet('10.0.0.0', 8, 'ipv4');
    const limiter = new ResponseRateLimiter(options(clock, { exempt, tableSize: 16 }));
    assert.ok(verdicts(limiter, response('web.docker'), '10.9.9.9', 100).every((v) => v === SEND));
    for (let i = 0; i < 5000; i++) limiter.verdict(response(`n${i}.docker`), `198.51.${i & 255}.1`);
    assert.ok(limiter.entries <= 16, `entries: ${limiter.entries}`);
    // A full table still limits: the stalest slot makes room for the new pair.
    assert.deepEqual(verdicts(limiter, response('web.docker'), '192.0.2.1', 4), [SEND, SEND, SEND, DROP]);
  });

  test('a slip reply is the header and question with TC and nothing else', () => {
    const full = Buffer.concat([response('web.docker'), Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 1, 0, 2])]);
    const slip = slipReply(full);
    assert.equal(slip.length, buildQuery('web.docker', 1).length);
    assert.equal((slip[2] as number) & 0x02, 0x02, 'TC');
    assert.deepEqual([slip.readUInt16BE(4), slip.readUInt16BE(6), slip.readUInt16BE(8), slip.readUInt16BE(10)], [1, 0, 0, 0]);
    assert.equal(slip.readUInt16BE(0), full.readUInt16BE(0), 'same ID');
  });

  test('a slip of an answer with an OPT keeps the OPT, without its options', () => {
    const opt = Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 4, 0, 10, 0, 0]);
    const full = Buffer.concat([response('web.docker'), Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 1, 0, 2]), opt]);
    full.writeUInt16BE(1, 10);
    const slip = slipReply(full);
    assert.deepEqual([slip.readUInt16BE(6), slip.readUInt16BE(8), slip.readUInt16BE(10)], [0, 0, 1]);
    assert.deepEqual(optOf(slip), { payloadSize: 1232 });
    assert.equal(slip.readUInt16BE(slip.length - 4) & 0x8000, 0x8000, 'DO bit kept');
    assert.equal(slip.length, buildQuery('web.docker', 1).length + 11);
  });

  test('IPv6 text to bytes', () => {
    assert.deepEqual(ipv6Bytes('2001:db8::1').slice(0, 4), [0x20, 0x01, 0x0d, 0xb8]);
    assert.deepEqual(ipv6Bytes('::1'), [...new Array(15).fill(0), 1]);
    assert.deepEqual(ipv6Bytes('fe80::1%eth0').slice(14), [0, 1]);
    assert.deepEqual(ipv6Bytes('::ffff:1.2.3.4').slice(10), [0xff, 0xff, 1, 2, 3, 4]);
  });
});
