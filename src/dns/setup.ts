// Reading the configuration into a DNS server: what one process, or one DNS worker, runs.
import { readFileSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import type { Log } from '../ops/log.js';
import { formatEndpoint, parseAllowList, parseEndpoint } from '../config/addresses.js';
import type { Config } from '../config/schema.js';
import type { DnsMetrics } from '../ops/dns-counts.js';
import type { Registry } from '../registry/registry.js';
import { lookup, zoneOf, type ZoneSettings } from '../zone/view.js';
import { RRType } from '../zone/records.js';
import type { SerialLimits } from '../zone/serial.js';
import { Forwarder, upstreamsFromResolvConf, type CachedAnswer } from './forwarder.js';
import { ResponseRateLimiter } from './rrl.js';
import { createQueryLog } from './query-log.js';
import { DnsServer, type DnsServerOptions } from './server.js';

const MB = 1024 * 1024;

/** `serial` is read on every SOA answer: its ceiling may rise while seamark runs (zone/serial.ts). */
export function zoneSettings(config: Config, serial: SerialLimits): ZoneSettings {
  return {
    zones: config.zones,
    ttl: config.ttl,
    negativeTtl: config.negativeTtl,
    failOpen: config.failOpen,
    networks: { unshared: config.unsharedNetworks, preferred: config.preferredNetworks },
    serialBase: serial.base,
    get serialCeiling() {
      return serial.ceiling;
    },
  };
}

export function workerCount(config: Config): number {
  return config.workers === 'auto' ? availableParallelism() : config.workers;
}

/** The DNS server and its forwarder; `reusePort`: see DnsServerOptions. */
export function createDnsServer(config: Config, registry: Registry, zone: ZoneSettings, log: Log, metrics: DnsMetrics, reusePort = false): DnsServer {
  // Forwarded answers are held by the forwarder's cache alone: what it lets go of, the answer cache drops too.
  let server: DnsServer | undefined;
  server = new DnsServer({
    listen: config.dns.map((text) => parseEndpoint(text)),
    registry,
    zone,
    ...reloadableParts(config, registry, zone, log, metrics, (answer) => server?.dropForwarded(answer)),
    udpPayloadMax: config.udpPayloadMax,
    tcpIdleTimeoutMs: config.tcpIdleTimeout * 1000,
    answerCacheSize: config.answerCacheSize,
    answerCacheBytes: config.answerCacheMemory * MB,
    chaos: chaosAnswers(config),
    log,
    reusePort,
    onAnswer: metrics.onAnswer,
  });
  return server;
}

/**
 * A reloaded configuration's DNS settings (config/reload.ts DNS_RELOADABLE) applied to a running server: TTLs and
 * fail-open in `zone` itself (which the server and the HTTP API's lookup read), a new forwarder, allow-lists and
 * rate limiter for the queries that come next. No socket is closed.
 */
export function reconfigureDnsServer(server: DnsServer, config: Config, registry: Registry, zone: ZoneSettings, log: Log, metrics: DnsMetrics): void {
  updateZoneSettings(zone, config);
  server.reconfigure(reloadableParts(config, registry, zone, log, metrics, (answer) => server.dropForwarded(answer)));
}

/** The zone settings a reload may change, written into the object every reader holds. */
export function updateZoneSettings(zone: ZoneSettings, config: Config): void {
  zone.ttl = config.ttl;
  zone.negativeTtl = config.negativeTtl;
  zone.failOpen = config.failOpen;
}

/** The parts of the DNS server a reload replaces. */
function reloadableParts(
  config: Config,
  registry: Registry,
  zone: ZoneSettings,
  log: Log,
  metrics: DnsMetrics,
  onDropped: (answer: CachedAnswer) => void,
): Pick<DnsServerOptions, 'forwarder' | 'forwardAllow' | 'axfrAllow' | 'rateLimiter' | 'queryLog'> {
  const listen = config.dns.map((text) => parseEndpoint(text));
  const upstreams = config.upstreams.length > 0 ? config.upstreams.map((text) => parseEndpoint(text, 53)) : upstreamsFromResolvConf(listen);
  if (upstreams.length === 0) log.warn('no upstream resolvers (none configured, none usable in /etc/resolv.conf): names outside the zones get REFUSED');
  else log.info({ upstreams: upstreams.map(formatEndpoint) }, 'forwarding names outside the zones');
  const forwarder = new Forwarder({
    upstreams,
    timeoutMs: config.forwardTimeout * 1000,
    cacheSize: config.forwardCacheSize,
    cacheBytes: config.forwardCacheMemory * MB,
    payloadSize: config.udpPayloadMax,
    failureTtlMs: config.forwardFailureTtl * 1000,
    // The zones, and the reverse names of the addresses seamark serves.
    isOwnName: (name) => zoneOf(zone, name) !== undefined || (name.endsWith('.arpa') && lookup(registry, zone, name, RRType.PTR) !== undefined),
    log,
    onCache: metrics.onCache,
    onUpstreamError: metrics.onUpstreamError,
    onDropped,
  });
  return {
    forwarder,
    forwardAllow: parseAllowList(config.forwardAllow),
    axfrAllow: parseAllowList(config.axfrAllow),
    rateLimiter: createRateLimiter(config, metrics),
    queryLog: config.queryLog ? createQueryLog(log, config.queryLogRate) : undefined,
  };
}

/** The response rate limiter the configuration asks for, counted in the metrics; undefined when off. */
function createRateLimiter(config: Config, metrics: DnsMetrics): ResponseRateLimiter | undefined {
  if (config.rrlRate === 0) return undefined;
  const exempt = config.rrlExempt.flatMap((entry) => (entry === 'forward-allow' ? config.forwardAllow : [entry]));
  const limiter = new ResponseRateLimiter({
    responsesPerSecond: config.rrlRate,
    window: config.rrlWindow,
    slip: config.rrlSlip,
    ipv4PrefixLength: config.rrlIpv4Prefix,
    ipv6PrefixLength: config.rrlIpv6Prefix,
    tableSize: config.rrlTableSize,
    exempt: parseAllowList(exempt),
  });
  metrics.watchRateLimiter(limiter);
  return limiter;
}

/** What CH TXT version.bind and id.server answer: `auto` is seamark's version and the host name, `hide` refuses. */
function chaosAnswers(config: Config): { version?: string; identity?: string } {
  const pick = (setting: string, auto: () => string) => (setting === 'hide' ? undefined : setting === 'auto' ? auto() : setting);
  return {
    version: pick(config.serverVersion, () => {
      const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
      return `seamark ${manifest.version}`;
    }),
    identity: pick(config.serverIdentity, hostname),
  };
}
