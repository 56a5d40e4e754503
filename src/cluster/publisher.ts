// Writes this node's instances into etcd under one lease: a full diff on
// start, reconnect or lease loss (one transaction), then incremental puts and
// deletes as the local sources change.
import type { Logger } from 'pino';
import type { Instance } from '../registry/instance.js';
import type { Registry } from '../registry/registry.js';
import { remoteView, type ClusterAddresses } from './addresses.js';
import type { EtcdClient, WriteOp } from './client.js';
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
    /** Where the projected keys live, read back on a full sync. */
    prefix: string;
    /** Whether a key under the prefix is this node's. */
    owns(key: string): boolean;
  };
  log: Logger;
}

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

  /** Stops and revokes the lease, so this node's instances leave every other node at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unsubscribe?.();
    await this.busy;
    if (this.lease !== undefined) await this.options.client.revokeLease(this.lease).catch(() => undefined);
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
    keys.set(layout.node(node.name), JSON.stringify({ ...node, lease: this.lease ?? '' }));
    for (const [owner, view] of published) keys.set(layout.instance(node.name, owner), encodeInstance(view));
    for (const [key, value] of this.options.projection?.keys(published) ?? []) keys.set(key, value);
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
      this.options.link.down(error);
    });
  }

  private async flush(): Promise<void> {
    if (this.needsFullSync || this.stopped) return; // the next full sync writes everything
    const ops = diff(this.written, this.desired(), this.lease);
    if (ops.length === 0) return;
    await this.options.client.write(ops);
    this.options.link.up();
    this.remember(ops);
  }

  /** New lease if needed, read own keys, diff against the local truth, apply in one transaction. */
  private async fullSync(): Promise<void> {
    const { client, layout, node, ttl, log, link } = this.options;
    const previous = this.lease;
    // etcd is asked rather than the clock trusted: after a leader change etcd extends every lease, so a lease
    // unrenewed for longer than its TTL may still hold this node's keys, and keeping it changes nothing for the others.
    const alive = previous !== undefined && (await client.keepAlive(previous));
    if (!alive) {
      if (previous !== undefined) {
        link.leaseLosses.inc();
        const unrenewedSeconds = Math.round((Date.now() - this.lastKeepAlive) / 1000);
        log.warn({ lease: previous, unrenewedSeconds }, 'node lease expired in etcd: this node\'s instances left the other nodes; taking a new lease and publishing again');
      }
      this.lease = await client.grantLease(ttl);
    }
    this.lastKeepAlive = Date.now();
    const held = new Map<string, string>();
    for (const entry of (await client.list(layout.instancesOf(node.name))).entries) held.set(entry.key, entry.value);
    const projection = this.options.projection;
    if (projection !== undefined) {
      for (const entry of (await client.list(projection.prefix)).entries) if (projection.owns(entry.key)) held.set(entry.key, entry.value);
    }
    // A key still attached to the previous lease must be rewritten even when its value is the same.
    if (this.lease !== previous) held.clear();
    const ops = diff(held, this.desired(), this.lease);
    // The node key always: it carries the lease id that /v1/cluster reads.
    if (!ops.some((op) => 'put' in op && op.put === layout.node(node.name))) {
      ops.push({ put: layout.node(node.name), value: JSON.stringify({ ...node, lease: this.lease }), lease: this.lease });
    }
    await client.write(ops);
    link.up();
    this.written = held;
    this.remember(ops);
    this.needsFullSync = false;
    if (previous !== undefined && previous !== this.lease) await client.revokeLease(previous).catch(() => undefined);
    log.info({ lease: this.lease, writes: ops.length, instances: [...this.written.keys()].filter((k) => k.startsWith(layout.instancesOf(node.name))).length }, 'published this node\'s instances to etcd');
    if (!this.syncedOnce) {
      this.syncedOnce = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
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
      if (this.needsFullSync) await this.fullSync();
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
