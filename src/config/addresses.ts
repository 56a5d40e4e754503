// Parsing of `address:port` endpoints and CIDR allow-lists from the configuration.
import { BlockList, isIP } from 'node:net';

export interface Endpoint {
  address: string;
  port: number;
  family: 4 | 6;
}

/** `127.0.0.1:8053`, `[::1]:8053`; the port may be left out when `defaultPort` is given. */
export function parseEndpoint(text: string, defaultPort?: number): Endpoint {
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2];
  } else if (isIP(text) === 6) {
    host = text;
  } else {
    const colon = text.lastIndexOf(':');
    host = colon < 0 ? text : text.slice(0, colon);
    portText = colon < 0 ? undefined : text.slice(colon + 1);
  }
  const family = isIP(host);
  if (family === 0) {
    throw new Error(`"${host}" is not an IPv4 or IPv6 address (write IPv6 in brackets: [::1]:8053)`);
  }
  if (portText === undefined && defaultPort === undefined) {
    throw new Error('has no port (expected address:port, e.g. 127.0.0.1:8053 or [::1]:8053)');
  }
  const port = portText === undefined ? (defaultPort as number) : Number(portText);
  if (!/^\d{1,5}$/.test(portText ?? String(port)) || port > 65535) {
    throw new Error(`port "${portText}" is not a number from 0 to 65535`);
  }
  return { address: host, port, family: family as 4 | 6 };
}

export function formatEndpoint(endpoint: Pick<Endpoint, 'address' | 'port'>): string {
  return isIP(endpoint.address) === 6 ? `[${endpoint.address}]:${endpoint.port}` : `${endpoint.address}:${endpoint.port}`;
}

/** A matcher for a list of CIDRs (`10.0.0.0/8`, `fd00::/8`, or a bare address). Throws on the first bad entry. */
export function parseAllowList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address = '', prefixText, extra] = cidr.split('/');
    const family = isIP(address);
    if (family === 0 || extra !== undefined) throw new Error(`"${cidr}" is not a CIDR such as 10.0.0.0/8 or fd00::/8`);
    const maxPrefix = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? maxPrefix : Number(prefixText);
    if (!/^\d{1,3}$/.test(prefixText ?? String(prefix)) || prefix > maxPrefix) {
      throw new Error(`"${cidr}" has a prefix length outside 0-${maxPrefix}`);
    }
    list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

/** Whether a client address (possibly IPv4-mapped IPv6) is in the list. */
export function isAllowed(list: BlockList, address: string): boolean {
  if (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4) return list.check(address.slice(7), 'ipv4');
  return list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}
