// Which addresses other hosts get for this node's instances: a bridge address
// means nothing beyond its own host, so by default they get the node's
// advertise address and the published host ports (registrator's way).
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { Instance } from '../registry/instance.js';

export type ClusterAddresses = 'published' | 'container';

/**
 * The instance as other nodes serve it, or undefined when they cannot reach
 * it (published mode without a published port: served on its own node only).
 */
export function remoteView(instance: Instance, mode: ClusterAddresses, advertiseAddress: string): Instance | undefined {
  const { publishedPorts, clusterAddresses, ...served } = instance;
  if ((clusterAddresses ?? mode) === 'container') return served;
  if (publishedPorts === undefined || publishedPorts.length === 0) return undefined;
  const srv = instance.srv.flatMap((entry) => {
    const published = publishedPorts.find((p) => p.port === entry.port && p.protocol === entry.protocol);
    return published === undefined ? [] : [{ ...entry, port: published.hostPort }];
  });
  return { ...served, addresses: [advertiseAddress], srv };
}

/** The IPv4 address of the interface that holds the default route; else the first non-loopback one. */
export function defaultRouteAddress(): string | undefined {
  const interfaces = networkInterfaces();
  const ipv4Of = (name: string) => interfaces[name]?.find((a) => a.family === 'IPv4' && !a.internal)?.address;
  try {
    // Columns: Iface Destination Gateway ...; the default route has destination 00000000.
    for (const line of readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)) {
      const [name, destination] = line.trim().split(/\s+/);
      if (destination === '00000000' && name !== undefined) {
        const address = ipv4Of(name);
        if (address !== undefined) return address;
      }
    }
  } catch {
    // Not Linux: fall through to the first usable interface.
  }
  for (const name of Object.keys(interfaces)) {
    const address = ipv4Of(name);
    if (address !== undefined) return address;
  }
  return undefined;
}
