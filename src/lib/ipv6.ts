// IPv6 addresses between text and bytes, with nothing allocated on the way:
// the registry indexes every address at start-up and the DNS wire writer
// encodes every AAAA answer from text. Callers check net.isIPv6 first.

/** RFC 5952 text (lower case, longest run of zero groups as "::") of an address net.isIPv6 accepts. */
export function canonicalIPv6(address: string): string {
  readIPv6Groups(address, scratchGroups);
  return groupsToText(scratchGroups);
}

export function ipv6ToBytes(address: string): Buffer {
  readIPv6Groups(address, scratchGroups);
  const bytes = Buffer.allocUnsafe(16);
  for (let i = 0; i < 8; i++) bytes.writeUInt16BE(scratchGroups[i] as number, i * 2);
  return bytes;
}

/** RFC 5952 text: lower case, longest run of zero groups as "::". */
export function ipv6ToText(bytes: Uint8Array): string {
  for (let i = 0; i < 8; i++) scratchGroups[i] = ((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0);
  return groupsToText(scratchGroups);
}

const scratchGroups = new Uint16Array(8);

/**
 * The eight 16-bit groups of an IPv6 address that net.isIPv6 accepts (a
 * `%zone` ignored, an embedded IPv4 tail as two groups), in one pass with
 * nothing allocated: start-up indexes every address, and every AAAA answer
 * is encoded from text.
 */
function readIPv6Groups(address: string, groups: Uint16Array): void {
  const zone = address.indexOf('%');
  const end = zone < 0 ? address.length : zone;
  let count = 0;
  let gap = -1;
  let i = 0;
  while (i < end) {
    if (address.charCodeAt(i) === 0x3a) {
      if (address.charCodeAt(i + 1) === 0x3a) {
        gap = count;
        i += 2;
      } else i++;
      continue;
    }
    let value = 0;
    let j = i;
    for (; j < end; j++) {
      const c = address.charCodeAt(j);
      if (c === 0x3a || c === 0x2e) break;
      value = value * 16 + (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57);
    }
    if (j < end && address.charCodeAt(j) === 0x2e) {
      // The embedded IPv4 tail ends the address.
      const [a, b, c, d] = address.slice(i, end).split('.').map(Number) as [number, number, number, number];
      groups[count++] = (a << 8) | b;
      groups[count++] = (c << 8) | d;
      break;
    }
    groups[count++] = value;
    i = j;
  }
  if (gap < 0) return;
  // The groups after "::" move to the end; the ones they leave are zero.
  const after = count - gap;
  for (let k = 1; k <= after; k++) groups[8 - k] = groups[count - k] as number;
  for (let k = gap; k < 8 - after; k++) groups[k] = 0;
}

function groupsToText(groups: Uint16Array): string {
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      text += '::';
      i += bestLength - 1;
      continue;
    }
    if (text !== '' && !text.endsWith(':')) text += ':';
    text += (groups[i] as number).toString(16);
  }
  return text;
}
