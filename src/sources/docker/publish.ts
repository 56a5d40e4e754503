// One container → one registry instance (or the reason it is not published).
import type { Instance, SrvPort } from '../../registry/instance.js';
import { dockerOwner } from '../../registry/owners.js';
import { srvNameProblem } from '../../registry/registry.js';
import { containerAddresses, selectNetworks, type AddressSettings } from './addresses.js';
import type { ContainerFacts } from './facts.js';
import { readWishes, type ContainerWishes } from './labels.js';
import { containerNames, sanitizeLabel } from './naming.js';

export interface PublishSettings extends AddressSettings {
  zones: readonly string[];
  /** Every container unless it opts out; false: only `seamark.enable=true`. */
  publishAll: boolean;
  /** DNSDock's names for every container (`<container>.<image>`, `<image>`), not only those with DNSDock settings. */
  dnsdockNames?: boolean;
  /** Whether HEALTHCHECK `starting` counts as healthy. */
  startingHealthy: boolean;
  /** Most ports one container gets SRV records for (named ports first, then the lowest). */
  maxPorts: number;
  /** Most names one container is served under (the first ones, its own name first). */
  maxNames: number;
}

export type Publication =
  | { instance: Instance; problems: string[] }
  | { skipped: string; problems: string[] };

/** Applies every rule of the README's Docker section to one container. */
export function publishContainer(facts: ContainerFacts, settings: PublishSettings): Publication {
  if (!facts.running) return { skipped: 'it is not running', problems: [] };
  const wishes = readWishes(facts, settings.dnsdockNames === true);
  const problems = [...wishes.problems];
  if (wishes.ignoredBecause !== undefined) return { skipped: `ignored by ${wishes.ignoredBecause}`, problems };
  if (!settings.publishAll && !wishes.enabled) return { skipped: 'publishAll is off and it has no label seamark.enable=true', problems };

  const networks = selectNetworks(facts, wishes.networks, settings);
  const { addresses, networks: addressNetworks, reason } = containerAddresses(facts, networks, wishes.addresses, settings);
  if (addresses.length === 0) return { skipped: `no address: ${reason ?? 'none found'}`, problems };

  const naming = containerNames(facts, wishes, networks, settings.zones);
  problems.push(...naming.problems);
  if (naming.names.length === 0) return { skipped: 'no usable name', problems };
  if (naming.names.length > settings.maxNames) {
    problems.push(`it has ${naming.names.length} names; only the first ${settings.maxNames} are served (dockerMaxNames)`);
    naming.names.length = settings.maxNames;
  }
  const { srv, ports } = containerSrv(facts, wishes, settings.maxPorts);
  if (ports > settings.maxPorts) {
    problems.push(`it has ${ports} ports; SRV records are served for ${srv.length} of them, named ones first, then the lowest (dockerMaxPorts)`);
  }
  for (const entry of srv) {
    for (const name of naming.names) {
      const problem = srvNameProblem(entry, name);
      if (problem !== undefined) problems.push(`SRV ${problem}; not served under that name`);
    }
  }

  return {
    instance: {
      owner: dockerOwner(facts.id),
      source: 'docker',
      names: naming.names,
      addresses,
      ...(addressNetworks === undefined ? {} : { addressNetworks }),
      ttl: wishes.ttl,
      srv,
      healthy: isHealthy(facts, settings.startingHealthy),
      ...clusterHints(facts),
      origin: { container: facts.name, networks: networks.map((network) => network.name) },
    },
    problems,
  };
}

/**
 * SRV entries: each exposed or published port, under its name when a label
 * names it (`seamark.srv.<name>`, registrator `SERVICE_<port>_NAME`), else
 * under its number; plus named ports the image does not expose. Named ports
 * come first, then the others by number, at most `maxPorts` of them;
 * `ports` counts them all.
 */
export function containerSrv(facts: ContainerFacts, wishes: ContainerWishes, maxPorts: number): { srv: SrvPort[]; ports: number } {
  const keys = new Set([...wishes.portNames.keys(), ...facts.ports.map((p) => `${p.port}/${p.protocol}`)]);
  const srv: SrvPort[] = [];
  let ports = 0;
  for (const key of keys) {
    if (wishes.ignoredPorts.has(key)) continue;
    // Past the cap only counted: a container exposing 1-65535 costs no more than one exposing 100 ports.
    if (++ports > maxPorts) continue;
    const [portText = '', protocol = 'tcp'] = key.split('/');
    // 62: the "_" in front of each makes the 63 octets a label may have.
    const service = sanitizeLabel(wishes.portNames.get(key) ?? portText, 62);
    const protocolLabel = sanitizeLabel(protocol, 62);
    if (service === undefined || protocolLabel === undefined) continue;
    srv.push({ service, protocol: protocolLabel, port: Number(portText), priority: 0, weight: 0 });
  }
  return { srv, ports };
}

/** Unhealthy and paused containers leave the answers; `starting` as configured. */
export function isHealthy(facts: ContainerFacts, startingHealthy: boolean): boolean {
  if (facts.paused) return false;
  if (facts.health === 'unhealthy') return false;
  if (facts.health === 'starting') return startingHealthy;
  return true;
}

/** What cluster mode needs to serve the container on other hosts: its published ports and its label's choice. */
function clusterHints(facts: ContainerFacts): Pick<Instance, 'publishedPorts' | 'clusterAddresses'> {
  const publishedPorts = facts.ports.flatMap((p) => (p.hostPort === undefined ? [] : [{ port: p.port, protocol: p.protocol, hostPort: p.hostPort }]));
  const label = facts.labels['seamark.cluster-addresses']?.trim().toLowerCase();
  return {
    ...(publishedPorts.length === 0 ? {} : { publishedPorts }),
    ...(label === 'published' || label === 'container' ? { clusterAddresses: label } : {}),
  };
}
