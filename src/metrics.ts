// Prometheus metrics: one prom-client registry, with the hooks the DNS server,
// the forwarder and the HTTP API call, and gauges read from the registry on scrape.
import { performance } from 'node:perf_hooks';
import type { WorkerMetrics } from './cluster/messages.js';
import { AggregatorRegistry, Counter, Histogram, Gauge, Registry as MetricsRegistry, collectDefaultMetrics } from 'prom-client';
import type { Registry } from './registry/registry.js';
import { RRType, Rcode } from './zone/records.js';

const typeNames = new Map<number, string>(Object.entries(RRType).map(([name, code]) => [code, name]));
const rcodeNames = new Map<number, string>(Object.entries(Rcode).map(([name, code]) => [code, name]));

export interface Metrics {
  registry: MetricsRegistry;
  /** DnsServer's onAnswer hook. */
  onAnswer(type: number, rcode: number, startedAt: number): void;
  /** Forwarder's onCache hook. */
  onCache(hit: boolean): void;
  /** Forwarder's onUpstreamError hook. */
  onUpstreamError(upstream: string): void;
  /** Counts one HTTP request once its reply is sent. */
  onHttpRequest(method: string, route: string, status: number): void;
  /** Reports the DNS server's answer cache (entries and hits) on every scrape. */
  watchAnswerCache(stats: AnswerCacheStats): void;
  /** Adds the DNS workers' metrics to every scrape (multi-process mode). */
  addWorkerMetrics(collect: () => Promise<WorkerMetrics[]>): void;
  /** The Prometheus text of this process, and of its workers if any. */
  text(): Promise<string>;
  contentType: string;
}

export interface AnswerCacheStats {
  readonly answerCacheHits: number;
  readonly answerCacheEntries: number;
}

export function createMetrics(instances: Registry): Metrics {
  const registry = new MetricsRegistry();
  collectDefaultMetrics({ register: registry, prefix: 'seamark_process_' });
  const queries = new Counter({
    name: 'seamark_dns_queries_total',
    help: 'DNS queries answered, by query type and response code',
    labelNames: ['type', 'rcode'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'seamark_dns_answer_seconds',
    help: 'Time from receiving a DNS query to sending its answer',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1, 5],
    registers: [registry],
  });
  const cache = new Counter({
    name: 'seamark_forward_cache_lookups_total',
    help: 'Forwarder cache lookups, by result (hit or miss)',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const upstreamErrors = new Counter({
    name: 'seamark_forward_upstream_errors_total',
    help: 'Upstream resolver failures (timeouts, errors), by upstream',
    labelNames: ['upstream'] as const,
    registers: [registry],
  });
  const httpRequests = new Counter({
    name: 'seamark_http_requests_total',
    help: 'HTTP API requests, by method, route and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'seamark_records',
    help: 'Instances served, by source (config, manual, docker)',
    labelNames: ['source'] as const,
    registers: [registry],
    collect() {
      const counts = new Map<string, number>([['config', 0], ['manual', 0], ['docker', 0]]);
      for (const instance of instances.all()) counts.set(instance.source, (counts.get(instance.source) ?? 0) + 1);
      this.reset();
      for (const [source, count] of counts) this.set({ source }, count);
    },
  });

  const queryCounters = new Map<number, { inc(): void }>();
  let answerCache: AnswerCacheStats | undefined;
  let collectWorkers: (() => Promise<WorkerMetrics[]>) | undefined;
  new Counter({
    name: 'seamark_dns_answer_cache_hits_total',
    help: 'UDP queries answered from the encoded-answer cache',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(answerCache?.answerCacheHits ?? 0);
    },
  });
  new Gauge({
    name: 'seamark_dns_answer_cache_entries',
    help: 'Encoded answers held by the answer cache',
    registers: [registry],
    collect() {
      this.set(answerCache?.answerCacheEntries ?? 0);
    },
  });

  return {
    registry,
    onAnswer(type, rcode, startedAt) {
      // One labelled child per (type, rcode), made once: counting a query allocates nothing.
      const key = (type << 5) | (rcode & 0x1f);
      let child = queryCounters.get(key);
      if (child === undefined) {
        // Unknown types and rcodes share one label each, so random queries cannot grow the series without bound.
        child = queries.labels(typeNames.get(type) ?? 'OTHER', rcodeNames.get(rcode) ?? 'OTHER');
        queryCounters.set(key, child);
      }
      child.inc();
      latency.observe((performance.now() - startedAt) / 1000);
    },
    onCache(hit) {
      cache.inc({ result: hit ? 'hit' : 'miss' });
    },
    onUpstreamError(upstream) {
      upstreamErrors.inc({ upstream });
    },
    onHttpRequest(method, route, status) {
      httpRequests.inc({ method, route, status: String(status) });
    },
    watchAnswerCache(stats) {
      answerCache = stats;
    },
    addWorkerMetrics(collect) {
      collectWorkers = collect;
    },
    async text() {
      if (collectWorkers === undefined) return registry.metrics();
      const [own, workers] = await Promise.all([registry.getMetricsAsJSON(), collectWorkers()]);
      // Counters and histograms add up across processes; this process's DNS series are all zero.
      return AggregatorRegistry.aggregate([own, ...workers] as Parameters<typeof AggregatorRegistry.aggregate>[0]).metrics();
    },
    contentType: registry.contentType,
  };
}
