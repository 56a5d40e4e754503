// Which question names a registry change may answer differently: what the
// answer cache drops on a change, so that everything else survives it.
import { canonicalName, type Instance } from '../registry/instance.js';
import { srvNames, type Registry, type RegistryChange } from '../registry/registry.js';
import { canonicalAddress, isWildcard, reverseName } from '../registry/names.js';

/**
 * The names whose answers `change` may have changed, given the instances it replaced or removed (`previous`) and
 * the registry after it: for the old and the new version of every changed instance,
 * - its names and SRV owner names (their A, AAAA, SRV and ANY answers, NODATA and NXDOMAIN alike),
 * - every ancestor of those (an empty non-terminal appears or goes; the zone apex, whose NS answer carries the
 *   addresses of `ns.<zone>`),
 * - the SRV owners whose target is one of its names (the target's addresses are in their additional section),
 * - the reverse names of its addresses (PTR answers, and names seamark starts or stops being authoritative for,
 *   which were forwarded before).
 * A wildcard name stands for names nobody can list (NXDOMAIN answers below its parent become answers): a change
 * of an instance with one touches every name, `EVERY_NAME`. Answers a wildcard gives two or more labels below its
 * parent, and answers that follow a CNAME chain, are never cached (`ZoneResponse.dependsOnOtherNames`). Nothing
 * else in the zone view depends on an instance.
 */
export function touchedNames(change: RegistryChange, previous: readonly Instance[], registry: Registry): Set<string> {
  const names = new Set<string>();
  for (const instance of previous) addInstance(names, instance, registry);
  if (change.kind === 'upsert') addInstance(names, change.instance, registry);
  else if (change.kind === 'replace') for (const instance of change.instances) addInstance(names, instance, registry);
  return names;
}

/** In a set of touched names: every answer is touched. */
export const EVERY_NAME = '*';

function addInstance(names: Set<string>, instance: Instance, registry: Registry): void {
  for (const name of instance.names) {
    if (isWildcard(name)) names.add(EVERY_NAME);
    addWithAncestors(names, name);
    // SRV owners listing `name` as their target: the instances whose canonical name it is.
    for (const holder of registry.byName(name)) if (canonicalName(holder) === name) for (const owner of srvNames(holder)) names.add(owner);
  }
  for (const owner of srvNames(instance)) addWithAncestors(names, owner);
  for (const address of instance.addresses) if (canonicalAddress(address) !== undefined) names.add(reverseName(address));
}

function addWithAncestors(names: Set<string>, name: string): void {
  names.add(name);
  for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) names.add(name.slice(dot + 1));
}
