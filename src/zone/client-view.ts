// Answers that fit the asker: which of a container's addresses a client is given. A container seamark knows
// (by the query's source address) gets a target's addresses on the networks the two share; any other client
// (the host, other machines, cluster nodes) gets every address, or those on the first preferred network the
// target is on. Hand-made hosts and other nodes' instances have no networks: everyone gets all their addresses.
import type { Instance } from '../registry/instance.js';
import type { Registry } from '../registry/registry.js';

export interface NetworkSettings {
  /** What a container gets for a container it shares no network with: its other addresses, or none (NODATA). */
  unshared: 'addresses' | 'nodata';
  /** For clients that are not containers: a container's addresses on the first of these networks it is on. */
  preferred: readonly string[];
}

/** The networks a client container is on, or undefined for every other client. */
export type ClientView = ReadonlySet<string> | undefined;

/** The view of the client at `address`: the networks of the containers with that address, if any. */
export function clientView(registry: Registry, address: string): ClientView {
  let networks: Set<string> | undefined;
  for (const instance of registry.byAddress(address)) {
    if (instance.addressNetworks === undefined) continue;
    networks ??= new Set();
    for (const network of instance.addressNetworks) networks.add(network);
  }
  return networks;
}

/** The addresses of `instance` that a client with `view` is given. */
export function visibleAddresses(instance: Instance, view: ClientView, settings: NetworkSettings): readonly string[] {
  const networks = instance.addressNetworks;
  if (networks === undefined) return instance.addresses;
  if (view === undefined) {
    for (const preferred of settings.preferred) {
      const onIt = instance.addresses.filter((_, i) => networks[i] === preferred);
      if (onIt.length > 0) return onIt;
    }
    return instance.addresses;
  }
  const shared = instance.addresses.filter((_, i) => view.has(networks[i] as string));
  if (shared.length > 0 || settings.unshared === 'nodata') return shared;
  return instance.addresses;
}

/** A short stable text for a view, the same for every client on the same networks: how answers are cached per view. */
export function viewKey(view: ClientView): string {
  return view === undefined ? '' : [...view].sort().join('\n');
}
