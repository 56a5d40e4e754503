// Follows the whole cluster prefix: list at a revision, swap every remote
// instance into the registry at once, watch from the next revision. Any watch
// error, cancel or compaction: list again and swap. A node whose keys vanish
// without its leaving mark (its lease lapsed) keeps its instances served for a
// grace period, so its names do not go while it publishes them again.
import type { Logger } from 'pino';
import type { Instance } from '../registry/instance.js';
import type { Registry } from '../registry/registry.js';
import type { EtcdClient, EtcdReader, KeyValue, WatchEvent } from './client.js';
import { NODE_OWNER_PREFIX, nodeOfOwner, remoteOwner } from '../registry/owners.js';
import { decodeInstance, decodeNode, type KeyLayout, type NodeValue } from './keys.js';
import type { EtcdLink } from './link.js';

/** Where hand-made record keys go: the etcd record store. */
export interface RecordSink {
  /** Every record key, at the revision of a full read (the first one and every resync). */
  replaceAll(entries: KeyValue[], revision: number): void;
  /** One record key changed. */
  apply(event: WatchEvent): void;
}

export interface SubscriberOptions {
  client: EtcdClient;
  layout: KeyLayout;
  link: EtcdLink;
  registry: Registry;
  /** This node: its own instances are served from the local sources, never from etcd. */
  nodeName: string;
  /** This node's --node-ttl: the grace after a lapsed lease of a node whose key does not give its own. */
  nodeTtl: number;
  records?: RecordSink;
  /** This node's own keys: told of each change the watch shows, and of every full read (a watch gap may have hidden some). */
  ownKeys?: { changed(key: string, value: string | undefined): void; reread(): void };
  log: Logger;
}

const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 2000;

/**
 * How long a node's last instances stay served after its keys left etcd without its leaving mark (its lease lapsed,
 * or etcd revoked it): a third of its TTL, its keep-alive interval, by which it finds its lease gone if its watch did
 * not show it, and 2 s for it to take a new lease and publish again (a keep-alive attempt on a frozen member costs 1 s).
 */
export function lapseGraceMs(nodeTtlSeconds: number): number {
  return Math.round((nodeTtlSeconds * 1000) / 3) + 2000;
}

/** A node whose lease lapsed: the owners of its instances still served, until it publishes again or the grace ends. */
interface Lapse {
  owners: Set<string>;
  graceMs: number;
  timer: NodeJS.Timeout;
}

export class Subscriber {
  private readonly nodes = new Map<string, NodeValue>();
  private readonly lapsed = new Map<string, Lapse>();
  private watch: { cancel(): void } | undefined;
  /** The member this node reads and watches through; any failure moves on to the next `--etcd` endpoint. */
  private reader: EtcdReader | undefined;
  private memberIndex = 0;
  /** The revision the watch resumes from: the last applied event's mod_revision + 1. */
  private nextRevision = 0;
  private retryMs = RETRY_MIN_MS;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private syncedOnce = false;
  private readonly syncWaiters: (() => void)[] = [];
  private firstAttemptDone: boolean | undefined;
  /** Members whose read failed since the last read that went through: the next untried one is read at once. */
  private failedReads = 0;
  private readonly attemptWaiters: ((read: boolean) => void)[] = [];

  constructor(private readonly options: SubscriberOptions) {}

  start(): void {
    this.resyncOrRetry();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const lapse of this.lapsed.values()) clearTimeout(lapse.timer);
    this.watch?.cancel();
    this.reader?.close();
  }

  /** The etcd endpoint this node follows the cluster through. */
  get member(): string | undefined {
    return this.reader?.endpoint;
  }

  /** Resolves after the first full read of the cluster. */
  firstSync(): Promise<void> {
    return this.syncedOnce ? Promise.resolve() : new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /**
   * Resolves once the first read of the cluster went through (true), or failed on every member (false: etcd did not
   * answer; reads go on). A member that fails or stays silent (1 s) costs one attempt; the next is read at once.
   */
  firstAttempt(): Promise<boolean> {
    return this.firstAttemptDone !== undefined ? Promise.resolve(this.firstAttemptDone) : new Promise((resolve) => this.attemptWaiters.push(resolve));
  }

  private attempted(read: boolean): void {
    if (this.firstAttemptDone !== undefined) return;
    this.firstAttemptDone = read;
    for (const resolve of this.attemptWaiters.splice(0)) resolve(read);
  }

  get synced(): boolean {
    return this.syncedOnce;
  }

  get revision(): number {
    return this.nextRevision;
  }

  /** The nodes whose key is in etcd (alive: the key lives on the node's lease). */
  nodeList(): NodeValue[] {
    return [...this.nodes.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A resync that fails in any way (etcd, an unreadable picture, a sink that throws) is logged and tried again: the picture is never left behind for good. */
  private resyncOrRetry(): void {
    this.resync().catch((error: unknown) => {
      if (this.stopped) return;
      this.options.log.error({ err: error, retryMs: this.retryMs }, 'cluster resync failed: serving the last picture and reading the cluster again');
      this.retryLater();
    });
  }

  private async resync(): Promise<void> {
    if (this.stopped) return;
    const { client, layout, link, registry, log } = this.options;
    this.watch?.cancel();
    this.watch = undefined;
    this.reader ??= client.reader(client.endpoints[this.memberIndex % client.endpoints.length] as string);
    const reader = this.reader;
    let listed;
    try {
      listed = await reader.list(layout.prefix);
    } catch (error) {
      link.down(error);
      this.leaveMember();
      this.failedReads++;
      if (this.failedReads < client.endpoints.length) {
        // Another member may answer at once: a frozen first endpoint costs start-up one attempt, not a back-off too.
        this.options.log.info({ member: reader.endpoint, err: (error as Error).message }, 'etcd member did not answer the read of the cluster: reading through the next');
        this.timer = setTimeout(() => this.resyncOrRetry(), 0);
        this.timer.unref();
        return;
      }
      this.failedReads = 0;
      this.attempted(false);
      this.retryLater();
      return;
    }
    if (this.stopped) return;
    this.failedReads = 0;
    link.up();
    link.resyncs.inc();
    const instances: Instance[] = [];
    const records: KeyValue[] = [];
    const known = new Map(this.nodes);
    this.nodes.clear();
    for (const entry of listed.entries) {
      const parsed = layout.parse(entry.key);
      if (parsed?.kind === 'instance' && parsed.node !== this.options.nodeName) {
        const instance = decodeInstance(parsed.node, parsed.owner, entry.value);
        if (typeof instance === 'string') log.warn({ key: entry.key, problem: instance }, 'unreadable instance in etcd: skipped');
        else instances.push(instance);
      } else if (parsed?.kind === 'node') this.setNode(entry);
      else if (parsed?.kind === 'record') records.push(entry);
    }
    const lapsing = this.keptOverLapse(instances, known);
    registry.replaceByPrefix(NODE_OWNER_PREFIX, [...instances, ...lapsing]);
    for (const node of [...this.lapsed.keys()]) if (this.nodes.has(node)) this.endLapse(node);
    this.options.records?.replaceAll(records, listed.revision);
    this.options.ownKeys?.reread();
    this.nextRevision = listed.revision + 1;
    // Only a resync that went through to the end resets the back-off.
    this.retryMs = RETRY_MIN_MS;
    log.info({ revision: listed.revision, remoteInstances: instances.length, nodes: this.nodes.size, records: records.length }, 'cluster picture read from etcd');
    this.attempted(true);
    if (!this.syncedOnce) {
      this.syncedOnce = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
    this.watch = reader.watch(layout.prefix, this.nextRevision, {
      onEvents: (events) => {
        try {
          this.applyEvents(events);
        } catch (error) {
          // Some of the events may be applied and others not: only a fresh list gives a picture known to be whole.
          log.error({ err: error, nextRevision: this.nextRevision }, 'applying etcd watch events failed: reading the cluster again');
          this.watch?.cancel();
          this.watch = undefined;
          this.retryLater();
        }
      },
      onBroken: (reason) => {
        this.watch = undefined;
        if (/did not answer/.test(reason)) {
          // Other nodes' changes may be passing this node by: say so until a live member is followed again.
          link.down(new Error(reason));
        } else log.info({ reason, nextRevision: this.nextRevision }, 'etcd watch ended: reading the cluster again');
        this.leaveMember();
        this.retryLater();
      },
    });
  }

  /** Drops the connection to the member followed so far; the next read goes to the next endpoint. */
  private leaveMember(): void {
    this.reader?.close();
    this.reader = undefined;
    this.memberIndex++;
  }

  private retryLater(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.resyncOrRetry(), this.retryMs);
    this.timer.unref();
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
  }

  private applyEvents(events: WatchEvent[]): void {
    const { layout, registry, log, link } = this.options;
    // One transaction's events share a revision; a replayed response (older than where we are) is already applied.
    const from = this.nextRevision;
    // A lapsed or revoked lease deletes every key on it in one revision, so in one watch response: a node key deleted
    // without the leaving mark its node writes on a clean stop means the node's instances deleted with it are kept
    // for the grace. A node key written (the node published again, or is leaving) ends the grace after this response.
    const lapsing = new Map<string, NodeValue>();
    const written = new Set<string>();
    for (const event of events) {
      const parsed = event.modRevision < from ? undefined : layout.parse(event.key);
      if (parsed?.kind !== 'node' || parsed.node === this.options.nodeName) continue;
      const last = this.nodes.get(parsed.node);
      if (event.kind === 'put') written.add(parsed.node);
      else if (last !== undefined && last.leaving !== true) lapsing.set(parsed.node, last);
    }
    for (const event of events) {
      if (event.modRevision < from) continue;
      this.nextRevision = Math.max(this.nextRevision, event.modRevision + 1);
      link.watchEvents.inc();
      const parsed = layout.parse(event.key);
      if ((parsed?.kind === 'instance' || parsed?.kind === 'node') && parsed.node === this.options.nodeName) {
        this.options.ownKeys?.changed(event.key, event.kind === 'delete' ? undefined : event.value);
        if (parsed.kind === 'instance') continue;
      }
      if (parsed?.kind === 'instance') {
        const owner = remoteOwner(parsed.node, parsed.owner);
        const lapsingNode = lapsing.get(parsed.node);
        if (event.kind === 'delete' && lapsingNode !== undefined && registry.get(owner) !== undefined) {
          this.keepOverLapse(parsed.node, lapsingNode, owner);
          continue;
        }
        this.lapsed.get(parsed.node)?.owners.delete(owner);
        if (event.kind === 'delete') {
          registry.remove(owner);
          continue;
        }
        const instance = decodeInstance(parsed.node, parsed.owner, event.value);
        if (typeof instance === 'string') {
          log.warn({ key: event.key, problem: instance }, 'unreadable instance in etcd: skipped');
          registry.remove(owner);
        } else registry.upsert(instance);
      } else if (parsed?.kind === 'node') {
        if (event.kind === 'delete') this.nodes.delete(parsed.node);
        else this.setNode(event);
      } else if (parsed?.kind === 'record') this.options.records?.apply(event);
    }
    for (const node of lapsing.keys()) {
      const lapse = this.lapsed.get(node);
      if (lapse !== undefined) this.logLapse(node, lapse);
    }
    for (const node of written) this.endLapse(node);
  }

  /**
   * On a full read: the instances still served of nodes whose keys are gone from it without their leaving mark (the
   * lease lapsed during a gap in the watch), kept for the grace; the owners a lapsed node published again leave its lapse.
   */
  private keptOverLapse(listed: readonly Instance[], known: ReadonlyMap<string, NodeValue>): Instance[] {
    const listedOwners = new Set(listed.map((instance) => instance.owner));
    for (const lapse of this.lapsed.values()) for (const owner of listedOwners) lapse.owners.delete(owner);
    const kept: Instance[] = [];
    const started = new Set<string>();
    for (const instance of this.options.registry.all()) {
      const node = nodeOfOwner(instance.owner);
      if (node === undefined || this.nodes.has(node) || listedOwners.has(instance.owner)) continue;
      const last = known.get(node);
      const lapse = this.lapsed.get(node);
      if (!(lapse === undefined ? last !== undefined && last.leaving !== true : lapse.owners.has(instance.owner))) continue;
      if (lapse === undefined) started.add(node);
      this.keepOverLapse(node, last, instance.owner);
      kept.push(instance);
    }
    for (const node of started) this.logLapse(node, this.lapsed.get(node) as Lapse);
    return kept;
  }

  /** Keeps serving an instance of a node whose lease lapsed, until the node publishes again or the grace ends. */
  private keepOverLapse(node: string, last: NodeValue | undefined, owner: string): void {
    let lapse = this.lapsed.get(node);
    if (lapse === undefined) {
      const graceMs = lapseGraceMs(last?.ttl ?? this.options.nodeTtl);
      const timer = setTimeout(() => this.endLapse(node), graceMs);
      timer.unref();
      lapse = { owners: new Set(), graceMs, timer };
      this.lapsed.set(node, lapse);
    }
    lapse.owners.add(owner);
  }

  private logLapse(node: string, lapse: Lapse): void {
    this.options.log.warn(
      { node, instances: lapse.owners.size, graceMs: lapse.graceMs },
      `node ${node}'s keys left etcd without its leaving mark (its lease lapsed): serving its last instances for up to ${lapse.graceMs / 1000} s while it publishes again`,
    );
  }

  /** The node published again (its new instances are served already), is leaving, or its grace ran out: what it did not publish again goes. */
  private endLapse(node: string): void {
    const lapse = this.lapsed.get(node);
    if (lapse === undefined) return;
    clearTimeout(lapse.timer);
    this.lapsed.delete(node);
    for (const owner of lapse.owners) this.options.registry.remove(owner);
    const now = this.nodes.get(node);
    if (now?.leaving === true) this.options.log.info({ node, dropped: lapse.owners.size }, `node ${node} is leaving: its instances are no longer served`);
    else if (now !== undefined) this.options.log.info({ node, dropped: lapse.owners.size }, `node ${node} published again after its lease lapsed`);
    else this.options.log.warn({ node, dropped: lapse.owners.size }, `node ${node} did not publish again within ${lapse.graceMs / 1000} s of its lease lapsing: its instances are no longer served`);
  }

  private setNode(entry: KeyValue): void {
    const value = decodeNode(entry.value);
    if (typeof value === 'string') this.options.log.warn({ key: entry.key, problem: value }, 'unreadable node key in etcd: skipped');
    else this.nodes.set(value.name, value);
  }
}
