// The wire encoder on its own: sizes checked per record, and a record that
// cannot be encoded left out without costing the rest of the message.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import dns2 from 'dns2';
import type { Instance } from '../../src/registry/instance.js';
import { Registry } from '../../src/registry/registry.js';
import { RRType, Rcode, type ResourceRecord } from '../../src/zone/records.js';
import { lookup, zoneTransfer } from '../../src/zone/view.js';
import { encodeResponse, rotatedAnswers } from '../../src/dns/wire/write.js';
import { encodeTransfer } from '../../src/dns/wire/transfer.js';
import { buildQuery } from '../helpers/raw.js';

const { Packet } = dns2;

const query = buildQuery('web.docker', RRType.ANY);
const base = { query, id: 7, opcode: 0, recursionDesired: true, questionEnd: query.length, rcode: 0, authoritative: true, recursionAvailable: false };

test('a record with a value out of range is left out and reported; the others are sent', () => {
  const bad: ResourceRecord[] = [];
  const answers: ResourceRecord[] = [
    { name: 'web.docker', ttl: 30, type: RRType.A, address: '10.0.0.1' },
    { name: '_http._tcp.web.docker', ttl: 30, type: RRType.SRV, priority: 0, weight: 0, port: 99999, target: 'web.docker' },
    { name: 'web.docker', ttl: 30, type: RRType.A, address: '10.0.0.300' },
    { name: `${'x'.repeat(64)}.docker`, ttl: 30, type: RRType.A, address: '10.0.0.3' },
    { name: '_http._tcp.web.docker', ttl: 30, type: RRType.SRV, priority: 0, weight: 0, port: 8080, target: 'web.docker' },
  ];
  const reply = encodeResponse({ ...base, answers, maxSize: 65535, onBadRecord: (record) => bad.push(record) });
  const decoded = Packet.parse(reply);
  assert.deepEqual(
    decoded.answers.map((r: { address?: string; port?: number }) => r.address ?? r.port),
    ['10.0.0.1', 8080],
  );
  assert.equal(bad.length, 3);
});

test('an answer beyond 64 KiB: empty with TC for UDP sizes, SERVFAIL without records or TC over TCP', () => {
  const answers: ResourceRecord[] = Array.from({ length: 3000 }, (_, i) => ({ name: 'web.docker', ttl: 30, type: RRType.AAAA, address: `fd00::${i.toString(16)}` }));
  const udp = encodeResponse({ ...base, answers, maxSize: 1232 });
  assert.equal(udp.readUInt16BE(6), 0);
  assert.ok((udp.readUInt16BE(2) & 0x0200) !== 0);
  const tcp = encodeResponse({ ...base, answers, authoritative: true, maxSize: 65535, viaTcp: true, edns: { payloadSize: 1232, dnssecOk: false } });
  const decoded = Packet.parse(tcp);
  assert.equal(tcp.readUInt16BE(2) & 0xf, 2, 'SERVFAIL');
  assert.equal(tcp.readUInt16BE(2) & 0x0600, 0, 'neither TC nor AA');
  assert.equal(decoded.answers.length, 0);
  assert.equal(decoded.additionals.length, 1, 'the OPT is still there');
  const fits = encodeResponse({ ...base, answers: answers.slice(0, 2000), maxSize: 65535, viaTcp: true });
  assert.equal(Packet.parse(fits).answers.length, 2000, 'an answer that fits a TCP message is sent whole');
});

test('a zone transfer survives an instance with an SRV port out of range', () => {
  const registry = new Registry();
  const instance = (owner: string, names: string[], address: string, port: number): Instance => ({
    owner,
    source: 'docker',
    names,
    addresses: [address],
    srv: [{ service: 'http', protocol: 'tcp', port, priority: 0, weight: 0 }],
    healthy: true,
  });
  registry.upsert(instance('docker:a', ['bad.docker'], '10.0.0.1', 99999));
  registry.upsert(instance('docker:b', ['good.docker'], '10.0.0.2', 80));
  const settings = { zones: ['docker'], ttl: 30, negativeTtl: 5, failOpen: true, serialBase: 1 };
  const bad: ResourceRecord[] = [];
  const axfr = buildQuery('docker', RRType.AXFR);
  const messages = [...encodeTransfer(axfr, 1, axfr.length, zoneTransfer(registry, settings, 'docker'), undefined, (record) => bad.push(record))];
  const records = messages.flatMap((message) => Packet.parse(message).answers as { name: string; type: number; port?: number }[]);
  assert.deepEqual(bad.map((r) => r.name), ['_http._tcp.bad.docker']);
  assert.ok(records.some((r) => r.name === 'bad.docker' && r.type === RRType.A), 'the rest of the bad instance');
  assert.ok(records.some((r) => r.type === RRType.SRV && r.port === 80));
  assert.equal(records[0]?.type, RRType.SOA);
  assert.equal(records.at(-1)?.type, RRType.SOA);
});

test('a 4 KB TXT that runs past the largest message is an overflow (SERVFAIL over TCP, TC over UDP), not a bad record', () => {
  const query = buildQuery('www.example.com', RRType.TXT);
  const txt = (size: number) => ({ name: 'www.example.com', ttl: 1, type: RRType.TXT, text: 'x'.repeat(size) });
  // 15 records of 4,000 bytes and one of 2,500 leave the last 4 KB TXT starting about 2 KB before the 64 KB limit.
  const answers = [...Array.from({ length: 15 }, () => txt(4000)), txt(2500), txt(4096)];
  for (const viaTcp of [true, false]) {
    const bad: ResourceRecord[] = [];
    const response = encodeResponse({ query, id: 1, opcode: 0, recursionDesired: true, questionEnd: query.length, rcode: 0, authoritative: true, recursionAvailable: false, answers, maxSize: 65535, viaTcp, onBadRecord: (record) => bad.push(record) });
    assert.deepEqual(bad, []);
    if (viaTcp) assert.equal(response.readUInt16BE(2) & 0xf, Rcode.SERVFAIL);
    else assert.ok((response.readUInt16BE(2) & 0x0200) !== 0, 'TC');
  }
});

test('an address RRset encoded once and rotated is, byte for byte, each rotation of the zone view encoded', () => {
  const registry = new Registry();
  const addresses = ['10.0.0.1', '10.0.0.2', '10.0.0.3', 'fd00::1', 'fd00::2'];
  registry.upsert({ owner: 'manual:r', source: 'manual', names: ['r.docker'], addresses, srv: [{ service: 'http', protocol: 'tcp', port: 80, priority: 1, weight: 1 }], healthy: true });
  const settings = { zones: ['docker'], ttl: 30, negativeTtl: 5, failOpen: true, serialBase: 1 };
  for (const [type, count] of [[RRType.A, 3], [RRType.AAAA, 2]] as const) {
    const asked = buildQuery('R.docker', type);
    const encode = (rotation: number) => encodeResponse({ ...base, query: asked, questionEnd: asked.length, ...lookup(registry, settings, 'r.docker', type, rotation), maxSize: 1232 });
    const rotations = rotatedAnswers(encode(0), asked.length, count + 1);
    assert.deepEqual(rotations, [0, 1, 2, 3].slice(0, count + 1).map(encode), `${type === RRType.A ? 'A' : 'AAAA'}: rotation r is turn r, modulo the count`);
  }
  const srvQuery = buildQuery('_http._tcp.r.docker', RRType.SRV);
  const srv = encodeResponse({ ...base, query: srvQuery, questionEnd: srvQuery.length, ...lookup(registry, settings, '_http._tcp.r.docker', RRType.SRV, 0), maxSize: 1232 });
  assert.equal(rotatedAnswers(srv, srvQuery.length, 2), undefined, 'not an address RRset: encoded per rotation instead');
});
