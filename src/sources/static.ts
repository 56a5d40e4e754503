// Hosts listed in the configuration file: records that live in version control.
import type { StaticHost } from '../config/schema.js';
import { NO_SRV, type Instance } from '../registry/instance.js';
import { staticOwner } from '../registry/owners.js';

/** One instance per configured host, owner `config:<first name>`; names and addresses were normalised by the config loader. */
export function staticInstances(hosts: readonly StaticHost[]): Instance[] {
  return hosts.map((host) => ({
    owner: staticOwner(host.names[0] ?? ''),
    source: 'config',
    names: host.names,
    addresses: host.addresses,
    ttl: host.ttl,
    srv: host.srv.length === 0 ? NO_SRV : host.srv,
    healthy: true,
  }));
}

/** The configured hosts back from their instances, as the file gave them (after normalisation): for /v1/config. */
export function staticHosts(instances: readonly Instance[]): StaticHost[] {
  return instances.map(({ names, addresses, ttl, srv }) => ({ names, addresses, ...(ttl === undefined ? {} : { ttl }), srv: [...srv] }));
}
