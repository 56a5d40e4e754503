// Which networks and addresses of a container are published.
import { canonicalAddress } from '../../registry/names.js';
import type { ContainerFacts, ContainerNetwork } from './facts.js';

export interface AddressSettings {
  /** Global network allow-list; empty: every network. */
  networks: readonly string[];
  /** Published for host-network containers; empty: they are skipped. */
  hostAddresses: readonly string[];
}

/** The networks whose addresses and aliases count: the container's `seamark.network` label wins over the global list. */
export function selectNetworks(facts: ContainerFacts, labelNetworks: readonly string[] | undefined, settings: AddressSettings): ContainerNetwork[] {
  const allowed = labelNetworks ?? (settings.networks.length > 0 ? settings.networks : undefined);
  if (allowed === undefined) return facts.networks;
  return facts.networks.filter((network) => allowed.includes(network.name));
}

export interface AddressResult {
  addresses: string[];
  /** The network of each address (same order), when they are the container's own on its networks. */
  networks?: string[];
  /** Why there are none, for the log line. */
  reason?: string;
}

/** Every IPv4 and IPv6 address on the selected networks, canonical and de-duplicated. */
export function containerAddresses(
  facts: ContainerFacts,
  networks: readonly ContainerNetwork[],
  forced: readonly string[] | undefined,
  settings: AddressSettings,
): AddressResult {
  if (forced !== undefined) {
    const addresses = unique(forced.map((a) => canonicalAddress(a)));
    return addresses.length > 0 ? { addresses } : { addresses, reason: `com.dnsdock.ip_addr ${JSON.stringify(forced.join(','))} holds no IP address` };
  }
  if (facts.networkMode === 'host') {
    return settings.hostAddresses.length > 0
      ? { addresses: [...settings.hostAddresses] }
      : { addresses: [], reason: 'it uses the host network and no dockerHostAddresses are configured' };
  }
  const addresses: string[] = [];
  const networkOf: string[] = [];
  for (const network of networks) {
    for (const address of [network.ipv4, network.ipv6]) {
      const canonical = address === undefined ? undefined : canonicalAddress(address);
      if (canonical === undefined || addresses.includes(canonical)) continue;
      addresses.push(canonical);
      networkOf.push(network.name);
    }
  }
  if (addresses.length > 0) return { addresses, networks: networkOf };
  if (facts.networkMode.startsWith('container:')) {
    return { addresses, reason: `it shares the network of container ${facts.networkMode.slice('container:'.length).slice(0, 12)} (--network container:…), which is published under its own names` };
  }
  if (facts.networks.length === 0 || facts.networkMode === 'none') return { addresses, reason: 'it has no network' };
  if (networks.length === 0) return { addresses, reason: `none of its networks (${facts.networks.map((n) => n.name).join(', ')}) is selected` };
  return { addresses, reason: 'it has no IP address on its networks' };
}

function unique(addresses: (string | undefined)[]): string[] {
  return [...new Set(addresses.filter((a): a is string => a !== undefined))];
}
