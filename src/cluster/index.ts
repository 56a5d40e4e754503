// Cluster mode as app.ts starts it: one etcd client, this node's publisher,
// the subscriber that brings every other node's instances into the registry,
// and the etcd record store for hand-made records.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Registry as MetricsRegistry } from 'prom-client';
import type { Config } from '../config/schema.js';
import type { Registry } from '../registry/registry.js';
import { EtcdStore } from './etcd-store.js';
import type { StoredRecord } from '../store/store.js';
import { defaultRouteAddress } from './addresses.js';
import { connectEtcd, etcdOptions, type EtcdClient } from './client.js';
import { DOCKER_OWNER_PREFIX, nodeOfOwner } from '../registry/owners.js';
import { KeyLayout } from './keys.js';
import { EtcdLink } from './link.js';
import { Publisher } from './publisher.js';
import { SKYDNS_PREFIX, skydnsKeys } from './skydns.js';
import { Subscriber } from './subscriber.js';
import { CLOCK_SKEW_BOUND_MS, etcdClockOffset } from './clock.js';
import { systemClock, type LeaseClock } from '../sources/manual/leases.js';

/** How often this node's clock is compared with etcd's. */
const CLOCK_CHECK_EVERY_MS = 10 * 60 * 1000;

/** A type rather than an interface: /v1/cluster's response type lets objects carry other properties, which only a type alias fits. */
export type ClusterNodeInfo = {
  name: string;
  advertiseAddress: string;
  dns: string[];
  version: string;
  startedAt: string;
  /** When its lease was last renewed, as etcd tells (undefined while etcd cannot be asked). */
  lastSeen?: string;
  instances: number;
  self: boolean;
};

export interface ClusterStatus {
  node: string;
  connected: boolean;
  synced: boolean;
  revision: number;
  /** The etcd endpoint this node reads and watches through. */
  member?: string;
  downSince?: string;
  error?: string;
}

export class Cluster {
  readonly nodeName: string;
  readonly advertiseAddress: string;
  private readonly client: EtcdClient;
  private readonly layout: KeyLayout;
  private readonly link: EtcdLink;
  private readonly subscriber: Subscriber;
  private readonly publisher: Publisher;
  private store: EtcdStore<StoredRecord> | undefined;
  private clockTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    config: Config,
    private readonly registry: Registry,
    metrics: MetricsRegistry,
    version: string,
    private readonly log: Logger,
    /** The node's clock, compared with etcd's (a test gives a wrong one). */
    private readonly clock: Pick<LeaseClock, 'now'> = systemClock,
  ) {
    this.nodeName = config.nodeName || hostname();
    const advertise = config.advertiseAddress || defaultRouteAddress();
    if (advertise === undefined) throw new Error('no address to advertise to other nodes: set --advertise-address (SEAMARK_ADVERTISE_ADDRESS)');
    this.advertiseAddress = advertise;
    this.client = connectEtcd(etcdOptions(config));
    this.layout = new KeyLayout(config.etcdPrefix);
    this.link = new EtcdLink(log, metrics);
    this.subscriber = new Subscriber({
      client: this.client,
      layout: this.layout,
      link: this.link,
      registry,
      nodeName: this.nodeName,
      nodeTtl: config.nodeTtl,
      records: { replaceAll: (entries, revision) => this.store?.replaceAll(entries, revision), apply: (event) => this.store?.apply(event) },
      ownKeys: { changed: (key, value) => this.publisher.ownKeyChanged(key, value), reread: () => this.publisher.recheck() },
      log,
    });
    this.publisher = new Publisher({
      client: this.client,
      layout: this.layout,
      link: this.link,
      registry,
      node: { name: this.nodeName, advertiseAddress: advertise, dns: config.dns, version, startedAt: new Date().toISOString() },
      ttl: config.nodeTtl,
      localPrefixes: [DOCKER_OWNER_PREFIX],
      clusterAddresses: config.clusterAddresses,
      ...(config.etcdSkydns
        ? { projection: { prefix: SKYDNS_PREFIX, keys: (published) => skydnsKeys(this.nodeName, published, config.ttl) } }
        : {}),
      onNameTaken: (message) => {
        // Two processes publishing under one name would undo each other's keys: this one leaves, loudly.
        log.fatal(message);
        setImmediate(() => process.exit(1));
      },
      log,
    });
  }

  /** The record store of hand-made records, shared by every node. */
  recordStore<T extends StoredRecord>(): EtcdStore<T> {
    const store = new EtcdStore<T>(this.client, this.layout, () => this.subscriber.firstAttempt(), this.log);
    this.store = store as unknown as EtcdStore<StoredRecord>;
    return store;
  }

  /** Starts reading the cluster (the record store's load waits for it). */
  startSubscriber(): void {
    this.subscriber.start();
    void this.subscriber.firstSync().then(() => this.checkClock());
    this.log.info({ node: this.nodeName, advertiseAddress: this.advertiseAddress }, 'cluster mode: following etcd');
  }

  firstSync(): Promise<void> {
    return this.subscriber.firstSync();
  }

  /** Starts publishing this node's instances: after the local sources started. */
  startPublisher(): void {
    this.publisher.start();
  }

  status(): ClusterStatus {
    const member = this.subscriber.member;
    return { node: this.nodeName, ...this.link.status(), synced: this.subscriber.synced, revision: this.subscriber.revision, ...(member === undefined ? {} : { member }) };
  }

  /** Every node with a live key in etcd, with its instance count and when its lease was last renewed. */
  async nodes(): Promise<ClusterNodeInfo[]> {
    const counts = new Map<string, number>();
    for (const instance of this.registry.all()) {
      const node = nodeOfOwner(instance.owner);
      if (node !== undefined) counts.set(node, (counts.get(node) ?? 0) + 1);
    }
    let ownInstances = 0;
    for (const instance of this.registry.all()) if (instance.owner.startsWith(DOCKER_OWNER_PREFIX)) ownInstances++;
    const nodes = this.subscriber.nodeList();
    return Promise.all(
      nodes.map(async (node) => {
        const age = await this.client.leaseAge(node.lease).catch(() => undefined);
        const lastSeen = age === undefined ? undefined : new Date(Date.now() - age * 1000).toISOString();
        const self = node.name === this.nodeName;
        return {
          name: node.name,
          advertiseAddress: node.advertiseAddress,
          dns: node.dns,
          version: node.version,
          startedAt: node.startedAt,
          ...(lastSeen === undefined ? {} : { lastSeen }),
          instances: self ? ownInstances : (counts.get(node.name) ?? 0),
          self,
        };
      }),
    );
  }

  /** Compares this node's clock with etcd's now and every CLOCK_CHECK_EVERY_MS; a difference over the bound is logged as an error. */
  private async checkClock(): Promise<void> {
    if (this.stopped) return;
    const endpoint = this.subscriber.member ?? this.client.endpoints[0];
    try {
      const offset = endpoint === undefined ? undefined : await etcdClockOffset(endpoint, () => this.clock.now());
      if (offset !== undefined) {
        this.link.clockOffsetSeconds = Math.round(offset / 100) / 10;
        if (Math.abs(offset) > CLOCK_SKEW_BOUND_MS) {
          this.log.error(
            { etcd: endpoint, offsetSeconds: this.link.clockOffsetSeconds },
            `this node's clock is ${Math.round(Math.abs(offset) / 1000)} s ${offset > 0 ? 'behind' : 'ahead of'} etcd's: leases still expire by etcd, never by this clock, but the times this node writes (updatedAt, expiresAt, startedAt) are off by as much; fix its time (NTP)`,
          );
        }
      }
    } catch (error) {
      // A member over TLS with its own CA, or one that went away: the next check tries again.
      this.log.debug({ err: error, etcd: endpoint }, 'could not compare this node\'s clock with etcd\'s');
    }
    if (this.stopped) return;
    clearTimeout(this.clockTimer);
    this.clockTimer = setTimeout(() => void this.checkClock(), CLOCK_CHECK_EVERY_MS);
    this.clockTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.clockTimer);
    this.subscriber.stop();
    await this.publisher.stop();
    this.client.close();
  }
}
