// parseQuery, the first step of every request: what it reads from a query, what it answers
// with an RCODE only (FORMERR, NOTIMP), what it drops, and that no byte sequence makes it throw.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { parseQuery, type ParseResult, type Query } from '../../src/dns/wire/read.js';
import { Rcode } from '../../src/zone/records.js';
import { buildQuery, withOpt } from '../helpers/raw.js';

const A = 1;
const QUESTION_END_WEB_DOCKER = 12 + 1 + 3 + 1 + 6 + 1 + 4;

function queryOf(result: ParseResult): Query {
  assert.equal(result.kind, 'query', JSON.stringify(result));
  return (result as Extract<ParseResult, { kind: 'query' }>).query;
}

function errorOf(result: ParseResult): Extract<ParseResult, { kind: 'error' }> {
  assert.equal(result.kind, 'error', JSON.stringify(result));
  return result as Extract<ParseResult, { kind: 'error' }>;
}

/** An OPT record (root owner) with the given payload size, extended RCODE/version/flags TTL and RDATA. */
function opt(payloadSize: number, version = 0, dnssecOk = false, rdata = Buffer.alloc(0), owner = Buffer.from([0])): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(41, 0);
  fixed.writeUInt16BE(payloadSize, 2);
  fixed[5] = version;
  fixed[6] = dnssecOk ? 0x80 : 0;
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([owner, fixed, rdata]);
}

/** `query` with `records` appended, counted in the answer, authority or additional section. */
function withRecords(query: Buffer, section: 'answer' | 'authority' | 'additional', ...records: Buffer[]): Buffer {
  const packet = Buffer.concat([query, ...records]);
  const at = { answer: 6, authority: 8, additional: 10 }[section];
  packet.writeUInt16BE(packet.readUInt16BE(at) + records.length, at);
  return packet;
}

describe('parseQuery: a well-formed query', () => {
  test('reads the ID, flags, question (lower case) and where the question ends', () => {
    const query = queryOf(parseQuery(buildQuery('Web.DOCKER', A, { id: 0xbeef, flags: 0x0110 })));
    assert.deepEqual(query, { id: 0xbeef, opcode: 0, recursionDesired: true, checkingDisabled: true, questionEnd: QUESTION_END_WEB_DOCKER, name: 'web.docker', type: A, class: 1, edns: undefined });
  });

  test('RD and CD clear; any class and type number are taken as given', () => {
    const query = queryOf(parseQuery(buildQuery('x.docker', 65280, { flags: 0, klass: 3 })));
    assert.equal(query.recursionDesired, false);
    assert.equal(query.checkingDisabled, false);
    assert.equal(query.type, 65280);
    assert.equal(query.class, 3);
  });

  test('the root name is the empty name', () => {
    const query = queryOf(parseQuery(buildQuery('', 2)));
    assert.equal(query.name, '');
    assert.equal(query.questionEnd, 12 + 1 + 4);
  });

  test('a dot or backslash inside a label is escaped; other bytes are kept as they are', () => {
    const name = Buffer.from([3, 0x61, 0x2e, 0x62, 2, 0x5c, 0xe9, 6, ...Buffer.from('docker'), 0, 0, 1, 0, 1]);
    const header = Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert.equal(queryOf(parseQuery(Buffer.concat([header, name]))).name, 'a\\.b.\\\\\u00e9.docker');
  });

  test('a name of 255 octets on the wire is read; one octet more is FORMERR', () => {
    // Labels of 63, 63, 63 and 61 octets: 3 × 64 + 62 + 1 (the root) = 255 octets on the wire.
    const longest = [63, 63, 63, 61].map((n, i) => String.fromCharCode(0x61 + i).repeat(n)).join('.');
    assert.equal(queryOf(parseQuery(buildQuery(longest, A))).name, longest);
    const tooLong = [63, 63, 63, 62].map((n, i) => String.fromCharCode(0x61 + i).repeat(n)).join('.');
    assert.equal(errorOf(parseQuery(buildQuery(tooLong, A))).rcode, Rcode.FORMERR);
  });
});

describe('parseQuery: EDNS', () => {
  test('the OPT gives the payload size, version and DO bit', () => {
    const query = queryOf(parseQuery(withRecords(buildQuery('web.docker', A), 'additional', opt(4096, 0, true))));
    assert.deepEqual(query.edns, { payloadSize: 4096, version: 0, dnssecOk: true });
    assert.equal(query.questionEnd, QUESTION_END_WEB_DOCKER, 'the question ends before the OPT');
  });

  test('a payload size below 512 counts as 512 (RFC 6891 §6.2.5)', () => {
    assert.equal(queryOf(parseQuery(withOpt(buildQuery('web.docker', A), 100))).edns?.payloadSize, 512);
  });

  test('a version above 0 is read, for the server to answer BADVERS', () => {
    assert.equal(queryOf(parseQuery(withRecords(buildQuery('web.docker', A), 'additional', opt(1232, 1)))).edns?.version, 1);
  });

  test('well-formed options are skipped, whatever they are', () => {
    const cookie = Buffer.from([0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]);
    const unknown = Buffer.from([0xff, 0x00, 0, 0]);
    assert.equal(queryOf(parseQuery(withRecords(buildQuery('web.docker', A), 'additional', opt(1232, 0, false, Buffer.concat([cookie, unknown]))))).edns?.payloadSize, 1232);
  });

  test('FORMERR, with the question kept for the reply and no OPT taken from it: two OPTs, an OPT outside the additional section or not at the root, options that overrun', () => {
    const cases: [string, Buffer][] = [
      ['two OPTs', withRecords(buildQuery('web.docker', A), 'additional', opt(1232), opt(1232))],
      ['OPT in the answer section', withRecords(buildQuery('web.docker', A), 'answer', opt(1232))],
      ['OPT owned by a name', withRecords(buildQuery('web.docker', A), 'additional', opt(1232, 0, false, Buffer.alloc(0), Buffer.from([1, 0x61, 0])))],
      ['an option longer than the RDATA', withRecords(buildQuery('web.docker', A), 'additional', opt(1232, 0, false, Buffer.from([0, 10, 0, 9, 1, 2])))],
      ['a truncated option header', withRecords(buildQuery('web.docker', A), 'additional', opt(1232, 0, false, Buffer.from([0, 10])))],
    ];
    for (const [what, packet] of cases) {
      const error = errorOf(parseQuery(packet));
      assert.equal(error.rcode, Rcode.FORMERR, what);
      assert.equal(error.questionEnd, QUESTION_END_WEB_DOCKER, what);
      assert.equal(error.edns, undefined, `${what}: an OPT that is wrong is not echoed`);
    }
  });

  test('a record that runs past the end of the message is FORMERR', () => {
    const packet = withOpt(buildQuery('web.docker', A));
    assert.equal(errorOf(parseQuery(packet.subarray(0, packet.length - 3))).rcode, Rcode.FORMERR);
  });
});

describe('parseQuery: what is answered with an RCODE only, and what is dropped', () => {
  test('shorter than a header, or a response (QR set): dropped', () => {
    assert.deepEqual(parseQuery(Buffer.alloc(11)), { kind: 'drop' });
    assert.deepEqual(parseQuery(buildQuery('web.docker', A, { flags: 0x8100 })), { kind: 'drop' });
  });

  test('a header alone, no question or two questions: FORMERR, with ID, opcode and RD for the reply', () => {
    for (const packet of [buildQuery('web.docker', A).subarray(0, 12), buildQuery('web.docker', A, { qdcount: 0 }), buildQuery('web.docker', A, { qdcount: 2, id: 7 })]) {
      const error = errorOf(parseQuery(packet));
      assert.equal(error.rcode, Rcode.FORMERR);
      assert.equal(error.questionEnd, undefined);
      assert.equal(error.recursionDesired, true);
    }
    assert.equal(errorOf(parseQuery(buildQuery('web.docker', A, { qdcount: 2, id: 7 }))).id, 7);
  });

  test('a question cut short, a label over 63 octets or a compression pointer in the question: FORMERR', () => {
    const full = buildQuery('web.docker', A);
    assert.equal(errorOf(parseQuery(full.subarray(0, full.length - 2))).rcode, Rcode.FORMERR, 'no class');
    assert.equal(errorOf(parseQuery(full.subarray(0, 15))).rcode, Rcode.FORMERR, 'inside a label');
    assert.equal(errorOf(parseQuery(buildQuery('a'.repeat(64) + '.docker', A))).rcode, Rcode.FORMERR);
    const pointer = Buffer.concat([full.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    assert.equal(errorOf(parseQuery(pointer)).rcode, Rcode.FORMERR);
  });

  test('type 0 is FORMERR, with the question read', () => {
    const error = errorOf(parseQuery(buildQuery('web.docker', 0)));
    assert.equal(error.rcode, Rcode.FORMERR);
    assert.equal(error.questionEnd, QUESTION_END_WEB_DOCKER);
  });

  test('an opcode other than QUERY is NOTIMP, however malformed the rest (RFC 8906)', () => {
    const notify = errorOf(parseQuery(withOpt(buildQuery('web.docker', 6, { flags: 4 << 11 }))));
    assert.equal(notify.rcode, Rcode.NOTIMP);
    assert.equal(notify.opcode, 4);
    assert.equal(notify.questionEnd, QUESTION_END_WEB_DOCKER);
    assert.equal(notify.edns?.payloadSize, 1232, 'the OPT is read, for the reply to carry one');
    assert.equal(errorOf(parseQuery(buildQuery('web.docker', A, { flags: 2 << 11, qdcount: 0 }))).rcode, Rcode.NOTIMP, 'no question');
  });
});

test('parseQuery never throws: 20,000 random packets, and every prefix of a query with an OPT', () => {
  for (let i = 0; i < 20_000; i++) {
    const packet = randomBytes(1 + (i % 96));
    if (i % 2 === 0 && packet.length >= 12) packet[2] = (packet[2] as number) & 0x7f; // half of them look like queries
    assert.doesNotThrow(() => parseQuery(packet), packet.toString('hex'));
  }
  const packet = withRecords(buildQuery('web.docker', A), 'additional', opt(1232, 0, true, Buffer.from([0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8])));
  for (let end = 0; end <= packet.length; end++) assert.doesNotThrow(() => parseQuery(packet.subarray(0, end)));
});
