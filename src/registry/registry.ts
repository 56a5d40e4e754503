// The in-memory picture of everything seamark serves: instances keyed by
// owner, indexed by name and by address, with a generation bumped on every
// change. Every lookup is a map lookup; nothing scans all instances.
import type { Instance, SrvPort } from './instance.js';
import { canonicalAddress } from './names.js';

export type ChangeListener = (generation: number) => void;

/** One change, as replicated to other processes. */
export type RegistryChange =
  | { kind: 'upsert'; instance: Instance }
  | { kind: 'remove'; owner: string }
  | { kind: 'replace'; ownerPrefix: string; instances: Instance[] };

export type MutationListener = (change: RegistryChange, generation: number) => void;

export class Registry {
  private readonly instancesByOwner = new Map<string, Instance>();
  private readonly ownersByName = new Map<string, Set<string>>();
  private readonly ownersBySrvName = new Map<string, Set<string>>();
  private readonly ownersByAddress = new Map<string, Set<string>>();
  /** Every ancestor of a served name, with how many served names sit below it. */
  private readonly descendantCounts = new Map<string, number>();
  private readonly listeners = new Set<ChangeListener>();
  private readonly mutationListeners = new Set<MutationListener>();
  private currentGeneration = 0;

  get generation(): number {
    return this.currentGeneration;
  }

  get size(): number {
    return this.instancesByOwner.size;
  }

  /** Adds or replaces the instance with this owner. */
  upsert(instance: Instance): void {
    this.removeFromIndexes(instance.owner);
    this.addToIndexes(instance);
    this.changed({ kind: 'upsert', instance });
  }

  /** Removes the instance with this owner; false when there was none. */
  remove(owner: string): boolean {
    if (!this.removeFromIndexes(owner)) return false;
    this.changed({ kind: 'remove', owner });
    return true;
  }

  /**
   * Replaces every instance whose owner starts with `ownerPrefix` by
   * `instances`, as one change: how a source publishes a full resync.
   */
  replaceByPrefix(ownerPrefix: string, instances: Instance[]): void {
    for (const owner of [...this.instancesByOwner.keys()]) {
      if (owner.startsWith(ownerPrefix)) this.removeFromIndexes(owner);
    }
    for (const instance of instances) {
      this.removeFromIndexes(instance.owner);
      this.addToIndexes(instance);
    }
    this.changed({ kind: 'replace', ownerPrefix, instances });
  }

  /** Applies a change made in another process's registry, taking over its generation. */
  apply(change: RegistryChange, generation: number): void {
    if (change.kind === 'upsert') this.upsert(change.instance);
    else if (change.kind === 'remove') this.remove(change.owner);
    else this.replaceByPrefix(change.ownerPrefix, change.instances);
    this.currentGeneration = generation;
  }

  get(owner: string): Instance | undefined {
    return this.instancesByOwner.get(owner);
  }

  /** Instances serving this host name (normalised form). */
  byName(name: string): Instance[] {
    return this.resolve(this.ownersByName.get(name));
  }

  /** Instances with an SRV entry under this name (`_svc._proto.host`). */
  bySrvName(name: string): Instance[] {
    return this.resolve(this.ownersBySrvName.get(name));
  }

  /** Instances holding this address (any text form). */
  byAddress(address: string): Instance[] {
    const canonical = canonicalAddress(address);
    return canonical === undefined ? [] : this.resolve(this.ownersByAddress.get(canonical));
  }

  /** Whether some served name lies below `name`: an empty non-terminal if nothing is at `name` itself. */
  hasDescendants(name: string): boolean {
    return this.descendantCounts.has(name);
  }

  all(): IterableIterator<Instance> {
    return this.instancesByOwner.values();
  }

  /** Called after every change with the new generation. Returns an unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called after every change with what changed: how a registry is replicated. Returns an unsubscribe function. */
  onMutation(listener: MutationListener): () => void {
    this.mutationListeners.add(listener);
    return () => this.mutationListeners.delete(listener);
  }

  private changed(change: RegistryChange): void {
    this.currentGeneration++;
    for (const listener of this.mutationListeners) listener(change, this.currentGeneration);
    for (const listener of this.listeners) listener(this.currentGeneration);
  }

  private resolve(owners: Set<string> | undefined): Instance[] {
    if (owners === undefined) return [];
    const found: Instance[] = [];
    for (const owner of owners) {
      const instance = this.instancesByOwner.get(owner);
      if (instance !== undefined) found.push(instance);
    }
    return found;
  }

  private addToIndexes(instance: Instance): void {
    this.instancesByOwner.set(instance.owner, instance);
    for (const name of new Set(instance.names)) {
      addToIndex(this.ownersByName, name, instance.owner);
      this.countAncestors(name, 1);
    }
    for (const name of srvNames(instance)) {
      addToIndex(this.ownersBySrvName, name, instance.owner);
      this.countAncestors(name, 1);
    }
    for (const address of new Set(instance.addresses.map((a) => canonicalAddress(a) ?? a))) {
      addToIndex(this.ownersByAddress, address, instance.owner);
    }
  }

  private removeFromIndexes(owner: string): boolean {
    const instance = this.instancesByOwner.get(owner);
    if (instance === undefined) return false;
    this.instancesByOwner.delete(owner);
    for (const name of new Set(instance.names)) {
      removeFromIndex(this.ownersByName, name, owner);
      this.countAncestors(name, -1);
    }
    for (const name of srvNames(instance)) {
      removeFromIndex(this.ownersBySrvName, name, owner);
      this.countAncestors(name, -1);
    }
    for (const address of new Set(instance.addresses.map((a) => canonicalAddress(a) ?? a))) {
      removeFromIndex(this.ownersByAddress, address, owner);
    }
    return true;
  }

  private countAncestors(name: string, delta: 1 | -1): void {
    for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) {
      const ancestor = name.slice(dot + 1);
      const count = (this.descendantCounts.get(ancestor) ?? 0) + delta;
      if (count > 0) this.descendantCounts.set(ancestor, count);
      else this.descendantCounts.delete(ancestor);
    }
  }
}

/** The SRV owner names of an instance: `_<service>._<protocol>.<name>` for each of its names. */
export function srvNames(instance: Instance): Set<string> {
  const names = new Set<string>();
  for (const srv of instance.srv) {
    for (const name of instance.names) names.add(srvName(srv, name));
  }
  return names;
}

/** `_<service>._<protocol>.<host>`, normalised. */
export function srvName(srv: Pick<SrvPort, 'service' | 'protocol'>, host: string): string {
  return `_${srv.service}._${srv.protocol}.${host}`.toLowerCase();
}

function addToIndex(index: Map<string, Set<string>>, key: string, owner: string): void {
  let owners = index.get(key);
  if (owners === undefined) {
    owners = new Set();
    index.set(key, owners);
  }
  owners.add(owner);
}

function removeFromIndex(index: Map<string, Set<string>>, key: string, owner: string): void {
  const owners = index.get(key);
  if (owners === undefined) return;
  owners.delete(owner);
  if (owners.size === 0) index.delete(key);
}
