// The in-memory picture of everything seamark serves: instances keyed by
// owner, indexed by name and by address, with a generation bumped on every
// change. Every lookup is a map lookup; nothing scans all instances.
//
// Memory: an index maps a key to the owner string of the instance itself (the
// same string, not a copy) and only holds a Set when several instances
// share the key — most names and addresses have one instance, and a Set per
// key cost about 200 bytes more per name. Address keys are the instance's own
// address strings whenever those are already canonical.
import type { Instance, SrvPort } from './instance.js';
import { canonicalAddress, isWildcard } from './names.js';

export type ChangeListener = (generation: number) => void;

/** One change, as replicated to other processes. */
export type RegistryChange =
  | { kind: 'upsert'; instance: Instance }
  | { kind: 'remove'; owner: string }
  | { kind: 'replace'; ownerPrefix: string; instances: Instance[] };

/**
 * Called with a change, the generation it made, and the instances it replaced or removed (their old versions):
 * with the change itself, everything a cache of answers needs to know which names it touched.
 */
export type MutationListener = (change: RegistryChange, generation: number, previous: readonly Instance[]) => void;

/** Told when a listener throws: which one (its name) and what it threw. */
export type ListenerErrorHandler = (error: unknown, listener: string) => void;

export interface RegistryOptions {
  /** Where a throwing listener is reported; stderr when not given. */
  onListenerError?: ListenerErrorHandler;
}

export class Registry {
  private readonly instancesByOwner = new Map<string, Instance>();
  private readonly ownersByName = new Map<string, Owners>();
  private readonly ownersBySrvName = new Map<string, Owners>();
  private readonly ownersByAddress = new Map<string, Owners>();
  /** Every ancestor of a served name, with how many served names sit below it. */
  private readonly descendantCounts = new Map<string, number>();
  /** How many wildcard names (`*.<parent>`) are served: with none, a name that does not exist is NXDOMAIN without a walk up its ancestors. */
  private wildcardNames = 0;
  private readonly listeners = new Map<ChangeListener, string>();
  private readonly mutationListeners = new Map<MutationListener, string>();
  private readonly onListenerError: ListenerErrorHandler;
  private currentGeneration = 0;

  constructor(options: RegistryOptions = {}) {
    this.onListenerError = options.onListenerError ?? reportToStderr;
  }

  get generation(): number {
    return this.currentGeneration;
  }

  get size(): number {
    return this.instancesByOwner.size;
  }

  /** Adds or replaces the instance with this owner. */
  upsert(instance: Instance): void {
    const previous = this.instancesByOwner.get(instance.owner);
    this.removeFromIndexes(instance.owner);
    this.addToIndexes(instance);
    this.changed({ kind: 'upsert', instance }, previous === undefined ? NO_INSTANCES : [previous]);
  }

  /** Removes the instance with this owner; false when there was none. */
  remove(owner: string): boolean {
    const previous = this.instancesByOwner.get(owner);
    if (previous === undefined || !this.removeFromIndexes(owner)) return false;
    this.changed({ kind: 'remove', owner }, [previous]);
    return true;
  }

  /**
   * Replaces every instance whose owner starts with `ownerPrefix` by
   * `instances`, as one change: how a source publishes a full resync.
   */
  replaceByPrefix(ownerPrefix: string, instances: Instance[]): void {
    const previous: Instance[] = [];
    for (const [owner, instance] of [...this.instancesByOwner]) {
      if (owner.startsWith(ownerPrefix) && this.removeFromIndexes(owner)) previous.push(instance);
    }
    for (const instance of instances) {
      const replaced = this.instancesByOwner.get(instance.owner);
      if (replaced !== undefined && this.removeFromIndexes(instance.owner)) previous.push(replaced);
      this.addToIndexes(instance);
    }
    this.changed({ kind: 'replace', ownerPrefix, instances }, previous);
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

  /** Whether `name` exists (RFC 4592 §2.2.2): something is served at it or below it. */
  exists(name: string): boolean {
    return this.ownersByName.has(name) || this.ownersBySrvName.has(name) || this.descendantCounts.has(name);
  }

  /**
   * The wildcard that answers `name`, a name that does not exist (RFC 4592 §3.3.1): `*.<closest encloser>`, where
   * the closest encloser is the nearest ancestor that exists, no higher than `apex`; undefined when that ancestor
   * has no wildcard child. A name below an existing name is never answered by a wildcard further up.
   */
  wildcardFor(name: string, apex: string): string | undefined {
    if (this.wildcardNames === 0) return undefined;
    for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) {
      const ancestor = name.slice(dot + 1);
      if (ancestor === apex || this.exists(ancestor)) {
        const source = `*.${ancestor}`;
        return this.ownersByName.has(source) ? source : undefined;
      }
    }
    return undefined;
  }

  all(): IterableIterator<Instance> {
    return this.instancesByOwner.values();
  }

  /**
   * Called after every change with the new generation. Returns an unsubscribe function. `name` says
   * which listener it is when it throws: the change stands and every other listener still runs.
   */
  onChange(listener: ChangeListener, name = listener.name || 'a change listener'): () => void {
    this.listeners.set(listener, name);
    return () => this.listeners.delete(listener);
  }

  /** Called after every change with what changed: how a registry is replicated. Returns an unsubscribe function; `name` as for onChange. */
  onMutation(listener: MutationListener, name = listener.name || 'a mutation listener'): () => void {
    this.mutationListeners.set(listener, name);
    return () => this.mutationListeners.delete(listener);
  }

  private changed(change: RegistryChange, previous: readonly Instance[]): void {
    this.currentGeneration++;
    // The change is in the indexes already: a listener that throws is its own failure, never the source's
    // that made the change nor the other listeners'.
    for (const [listener, name] of this.mutationListeners) {
      try {
        listener(change, this.currentGeneration, previous);
      } catch (error) {
        this.onListenerError(error, name);
      }
    }
    for (const [listener, name] of this.listeners) {
      try {
        listener(this.currentGeneration);
      } catch (error) {
        this.onListenerError(error, name);
      }
    }
  }

  private resolve(owners: Owners | undefined): Instance[] {
    if (owners === undefined) return [];
    if (typeof owners === 'string') {
      const instance = this.instancesByOwner.get(owners);
      return instance === undefined ? [] : [instance];
    }
    const found: Instance[] = [];
    for (const owner of owners) {
      const instance = this.instancesByOwner.get(owner);
      if (instance !== undefined) found.push(instance);
    }
    return found;
  }

  private addToIndexes(instance: Instance): void {
    this.instancesByOwner.set(instance.owner, instance);
    for (const name of distinct(instance.names)) {
      if (isWildcard(name) && !this.ownersByName.has(name)) this.wildcardNames++;
      addToIndex(this.ownersByName, name, instance.owner);
      this.countAncestors(name, 1);
    }
    for (const name of srvNames(instance)) {
      addToIndex(this.ownersBySrvName, name, instance.owner);
      this.countAncestors(name, 1);
    }
    for (const address of addressKeys(instance)) addToIndex(this.ownersByAddress, address, instance.owner);
  }

  private removeFromIndexes(owner: string): boolean {
    const instance = this.instancesByOwner.get(owner);
    if (instance === undefined) return false;
    this.instancesByOwner.delete(owner);
    for (const name of distinct(instance.names)) {
      removeFromIndex(this.ownersByName, name, owner);
      if (isWildcard(name) && !this.ownersByName.has(name)) this.wildcardNames--;
      this.countAncestors(name, -1);
    }
    for (const name of srvNames(instance)) {
      removeFromIndex(this.ownersBySrvName, name, owner);
      this.countAncestors(name, -1);
    }
    for (const address of addressKeys(instance)) removeFromIndex(this.ownersByAddress, address, owner);
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

/**
 * The SRV owner names of an instance: `_<service>._<protocol>.<name>` for each of its names where that fits in a
 * DNS name. Wildcard names have none: `_http._tcp.*.app` is answered only when asked literally, never for a name
 * the wildcard stands for (RFC 4592 §2.2.1), and it would make `*.app` a non-terminal.
 */
export function srvNames(instance: Instance): ReadonlySet<string> {
  if (instance.srv.length === 0) return NO_NAMES;
  const names = new Set<string>();
  for (const srv of instance.srv) {
    for (const name of instance.names) {
      if (isWildcard(name)) continue;
      const owner = srvName(srv, name);
      if (owner !== undefined) names.add(owner);
    }
  }
  return names;
}

/** Longest name in text form (255 octets on the wire, RFC 1035 §2.3.4). */
export const MAX_NAME_LENGTH = 253;

/**
 * `_<service>._<protocol>.<host>`, normalised; undefined when longer than a
 * DNS name can be: no query can ask for it, so it is never served (the
 * sources say so where it is asked for, with `srvNameProblem`).
 */
export function srvName(srv: Pick<SrvPort, 'service' | 'protocol'>, host: string): string | undefined {
  const name = srvOwner(srv, host);
  return name.length > MAX_NAME_LENGTH ? undefined : name;
}

/** Why the SRV name of `srv` under `host` cannot be served, or undefined when it can. */
export function srvNameProblem(srv: Pick<SrvPort, 'service' | 'protocol'>, host: string): string | undefined {
  const name = srvOwner(srv, host);
  return name.length > MAX_NAME_LENGTH ? `${name} would be ${name.length} characters long (at most ${MAX_NAME_LENGTH})` : undefined;
}

function srvOwner(srv: Pick<SrvPort, 'service' | 'protocol'>, host: string): string {
  return `_${srv.service}._${srv.protocol}.${host}`.toLowerCase();
}

const NO_NAMES: ReadonlySet<string> = new Set();
const NO_INSTANCES: readonly Instance[] = [];

function reportToStderr(error: unknown, listener: string): void {
  process.stderr.write(`seamark: registry listener "${listener}" failed; the change stands and the other listeners ran: ${(error as Error)?.stack ?? String(error)}\n`);
}

/** The names, each once: the list itself when it has one name, which saves a Set per instance indexed. */
function distinct(names: readonly string[]): Iterable<string> {
  return names.length < 2 ? names : new Set(names);
}

/** The owner of a key, or the owners when several instances share it. */
type Owners = string | Set<string>;

/** The address index keys of an instance: canonical text, the instance's own string when it is canonical already. */
function addressKeys(instance: Instance): Set<string> {
  const keys = new Set<string>();
  for (const address of instance.addresses) {
    const canonical = canonicalAddress(address);
    keys.add(canonical === undefined || canonical === address ? address : canonical);
  }
  return keys;
}

function addToIndex(index: Map<string, Owners>, key: string, owner: string): void {
  const owners = index.get(key);
  if (owners === undefined) index.set(key, owner);
  else if (typeof owners === 'string') {
    if (owners !== owner) index.set(key, new Set([owners, owner]));
  } else owners.add(owner);
}

function removeFromIndex(index: Map<string, Owners>, key: string, owner: string): void {
  const owners = index.get(key);
  if (owners === undefined) return;
  if (typeof owners === 'string') {
    if (owners === owner) index.delete(key);
    return;
  }
  owners.delete(owner);
  if (owners.size === 1) index.set(key, owners.values().next().value as string);
}
