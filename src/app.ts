// Wires the boxes of DESIGN.md together from one configuration and runs them.
import type { Logger } from 'pino';
import { startDnsWorkers, type Replicas } from './workers/primary.js';
import { parseEndpoint, type Endpoint } from './config/addresses.js';
import type { Config } from './config/schema.js';
import type { DnsServer } from './dns/server.js';
import { createDnsServer, reconfigureDnsServer, updateZoneSettings, workerCount, zoneSettings } from './dns/setup.js';
import { checkListenerSafety, packageVersion, readToken, startHttpApi } from './http/server.js';
import { configChanges, describeReload, DNS_RELOADABLE, RELOADABLE } from './config/reload.js';
import { createHash } from 'node:crypto';
import { createMetrics, type Metrics } from './ops/metrics.js';
import type { Instance } from './registry/instance.js';
import { STATIC_OWNER_PREFIX, staticOwner } from './registry/owners.js';
import { Registry } from './registry/registry.js';
import { Readiness } from './ops/readiness.js';
import { startDockerSource } from './sources/docker/index.js';
import { ManualSource, type ManualRecord } from './sources/manual/index.js';
import { staticHosts, staticInstances } from './sources/static.js';
import { DiskStore } from './store/disk.js';
import type { RecordStore } from './store/store.js';
import type { Cluster } from './cluster/index.js';
import { tightenHeapGrowth } from './workers/heap.js';
import { startSerial, type SerialReservation } from './zone/serial.js';
import { nsName } from './registry/names.js';

export interface Seamark {
  registry: Registry;
  /** The DNS server of this thread; undefined when DNS runs in a thread or processes of its own. */
  dns: DnsServer | undefined;
  readiness: Readiness;
  /**
   * Applies a configuration read again (SIGHUP) to the running parts, on the sockets they have: hosts, upstreams,
   * TTLs, log level, allow-lists, RRL, token (config/reload.ts). Throws, and changes nothing, when it cannot be
   * applied; logs what changed and what waits for a restart.
   */
  reload(next: Config, file: string | undefined): void;
  stop(): Promise<void>;
}

export async function startSeamark(configured: Config, log: Logger): Promise<Seamark> {
  const listen = configured.dns.map((text) => parseEndpoint(text));
  const registry = new Registry({
    onListenerError: (error, listener) => log.error({ err: error, listener }, `registry listener "${listener}" failed: the change stands, every other listener ran`),
  });
  const readiness = new Readiness();
  const metrics = createMetrics(registry);
  metrics.watchReadiness(readiness);
  let hosts = staticInstances(configured.hosts);
  let hostsDigest = digestOf(configured.hosts);
  registry.replaceByPrefix(STATIC_OWNER_PREFIX, [...hosts, ...nameServerInstances(configured.zones, listen)]);
  // The configured hosts live on as instances only (the file's objects would double their memory); /v1/config shows them from there.
  const config: Config = { ...configured, hosts: [] };
  // The store loads before anything listens, so DNS never serves a half-loaded store.
  readiness.expect('store');
  const token = { current: readToken(config) };
  // Cluster mode (loaded on demand): hand-made records live in etcd, other nodes' instances come from it.
  const cluster = config.etcd.length > 0 ? await startClusterMode(config, registry, metrics.registry, readiness, log) : undefined;
  const store: RecordStore<ManualRecord> = cluster?.recordStore<ManualRecord>() ?? new DiskStore<ManualRecord>(config.dataDir);
  // A full or read-only disk never stops start-up: the store serves what loads and says why it cannot write (/readyz stays 200: DNS serves).
  let serial: SerialReservation | undefined;
  const onStoreFault = (fault: string | undefined) => {
    readiness.setDegraded('store', fault);
    // The disk took a write again: so may the serial reservation.
    if (fault === undefined) serial?.retrySoon();
  };
  const manual = new ManualSource({ store, registry, zones: config.zones, log, onStoreFault });
  await manual.start();
  readiness.markReady('store');

  serial = startSerial(config.dataDir, registry, log, (fault) => readiness.setDegraded('soa-serial', fault));
  const zone = zoneSettings(config, serial);
  const workers = workerCount(config);
  // With several workers the DNS sockets live in them, and with one by default in a thread of its own: this
  // process's main thread keeps the sources and the API, whose load (event streams, floods) never delays DNS.
  const dnsInThisThread = workers === 1 && !config.dnsThread;
  const dns = dnsInThisThread ? createDnsServer(config, registry, zone, log, metrics) : undefined;
  let replicas: Replicas | undefined;
  if (dns !== undefined) {
    metrics.watchAnswerCache(dns);
    await dns.start();
  } else {
    replicas = await startDnsWorkers(config, workers, workers === 1 ? 'thread' : 'process', registry, serial, metrics, log);
  }
  // After the DNS listeners, so a bad listen address fails start-up before anything runs in the background.
  if (config.docker.trim().toLowerCase() !== 'off') readiness.expect('docker');
  const docker = startDockerSource(config, registry, log, () => readiness.markReady('docker'), (reason) => readiness.setDegraded('docker', reason));
  cluster?.startPublisher();
  const http =
    config.http.trim().toLowerCase() === 'off'
      ? undefined
      : await startHttpApi(
          { config, configuredHosts: () => staticHosts(hosts), token, manual, registry, zone, readiness, metrics, version: packageVersion(), log, afterWrite: replicas && (() => replicas.synced()), cluster },
          parseEndpoint(config.http),
        );
  log.info({ zones: config.zones, workers, hosts: hosts.length, dataDir: config.dataDir }, 'seamark started');
  tightenHeapGrowth();

  return {
    registry,
    dns,
    readiness,
    reload(next, file) {
      const nextToken = readToken(next);
      if (http !== undefined) checkListenerSafety(parseEndpoint(config.http), nextToken);
      const changes = configChanges(config, { ...next, hosts: [] });
      const nextDigest = digestOf(next.hosts);
      // Hosts are read against the file's zones: with new zones (served after a restart) they wait for it too.
      const hostsApply = nextDigest !== hostsDigest && !changes.needRestart.includes('zones');
      if (nextDigest !== hostsDigest) (hostsApply ? changes.applied : changes.needRestart).push('hosts');
      if (nextToken !== token.current && !changes.applied.includes('token')) changes.applied.push('token');
      changes.applied.sort();
      changes.needRestart.sort();
      if (hostsApply) {
        hosts = staticInstances(next.hosts);
        hostsDigest = nextDigest;
        registry.replaceByPrefix(STATIC_OWNER_PREFIX, [...hosts, ...nameServerInstances(config.zones, listen)]);
      }
      token.current = nextToken;
      // What needs a restart keeps its running value: the API's /v1/config shows what runs.
      const applied = Object.fromEntries([...RELOADABLE].filter((key) => key !== 'hosts').map((key) => [key, next[key]]));
      Object.assign(config, applied);
      log.level = config.logLevel;
      const dnsChanged = changes.applied.some((key) => DNS_RELOADABLE.has(key));
      if (dnsChanged) {
        if (dns !== undefined) reconfigureDnsServer(dns, config, registry, zone, log, metrics);
        else updateZoneSettings(zone, config);
      }
      replicas?.reconfigure(config, dnsChanged);
      log.info({ changed: changes.applied, needRestart: changes.needRestart }, describeReload(file, changes));
    },
    /** Stops every part, in this order, whatever another part did; rejects naming the parts that failed. */
    async stop() {
      const failed: string[] = [];
      const stopPart = async (part: string, stop: () => unknown) => {
        try {
          await stop();
        } catch (error) {
          failed.push(part);
          log.error({ err: error, part }, `stopping the ${part} failed; stopping the other parts`);
        }
      };
      await stopPart('HTTP API', () => http?.close());
      await stopPart('manual source', () => manual.stop());
      await stopPart('SOA serial', () => serial?.stop());
      await stopPart('Docker source', () => docker?.stop());
      await stopPart('cluster', () => cluster?.stop());
      await stopPart('DNS server', () => dns?.stop());
      await stopPart('DNS workers', () => replicas?.stop());
      if (failed.length > 0) throw new Error(`could not stop cleanly: ${failed.join(', ')} failed`);
    },
  };
}

async function startClusterMode(config: Config, registry: Registry, metrics: Metrics['registry'], readiness: Readiness, log: Logger): Promise<Cluster> {
  const { Cluster } = await import('./cluster/index.js');
  const cluster = new Cluster(config, registry, metrics, packageVersion(), log.child({ component: 'cluster' }));
  readiness.expect('cluster');
  readiness.describe('cluster', () => cluster.status());
  // firstSync only resolves (the subscriber retries until it reads the cluster); the catch keeps that a fact, not a hope.
  cluster.firstSync().then(
    () => readiness.markReady('cluster'),
    (error: unknown) => log.error({ err: error }, 'cluster: the first read of etcd failed; /readyz stays not ready for cluster'),
  );
  cluster.startSubscriber();
  return cluster;
}

/** A fingerprint of the configured hosts: a reload compares it rather than keeping the file's objects. */
function digestOf(hosts: Config['hosts']): string {
  return createHash('sha256').update(JSON.stringify(hosts)).digest('base64');
}

/** `ns.<zone>` answers with the DNS listen addresses that are not wildcards, so the apex NS has an address. */
function nameServerInstances(zones: readonly string[], listen: readonly Endpoint[]): Instance[] {
  const addresses = [...new Set(listen.map((e) => e.address).filter((a) => a !== '0.0.0.0' && a !== '::'))];
  if (addresses.length === 0) return [];
  return zones.map((zone) => ({
    owner: staticOwner(nsName(zone)),
    source: 'config',
    names: [nsName(zone)],
    addresses,
    srv: [],
    healthy: true,
  }));
}
