// What every source produces and the registry holds: one container or one
// hand-made host, with the names and addresses it is served under.

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

/** The SRV list of every instance without SRV records: one shared empty list rather than one each. */
export const NO_SRV: readonly SrvPort[] = Object.freeze([]);
