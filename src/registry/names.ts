// DNS name helpers shared by every box: normal form, validation, reverse names.
import { isIPv4, isIPv6 } from 'node:net';
import { canonicalIPv6, ipv6ToBytes, ipv6ToText } from '../lib/ipv6.js';

/** Lower case, no trailing dot: the form every index is keyed by. */
export function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** Why `name` is not a valid DNS host name, or undefined when it is. */
export function nameProblem(name: string): string | undefined {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare.length === 0) return 'is empty';
  if (bare.length > 253) return `is ${bare.length} characters long (at most 253)`;
  for (const label of bare.split('.')) {
    if (label.length === 0) return 'has an empty label';
    if (label.length > 63) return `has a label of ${label.length} characters ("${label.slice(0, 20)}…", at most 63)`;
    if (!/^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$/i.test(label)) {
      return `has label "${label}" with characters outside a-z, 0-9, "-" and "_", or starting or ending with "-"`;
    }
  }
  return undefined;
}

/** The leftmost label of a wildcard name (RFC 4592 §2.1.1): `*.app.docker` answers names below `app.docker` that do not exist. */
export const WILDCARD_LABEL = '*';

/** Whether `name` (normalised) is a wildcard owner, `*.<parent>`. */
export function isWildcard(name: string): boolean {
  return name.charCodeAt(0) === 0x2a && name.charCodeAt(1) === 0x2e;
}

/**
 * Why `name` is not a valid name for a container or a hand-made record, or undefined when it is: a host name,
 * or a wildcard `*.<host name>` (the `*` a whole leftmost label; anywhere else it is refused).
 */
export function servedNameProblem(name: string): string | undefined {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare === WILDCARD_LABEL) return undefined;
  if (bare.length > 253) return `is ${bare.length} characters long (at most 253)`;
  const rest = bare.startsWith('*.') ? bare.slice(2) : bare;
  if (rest.includes('*')) return 'has a "*" that is not the whole leftmost label (a wildcard is written "*.app")';
  return nameProblem(rest);
}

/**
 * Whether `name` is `zone` or below it (both normalised), label by label: a
 * query name is escaped text, and in `web\.docker` (one label holding a dot)
 * the dot before `docker` is not a label boundary.
 */
export function isInZone(name: string, zone: string): boolean {
  if (name === zone) return true;
  if (!name.endsWith(zone) || name.charCodeAt(name.length - zone.length - 1) !== 0x2e) return false;
  let backslashes = 0;
  for (let i = name.length - zone.length - 2; i >= 0 && name.charCodeAt(i) === 0x5c; i--) backslashes++;
  return backslashes % 2 === 0;
}

/** The zone's own name server, `ns.<zone>`: the apex NS record names it and the zone answers its address. */
export function nsName(zone: string): string {
  return `ns.${zone}`;
}

/** Why no container or hand-made record may take the qualified `name`, `ns.<zone>` of a served zone; undefined when it may. */
export function reservedNameProblem(name: string, zones: readonly string[]): string | undefined {
  return zones.some((zone) => nsName(zone) === name) ? "reserved for the zone's name server (the apex NS record)" : undefined;
}

/** Canonical text of an address (lower case, compressed IPv6), or undefined if it is not one. */
export function canonicalAddress(address: string): string | undefined {
  // net.isIPv4 takes no leading zeros: what it accepts is already canonical.
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return undefined;
  return canonicalIPv6(address);
}

/** The in-addr.arpa / ip6.arpa name of an address (normalised form). */
export function reverseName(address: string): string {
  if (isIPv4(address)) return address.split('.').reverse().join('.') + '.in-addr.arpa';
  const nibbles: string[] = [];
  for (const byte of ipv6ToBytes(address)) nibbles.push((byte >> 4).toString(16), (byte & 15).toString(16));
  return nibbles.reverse().join('.') + '.ip6.arpa';
}

/** The address a reverse name stands for, or undefined when it names a network, not one host. */
export function addressFromReverseName(name: string): string | undefined {
  if (name.endsWith('.in-addr.arpa')) {
    const parts = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
    return parts.reverse().join('.');
  }
  if (name.endsWith('.ip6.arpa')) {
    const nibbles = name.slice(0, -'.ip6.arpa'.length).split('.');
    if (nibbles.length !== 32 || !nibbles.every((n) => /^[0-9a-f]$/.test(n))) return undefined;
    const hex = nibbles.reverse().join('');
    return ipv6ToText(Buffer.from(hex, 'hex'));
  }
  return undefined;
}

/**
 * The fully qualified form of a configured or submitted name: a name that
 * ends in a served zone (with or without the trailing dot) is taken as is,
 * any other is relative to the first zone.
 */
export function qualifyName(name: string, zones: readonly string[]): string {
  const normal = normalizeName(name);
  if (zones.some((zone) => isInZone(normal, zone))) return normal;
  if (name.endsWith('.')) return normal; // absolute, outside every zone: left for the caller to reject
  return `${normal}.${zones[0] ?? ''}`;
}
