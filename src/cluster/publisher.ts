// Writes this node's instances into etcd under one lease: a full diff on
// start, reconnect or lease loss (one transaction), then incremental puts and
// deletes as the local sources change.
import type { Logger } from 'pino';
import type { Instance } from '../registry/instance.js';
import type { Registry } from '../registry/registry.js';
import { remoteView, type ClusterAddresses } from './addresses.js';
import { WriteConflictError, type EtcdClient, type WriteGuard, type WriteOp } from './client.js';
import { encodeInstance, type KeyLayout, type NodeValue } from './keys.js';
import type { EtcdLink } from './link.js';

export interface PublisherOptions {
  client: EtcdClient;
  layout: KeyLayout;
  link: EtcdLink;
  registry: Registry;
  node: Omit<NodeValue, 'lease'>;
  ttl: number;
  /** Owner prefixes of the instances this node publishes (its Docker containers). */
  localPrefixes: readonly string[];
  clusterAddresses: ClusterAddresses;
  /** Extra keys derived from the published instances (the SkyDNS projection), written under the same lease. */
  projection?: {
    keys(published: ReadonlyMap<string, Instance>): Map<string, string>;
    /** Where the projected keys live, read back on a full sync (this node's are those on its lease). */
    prefix: string;
  };
  /** Another live seamark holds this node's name: this one publishes nothing and must stop. */
  onNameTaken(message: string): void;
  log: Logger;
}

/** How often this node's keys are read back and repaired even when nothing said they changed. */
export const RECHECK_EVERY_MS = 30000;

export class Publisher {
  private lease: string | undefined;
  private lastKeepAlive = 0;
  /** What etcd holds under this node's keys, as last written or read. */
  private written = new Map<string, string>();
  private needsFullSync = true;
  private busy: Promise<void> = Promise.resolve();
  private flushQueued = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private unsubscribe: (() => void) | undefined;
  private syncedOnce = false;
  private readonly syncWaiters: (() => void)[] = [];
  private lastFullSync = 0;
  /** Since when another live seamark has held this node's name (its node key on a lease not ours). */
  private nameTakenSince: number | undefined;

  constructor(private readonly options: PublisherOptions) {}

  start(): void {
    this.unsubscribe = this.options.registry.onMutation((change) => {
      const owners = change.kind === 'replace' ? [change.ownerPrefix] : [change.kind === 'upsert' ? change.instance.owner : change.owner];
      if (owners.some((owner) => this.isLocal(owner) || this.options.localPrefixes.some((p) => p.startsWith(owner)))) this.scheduleFlush();
    }, 'cluster publisher');
    this.tick();
  }

  /** Resolves once this node's instances were written at least once. */
  firstSync(): Promise<void> {
    return this.syncedOnce ? Promise.resolve() : new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get leaseId(): string | undefined {
    return this.lease;
  }

  /**
   * Reads this node's keys back and rewrites whatever differs from what it should publish: after a gap in the
   * watch, or when one of its keys changed in etcd by another hand (deleted, overwritten).
   */
  recheck(): void {
    if (this.stopped || this.needsFullSync) return;
    this.needsFullSync = true;
    this.serially(() => this.fullSync());
  }

  /** A key of this node changed in etcd (from the watch): a change this node did not make is repaired. */
  ownKeyChanged(key: string, value: string | undefined): void {
    if (this.written.get(key) !== value) this.recheck();
  }

  /**
   * Stops, marks the node key as leaving, then revokes the lease: other nodes see the mark and drop this node's
   * instances at once (keys that vanish without it are a lapsed lease, whose instances they keep for a grace period).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unsubscribe?.();
    await this.busy;
    const lease = this.lease;
    if (lease === undefined) return;
    const { client, layout, node, ttl, link } = this.options;
    // While etcd is unreachable the mark would only delay the stop: the others then drop this node after the grace.
    if (link.connected) {
      const value = JSON.stringify({ ...node, ttl, lease, leaving: true });
      await client.write([{ put: layout.node(node.name), value, lease }], this.guard()).catch(() => undefined);
    }
    await client.revokeLease(lease).catch(() => undefined);
  }

  /** Every key this node should hold, with its value. */
  private desired(): Map<string, string> {
    const { layout, node, registry, clusterAddresses } = this.options;
    const published = new Map<string, Instance>();
    for (const instance of registry.all()) {
      if (!this.isLocal(instance.owner)) continue;
      const view = remoteView(instance, clusterAddresses, node.advertiseAddress);
      if (view !== undefined) published.set(instance.owner, view);
    }
    const keys = new Map<string, string>();
    for (const [owner, view] of published) keys.set(layout.instance(node.name, owner), encodeInstance(view));
    for (const [key, value] of this.options.projection?.keys(published) ?? []) keys.set(key, value);
    // Last: a node publishing again after its lease lapsed is back for the others once its node key is, so it
    // follows its instances (in the last transaction of a write of several, whose guard holds it absent until then).
    keys.set(layout.node(node.name), JSON.stringify({ ...node, ttl: this.options.ttl, lease: this.lease ?? '' }));
    return keys;
  }

  private isLocal(owner: string): boolean {
    return this.options.localPrefixes.some((prefix) => owner.startsWith(prefix));
  }

  /** Coalesces a burst of local changes into one transaction. */
  private scheduleFlush(): void {
    if (this.flushQueued || this.stopped) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      this.serially(() => this.flush());
    });
  }

  private serially(work: () => Promise<void>): void {
    this.busy = this.busy.then(work).catch((error: unknown) => {
      this.needsFullSync = true;
      // A guarded write that found the node key changed is no outage: the next full sync (within a second) sees why.
      if (!(error instanceof WriteConflictError)) this.options.link.down(error);
    });
  }

  /** Every write holds to this node's key being on this node's lease: a node that lost its name writes nothing. */
  private guard(): WriteGuard {
    return { key: this.options.layout.node(this.options.node.name), lease: this.lease ?? '0' };
  }

  private async flush(): Promise<void> {
    if (this.needsFullSync || this.stopped) return; // the next full sync writes everything
    const ops = diff(this.written, this.desired(), this.lease);
    if (ops.length === 0) return;
    await this.options.client.write(ops, this.guard());
    this.options.link.up();
    this.remember(ops);
  }

  /**
   * New lease if needed, read own keys (those on this node's lease), diff against the local truth, apply in one
   * transaction that holds to the node key being this node's, or absent.
   */
  private async fullSync(): Promise<void> {
    const { client, layout, node, ttl, log, link } = this.options;
    if (this.stopped) return;
    const previous = this.lease;
    // etcd is asked rather than the clock trusted: after a leader change etcd extends every lease, so a lease
    // unrenewed for longer than its TTL may still hold this node's keys, and keeping it changes nothing for the others.
    const alive = previous !== undefined && (await client.keepAlive(previous));
    if (!alive) {
      if (previous !== undefined) {
        link.leaseLosses.inc();
        const unrenewedSeconds = Math.round((Date.now() - this.lastKeepAlive) / 1000);
        log.warn({ lease: previous, unrenewedSeconds }, 'node lease expired in etcd: taking a new lease and publishing again (other nodes keep serving this node\'s instances meanwhile, for a grace period)');
      }
      this.lease = await client.grantLease(ttl);
    }
    this.lastKeepAlive = Date.now();
    const lease = this.lease as string;
    const nodeKey = layout.node(node.name);
    const held = new Map<string, string>();
    const holder = (await client.list(nodeKey)).entries.find((entry) => entry.key === nodeKey);
    if (holder !== undefined && holder.lease !== lease) {
      this.needsFullSync = true;
      this.nameIsTaken(holder.value);
      return;
    }
    this.nameTakenSince = undefined;
    if (holder !== undefined) held.set(nodeKey, holder.value);
    // Only keys on this node's lease are its own: another process's keys (a duplicate name, an earlier run) are never touched.
    const prefixes = [layout.instancesOf(node.name), ...(this.options.projection === undefined ? [] : [this.options.projection.prefix])];
    for (const prefix of prefixes) {
      for (const entry of (await client.list(prefix)).entries) if (entry.lease === lease) held.set(entry.key, entry.value);
    }
    const ops = diff(held, this.desired(), lease);
    const repaired = this.syncedOnce && previous === lease ? ops.length : 0;
    if (ops.length > 0) {
      try {
        await client.write(ops, holder === undefined ? { key: nodeKey, modRevision: 0 } : { key: nodeKey, lease });
      } catch (error) {
        // Another process took the name between the read and the write: the next full sync sees who.
        if (!(error instanceof WriteConflictError)) throw error;
        this.needsFullSync = true;
        log.warn({ node: node.name }, 'this node\'s name was taken in etcd while publishing: nothing written; checking again');
        return;
      }
    }
    link.up();
    this.written = held;
    this.remember(ops);
    this.needsFullSync = false;
    this.lastFullSync = Date.now();
    if (previous !== undefined && previous !== lease) await client.revokeLease(previous).catch(() => undefined);
    const instances = [...this.written.keys()].filter((k) => k.startsWith(layout.instancesOf(node.name))).length;
    if (repaired > 0) log.warn({ writes: repaired, instances }, 'this node\'s keys in etcd differed from what it publishes (deleted or overwritten by another hand): rewritten');
    else if (!this.syncedOnce || previous !== lease) log.info({ lease, writes: ops.length, instances }, 'published this node\'s instances to etcd');
    if (!this.syncedOnce) {
      this.syncedOnce = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
  }

  /**
   * Another live process holds this node's key. A restart after a crash finds its own earlier key until that lease
   * lapses (one TTL); a name still held after twice the TTL belongs to another seamark: this one stops, loudly.
   */
  private nameIsTaken(holderValue: string): void {
    const { node, ttl, log } = this.options;
    const now = Date.now();
    let holder: unknown = holderValue;
    try {
      holder = JSON.parse(holderValue);
    } catch {
      // shown as it is
    }
    if (this.nameTakenSince === undefined) {
      this.nameTakenSince = now;
      log.warn({ node: node.name, holder }, `node name ${node.name} is held in etcd by another live process: publishing nothing until its lease lapses (up to ${ttl} s)`);
    } else if (now - this.nameTakenSince > (2 * ttl + 1) * 1000) {
      this.stopped = true;
      this.options.onNameTaken(
        `node name ${node.name} is held in etcd by another live seamark (${JSON.stringify(holder)}): two nodes must not share a name; give this one its own --node-name (SEAMARK_NODE_NAME). Nothing of the other node's was changed.`,
      );
    }
  }

  private remember(ops: WriteOp[]): void {
    for (const op of ops) {
      if ('put' in op) this.written.set(op.put, op.value);
      else this.written.delete(op.remove);
    }
  }

  /** Keeps the lease alive every third of its TTL; after a failure, retries every second with a full sync. */
  private tick(): void {
    if (this.stopped) return;
    this.serially(async () => {
      if (this.needsFullSync || Date.now() - this.lastFullSync >= RECHECK_EVERY_MS) await this.fullSync();
      else if (this.lease !== undefined) {
        if (await this.options.client.keepAlive(this.lease)) {
          this.lastKeepAlive = Date.now();
          this.options.link.leaseRenewals.inc();
          this.options.link.up();
        } else {
          this.needsFullSync = true;
          await this.fullSync();
        }
      }
    });
    void this.busy.then(() => {
      if (this.stopped) return;
      const wait = this.needsFullSync ? 1000 : Math.max(500, (this.options.ttl * 1000) / 3);
      this.timer = setTimeout(() => this.tick(), wait);
      this.timer.unref();
    });
  }
}

/** The writes that turn `held` into `desired`; puts carry the lease. */
function diff(held: ReadonlyMap<string, string>, desired: ReadonlyMap<string, string>, lease: string | undefined): WriteOp[] {
  const ops: WriteOp[] = [];
  for (const [key, value] of desired) {
    if (held.get(key) !== value) ops.push({ put: key, value, ...(lease === undefined ? {} : { lease }) });
  }
  for (const key of held.keys()) {
    if (!desired.has(key)) ops.push({ remove: key });
  }
  return ops;
}
