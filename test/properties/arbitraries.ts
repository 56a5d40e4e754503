// What the property tests share: the seed (fixed, so a run is repeatable;
// fast-check prints it with the counterexample on failure), awkward strings
// for names, and an independent check of what a valid DNS name is.
import assert from 'node:assert/strict';
import dns2 from 'dns2';
import fc from 'fast-check';
import { parseQuery } from '../../src/dns/wire/read.js';
import { encodeResponse } from '../../src/dns/wire/write.js';
import { a } from '../../src/zone/records.js';

/** `SEAMARK_FUZZ_SEED=<n>` replays a run; the default keeps CI deterministic. */
export const SEED = Number(process.env.SEAMARK_FUZZ_SEED ?? 20261122);

/** Options for fc.assert: the seed and the run count; `SEAMARK_FUZZ_NO_SHRINK=1` reports the first failure as found (shrinking a slow property can take minutes). */
export function runs(numRuns: number): fc.Parameters<unknown> {
  return { seed: SEED, numRuns, includeErrorInReport: true, endOnFailure: process.env.SEAMARK_FUZZ_NO_SHRINK === '1' };
}

/** Characters that matter to the naming rules, plus some that should never survive them. */
const nameChar = fc.constantFrom(...'abcXYZ09-_.', 'É', 'ß', 'ẞ', 'İ', 'K', 'ﬀ', '日', '\u0000', '\u200b', ' ', '*', '/', '\\', ':', '@', '😀');

const longLabel = (length: number) => fc.constantFrom('a', 'Z', '0', '-', '_').map((c) => c.repeat(length));

/** A dotted name of exactly `octets` characters, from 63-octet labels (the last one shorter). */
export function nameOfLength(octets: number, letter = 'a'): string {
  let name = '';
  while (name.length < octets) name += (name === '' ? '' : '.') + letter.repeat(63);
  name = name.slice(0, octets);
  // Never a trailing dot: one octet less in the first label, one more label octet at the end.
  return name.endsWith('.') ? name.slice(1) + letter : name;
}

/**
 * Strings a user (or a daemon) might put where a name goes: any Unicode,
 * mixes of the characters the rules care about, 63/64-octet labels,
 * 253/254-octet names, and the classic edge cases.
 */
export const nameLike: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: nameChar, maxLength: 80 }),
  fc.string({ unit: nameChar, minLength: 200, maxLength: 300 }),
  fc.tuple(fc.oneof(longLabel(62), longLabel(63), longLabel(64)), fc.constantFrom('', '.docker', '.internal', '.', '-x')).map(([l, tail]) => l + tail),
  fc.constantFrom(250, 251, 253, 254, 256).map((n) => nameOfLength(n)),
  fc.constantFrom(240, 245, 246, 247, 253).map((n) => nameOfLength(n, 'B')),
  fc.constantFrom('', '.', '..', '-', '-web', 'web-', 'WEB', 'web.', 'docker', 'docker.', 'x.docker.', 'x.DOCKER', 'ns', 'NS', 'ns.docker.', 'ns.internal', '*', '*.x', 'a..b', '_srv', 'under_score', 'x.internal.', 'x.other.'),
);

/** ASCII letters upper-cased, nothing else touched: DNS names compare ASCII case-insensitively (RFC 4343). */
export function asciiUpper(text: string): string {
  return text.replace(/[a-z]+/g, (letters) => letters.toUpperCase());
}

/**
 * Why `name` (fully qualified, no trailing dot) is not a host name seamark
 * may serve, or undefined: labels of 1–63 octets from `allowed`, no hyphen at
 * either end, lower case, at most 253 octets (255 on the wire); the leftmost
 * label may be a wildcard `*` (RFC 4592), nowhere else. Written here on its
 * own so the rules are not checked against themselves.
 */
export function invalidName(name: string, allowed = /^[a-z0-9-]+$/): string | undefined {
  if (Buffer.byteLength(name) !== name.length) return 'has non-ASCII characters';
  if (name.length === 0 || name.length > 253) return `is ${name.length} octets`;
  const labels = name.split('.');
  if (labels[0] === '*' && labels.length > 1) labels.shift();
  for (const label of labels) {
    if (label.length < 1 || label.length > 63) return `has a label of ${label.length} octets`;
    if (!allowed.test(label)) return `has label ${JSON.stringify(label)} with characters outside ${allowed}`;
    if (label.startsWith('-') || label.endsWith('-')) return `has label ${JSON.stringify(label)} with a hyphen at one end`;
  }
  return undefined;
}

/**
 * Encodes `name` as the owner of an A record with seamark's encoder, reads it
 * back as a question with seamark's parser and as a record with dns2 (an
 * independent decoder), and says the two names read.
 */
export function wireRoundTrip(name: string): { parsed: string; dns2: string } {
  const response = encodeResponse({
    query: Buffer.alloc(12),
    id: 7,
    opcode: 0,
    recursionDesired: false,
    questionEnd: 0,
    rcode: 0,
    authoritative: true,
    recursionAvailable: false,
    answers: [a(name, 60, '192.0.2.1')],
    maxSize: 65535,
    onBadRecord: (_record, error) => assert.fail(`${name} cannot be encoded: ${(error as Error).message}`),
  });
  // The owner name is the first thing after the header, uncompressed; type and class follow it, as in a question.
  let end = 12;
  while (response[end] !== 0) end += (response[end] ?? 0) + 1;
  const header = Buffer.from([0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  const parsed = parseQuery(Buffer.concat([header, response.subarray(12, end + 5)]));
  assert.equal(parsed.kind, 'query', `${name}: seamark's parser refused its own encoding`);
  const decoded = dns2.Packet.parse(response) as { answers: { name: string }[] };
  return { parsed: parsed.kind === 'query' ? parsed.query.name : '', dns2: decoded.answers[0]?.name ?? '' };
}
