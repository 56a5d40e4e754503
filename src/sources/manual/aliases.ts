// Write-time checks of hand-made aliases (CNAME records): a name with a CNAME holds no other data (RFC 1034
// §3.6.2), and no chain of aliases loops or runs longer than MAX_CNAME_CHAIN, so every alias a write adds can be
// answered whole. The zone view cuts a chain at answer time too (two writers racing, cluster nodes).
import { MAX_CNAME_CHAIN, type Instance } from '../../registry/instance.js';
import { isInZone } from '../../registry/names.js';
import type { Registry } from '../../registry/registry.js';
import { InputError } from '../../lib/input-error.js';

/**
 * Throws InputError when `next`, the instance a write would publish in place of the registry's instance of the
 * same owner, shares a name with another instance while either is an alias, or makes a chain of aliases that
 * loops or is longer than MAX_CNAME_CHAIN (the error names the chain).
 */
export function checkAliases(registry: Registry, zones: readonly string[], next: Instance): void {
  next.names.forEach((name, i) => {
    for (const other of registry.byName(name)) {
      if (other.owner === next.owner) continue;
      if (next.cname !== undefined) {
        throw new InputError(`names[${i}]`, `"${name}" is served by ${other.owner} already, and a CNAME owner holds no other data (RFC 1034 §3.6.2); choose another name`);
      }
      if (other.cname !== undefined) {
        throw new InputError(`names[${i}]`, `"${name}" is an alias of ${other.cname} (${other.owner}), and a CNAME owner holds no other data (RFC 1034 §3.6.2); choose another name`);
      }
    }
  });
  if (next.cname === undefined) return;

  const aliases = new Map<string, string>();
  for (const instance of registry.all()) {
    if (instance.cname !== undefined && instance.owner !== next.owner) for (const name of instance.names) aliases.set(name, instance.cname);
  }
  for (const name of next.names) aliases.set(name, next.cname);
  const own = new Set(next.names);
  const exists = (name: string) => own.has(name) || registry.exists(name);
  /** The alias answering `name`: its own, or a wildcard's when `name` does not exist (RFC 4592), as the zone view finds it. */
  const aliasAt = (name: string): string | undefined => {
    if (exists(name)) return aliases.get(name);
    const apex = zones.filter((zone) => isInZone(name, zone)).sort((a, b) => b.length - a.length)[0];
    if (apex === undefined) return undefined;
    for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) {
      const ancestor = name.slice(dot + 1);
      if (ancestor === apex || exists(ancestor)) return aliases.get(`*.${ancestor}`);
    }
    return undefined;
  };

  // This record's names first: a loop through it is named from there.
  for (const start of new Set([...next.names, ...aliases.keys()])) {
    const chain = [start];
    for (let target = aliasAt(start); target !== undefined; target = aliasAt(target)) {
      const looped = chain.includes(target);
      chain.push(target);
      if (!looped && chain.length - 1 <= MAX_CNAME_CHAIN) continue;
      // A chain that does not pass through this record is not this write's to refuse.
      if (!chain.some((name) => own.has(name))) break;
      if (looped) throw new InputError('cname', `makes a loop of aliases: ${chain.join(' → ')}`);
      throw new InputError('cname', `makes a chain of more than ${MAX_CNAME_CHAIN} aliases: ${chain.join(' → ')}; point it nearer the end of the chain`);
    }
  }
}
