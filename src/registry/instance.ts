// What every source produces and the registry holds: one container or one
// hand-made host, with the names and addresses it is served under.
import { isWildcard } from './names.js';

export type Source = 'config' | 'manual' | 'docker';

export interface SrvPort {
  /** Service label without the underscore: a port name or the port number. */
  service: string;
  /** `tcp` or `udp` (any RFC 2782 protocol label), without the underscore. */
  protocol: string;
  port: number;
  priority: number;
  weight: number;
}

export interface Instance {
  /** Unique key of the instance, naming its source: see owners.ts. */
  owner: string;
  source: Source;
  /** Fully qualified, lower case, without the trailing dot. The first is the canonical host name. */
  names: string[];
  /** IPv4 and IPv6 addresses in their canonical text form. */
  addresses: string[];
  /**
   * The Docker network of each address (same order), for a container's own addresses: which clients share a
   * network with it (zone/client-view.ts). Absent for hand-made hosts and other nodes' instances.
   */
  addressNetworks?: string[];
  /** Answer TTL in seconds; the server default when absent. */
  ttl?: number;
  srv: readonly SrvPort[];
  /** Unhealthy instances leave the answers (unless every instance of a name is unhealthy). */
  healthy: boolean;
  /** Where it comes from, for people reading the API and the operator page; answers never use it. */
  origin?: InstanceOrigin;
  /** Host ports this container's ports are published on (`docker run -p`): what other hosts reach in cluster mode. */
  publishedPorts?: PublishedPort[];
  /** The container's own choice (label `seamark.cluster-addresses`) of what other nodes answer for it. */
  clusterAddresses?: 'published' | 'container';
  /** Hand-made: the name this instance's names are an alias of (a CNAME, RFC 1034 §3.6.2); it then has no addresses, SRV or TXT. */
  cname?: string;
  /** Hand-made: TXT strings, one TXT record each (split into 255-octet character-strings on the wire). */
  txt?: string[];
}

export interface PublishedPort {
  port: number;
  protocol: string;
  hostPort: number;
}

export interface InstanceOrigin {
  /** Docker: the container's name. */
  container?: string;
  /** Docker: the networks its addresses are taken from. */
  networks?: string[];
  /** Cluster mode: the node that publishes it. */
  node?: string;
}

/** Longest chain of aliases (CNAMEs) one answer follows and a hand-made record may make. */
export const MAX_CNAME_CHAIN = 8;

/** Longest TXT string, UTF-8 octets: what one TXT record carries in 255-octet character-strings (the wire encoder's limit). */
export const MAX_TXT_OCTETS = 4096;

/**
 * The name PTR and SRV records point at: the first of the instance's names that is not a wildcard
 * (`*.app` is an owner that answers other names, never a host name); undefined when it has none.
 */
export function canonicalName(instance: Pick<Instance, 'names'>): string | undefined {
  for (const name of instance.names) if (!isWildcard(name)) return name;
  return undefined;
}

/** The SRV list of every instance without SRV records: one shared empty list rather than one each. */
export const NO_SRV: readonly SrvPort[] = Object.freeze([]);

const SOURCES: Readonly<Record<Source, Source>> = { config: 'config', manual: 'manual', docker: 'docker' };

/**
 * The same instance in the least memory, for a copy received from another thread or process: a structured clone
 * gives every array room for 16 elements and every object its own property store, and repeats each string
 * (`docker` 100,000 times). Arrays are cut to their length, an empty SRV list is the shared one, the source is
 * the one string; optional fields stay absent when they were.
 */
export function compactInstance(instance: Instance): Instance {
  const compact: Instance = {
    owner: instance.owner,
    source: SOURCES[instance.source] ?? instance.source,
    names: instance.names.slice(),
    addresses: instance.addresses.slice(),
    srv: instance.srv.length === 0 ? NO_SRV : instance.srv.map((srv) => ({ service: srv.service, protocol: srv.protocol, port: srv.port, priority: srv.priority, weight: srv.weight })),
    healthy: instance.healthy,
  };
  if (instance.addressNetworks !== undefined) compact.addressNetworks = instance.addressNetworks.slice();
  if (instance.ttl !== undefined) compact.ttl = instance.ttl;
  if (instance.origin !== undefined) compact.origin = instance.origin;
  if (instance.publishedPorts !== undefined) compact.publishedPorts = instance.publishedPorts.slice();
  if (instance.clusterAddresses !== undefined) compact.clusterAddresses = instance.clusterAddresses;
  if (instance.cname !== undefined) compact.cname = instance.cname;
  if (instance.txt !== undefined) compact.txt = instance.txt.slice();
  return compact;
}
