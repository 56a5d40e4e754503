// IPv6 text: seamark's canonical form and bytes against the WHATWG URL parser's serialiser (RFC 5952
// form: lower case, no leading zeros, the longest run of two or more zero groups as "::", the first on a tie),
// for addresses written every way net.isIPv6 accepts.
import assert from 'node:assert/strict';
import { isIPv6 } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { ipv6ToBytes, ipv6ToText } from '../../src/lib/ipv6.js';
import { canonicalAddress } from '../../src/registry/names.js';

const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
/** Eight groups written with random case, leading zeros, a "::" anywhere it may go, and sometimes an IPv4 tail. */
const written = fc
  .record({
    groups: fc.array(group, { minLength: 8, maxLength: 8 }),
    upper: fc.boolean(),
    pad: fc.boolean(),
    gapAt: fc.integer({ min: -1, max: 7 }),
    gapLength: fc.integer({ min: 1, max: 8 }),
    ipv4Tail: fc.boolean(),
  })
  .map(({ groups, upper, pad, gapAt, gapLength, ipv4Tail }) => {
    const parts = groups.map((g) => {
      const hex = g.toString(16);
      const text = pad ? hex.padStart(4, '0') : hex;
      return upper ? text.toUpperCase() : text;
    });
    let tail: string[] = [];
    if (ipv4Tail) {
      const [hi, lo] = [groups[6] as number, groups[7] as number];
      tail = [`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`];
      parts.length = 6;
    }
    const all = [...parts, ...tail];
    const groupCount = ipv4Tail ? 6 : 8;
    if (gapAt >= 0 && gapAt < groupCount) {
      const length = Math.min(gapLength, groupCount - gapAt);
      if (groups.slice(gapAt, gapAt + length).every((g) => g === 0)) {
        const before = all.slice(0, gapAt).join(':');
        const after = all.slice(gapAt + length).join(':');
        return { groups, text: `${before}::${after}` };
      }
    }
    return { groups, text: all.join(':') };
  });

test('IPv6 addresses in any accepted writing become the same canonical text and bytes as the URL parser gives', () => {
  fc.assert(
    fc.property(written, ({ groups, text }) => {
      assert.ok(isIPv6(text), `${text} is an IPv6 address`);
      const expected = new URL(`http://[${text}]/`).hostname.slice(1, -1);
      assert.equal(canonicalAddress(text), expected, text);
      const bytes = ipv6ToBytes(text);
      assert.deepEqual([...bytes], groups.flatMap((g) => [g >> 8, g & 255]), text);
      assert.equal(ipv6ToText(bytes), expected, text);
      assert.equal(canonicalAddress(`${text}%eth0`), expected, 'a zone is left out');
    }),
    { numRuns: 5000, seed: 20261122 },
  );
});

test('IPv4 text is kept as it is, and what is not an address is refused', () => {
  assert.equal(canonicalAddress('10.0.0.1'), '10.0.0.1');
  assert.equal(canonicalAddress('::'), '::');
  assert.equal(canonicalAddress('1::'), '1::');
  assert.equal(canonicalAddress('::ffff:10.1.2.3'), '::ffff:a01:203');
  for (const bad of ['010.0.0.1', '1.2.3', 'fd00::g', '1:2:3:4:5:6:7:8:9', 'host', '']) assert.equal(canonicalAddress(bad), undefined, bad);
});
