// Forwarding that would come back to seamark: an upstream that is seamark's own listener, or systemd-resolved's
// stub (127.0.0.53) when resolved's global DNS= is seamark — then every name outside the zones would go round.
import { readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { formatEndpoint, parseEndpoint, type Endpoint } from './addresses.js';

/** Where the host's resolver settings are; a test points them elsewhere. */
export interface ResolverFiles {
  resolvConf: string;
  /** resolved.conf, then its drop-in directories, in systemd's order. */
  resolvedConf: string[];
  resolvedDropIns: string[];
}

export const HOST_RESOLVER_FILES: ResolverFiles = {
  resolvConf: '/etc/resolv.conf',
  resolvedConf: ['/etc/systemd/resolved.conf', '/run/systemd/resolved.conf', '/usr/local/lib/systemd/resolved.conf', '/usr/lib/systemd/resolved.conf'],
  resolvedDropIns: ['/usr/lib/systemd/resolved.conf.d', '/usr/local/lib/systemd/resolved.conf.d', '/run/systemd/resolved.conf.d', '/etc/systemd/resolved.conf.d'],
};

/** systemd-resolved's stub listeners. */
const RESOLVED_STUBS = new Set(['127.0.0.53', '127.0.0.54']);

/**
 * Why forwarding to `upstreams` (none configured: resolv.conf's) would loop back to a seamark listening on
 * `listen`, as a sentence naming the upstream and the fix; undefined when it would not.
 */
export function forwardingLoop(listen: readonly Endpoint[], upstreams: readonly Endpoint[], files: ResolverFiles = HOST_RESOLVER_FILES): string | undefined {
  const configured = upstreams.length > 0;
  const candidates = configured ? upstreams : nameservers(files.resolvConf);
  for (const upstream of candidates) {
    const own = listen.find((endpoint) => reaches(upstream, endpoint));
    if (own !== undefined && configured) {
      return `upstream ${formatEndpoint(upstream)} is seamark's own DNS listener ${formatEndpoint(own)}: it would forward to itself. Give the resolvers seamark should ask (--upstream)`;
    }
    if (!RESOLVED_STUBS.has(upstream.address) || upstream.port !== 53) continue;
    for (const { file, server } of resolvedGlobalServers(files)) {
      const looped = listen.find((endpoint) => reaches(server, endpoint));
      if (looped === undefined) continue;
      return (
        `upstream ${formatEndpoint(upstream)}${configured ? '' : ` (from ${files.resolvConf})`} is systemd-resolved, whose global DNS= in ${file} is seamark itself (${formatEndpoint(looped)}): ` +
        'resolved sends every name without a better route to its global servers, so names outside the zones would come back to seamark. ' +
        'Route only the zone to seamark on a link of its own (config/split-dns, README "Split DNS on the host") and remove the global DNS=, ' +
        'or give seamark the real resolvers with --upstream'
      );
    }
  }
  return undefined;
}

/** Whether a query sent to `server` arrives at a listener on `listener` (a wildcard listener takes every local address). */
function reaches(server: Endpoint, listener: Endpoint): boolean {
  if (server.port !== listener.port) return false;
  if (server.address === listener.address) return true;
  if (listener.address !== '0.0.0.0' && listener.address !== '::') return false;
  return server.address.startsWith('127.') || server.address === '::1' || localAddresses().has(server.address);
}

function localAddresses(): Set<string> {
  return new Set(Object.values(networkInterfaces()).flatMap((addresses) => (addresses ?? []).map((a) => a.address)));
}

function nameservers(resolvConf: string): Endpoint[] {
  return readLines(resolvConf).flatMap((line) => {
    const server = /^\s*nameserver\s+(\S+)/.exec(line)?.[1];
    return server === undefined ? [] : endpointOrNothing(server.replace(/%.*$/, ''));
  });
}

/** The DNS= servers of resolved's [Resolve] section: the first main file found, then its drop-ins (a later DNS= adds, an empty one clears). */
function resolvedGlobalServers(files: ResolverFiles): { file: string; server: Endpoint }[] {
  const main = files.resolvedConf.find((file) => readLines(file).length > 0);
  const dropIns = files.resolvedDropIns.flatMap((dir) => {
    try {
      return readdirSync(dir).filter((name) => name.endsWith('.conf')).map((name) => join(dir, name));
    } catch {
      return [];
    }
  });
  // Drop-ins apply in the lexical order of their names, whatever their directory.
  dropIns.sort((a, b) => (a.split('/').pop() ?? '').localeCompare(b.split('/').pop() ?? ''));
  let servers: { file: string; server: Endpoint }[] = [];
  for (const file of [...(main === undefined ? [] : [main]), ...dropIns]) {
    let section = '';
    for (const line of readLines(file)) {
      const header = /^\s*\[(.+)\]\s*$/.exec(line);
      if (header) section = header[1] ?? '';
      const value = section === 'Resolve' ? /^\s*DNS\s*=(.*)$/.exec(line)?.[1] : undefined;
      if (value === undefined) continue;
      if (value.trim() === '') servers = [];
      // address[:port][%interface][#server name]
      for (const item of value.trim().split(/\s+/).filter(Boolean)) servers.push(...endpointOrNothing(item.replace(/#.*$/, '').replace(/%[^\]:]*$/, '')).map((server) => ({ file, server })));
    }
  }
  return servers;
}

function endpointOrNothing(text: string): Endpoint[] {
  try {
    return [parseEndpoint(text, 53)];
  } catch {
    return [];
  }
}

function readLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n');
  } catch {
    return [];
  }
}
