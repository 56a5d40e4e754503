// Prometheus metrics: one prom-client registry, with the hooks the DNS server,
// the forwarder and the HTTP API call, and gauges read from the registry on scrape.
import { requireCommonJs } from '../lib/commonjs.js';
import { DnsCounts, LATENCY_BUCKETS, addSnapshots, type DnsCountsSnapshot, type DnsMetrics } from './dns-counts.js';
import type { Readiness } from './readiness.js';
import type { Registry } from '../registry/registry.js';
import { RCODE_NAMES, TYPE_NAMES } from '../zone/records.js';

const { Counter, Gauge, Registry: MetricsRegistry, collectDefaultMetrics } = requireCommonJs('prom-client') as typeof import('prom-client');
type MetricsRegistry = import('prom-client').Registry;

const typeNames = TYPE_NAMES;
const rcodeNames = RCODE_NAMES;

export interface Metrics extends DnsMetrics {
  registry: MetricsRegistry;
  /** Counts one HTTP request once its reply is sent. */
  onHttpRequest(method: string, route: string, status: number): void;
  /** Reports which sources are degraded (serving a picture that may be stale) on every scrape. */
  watchReadiness(readiness: Readiness): void;
  /** Adds the DNS workers' counts to every scrape (multi-process mode). */
  addWorkerMetrics(collect: () => Promise<DnsCountsSnapshot[]>): void;
  /** The Prometheus text of this process, and of its workers if any. */
  text(): Promise<string>;
  contentType: string;
}

export function createMetrics(instances: Registry): Metrics {
  const registry = new MetricsRegistry();
  collectDefaultMetrics({ register: registry, prefix: 'seamark_process_' });
  // Per-query figures are plain numbers (dns-counts.ts), this process's and every DNS worker's,
  // turned into Prometheus series only when scraped: answering a query allocates nothing and hashes no labels.
  const dns = new DnsCounts();
  let collectWorkers: (() => Promise<DnsCountsSnapshot[]>) | undefined;
  let workerCounts: DnsCountsSnapshot[] = [];
  /** Every DNS process's counts added up: counters and histograms add up across processes, as gauges of entries do. */
  const dnsTotals = () => (workerCounts.length === 0 ? dns.snapshot() : addSnapshots([dns.snapshot(), ...workerCounts]));

  new Counter({
    name: 'seamark_dns_queries_total',
    help: 'DNS queries answered, by query type and response code',
    labelNames: ['type', 'rcode'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [key, count] of dnsTotals().answers) {
        // Unknown types and rcodes share one label each, so random queries cannot grow the series without bound.
        this.inc({ type: typeNames.get(key >> 5) ?? 'OTHER', rcode: rcodeNames.get(key & 0x1f) ?? 'OTHER' }, count);
      }
    },
  });
  registry.registerMetric(latencyHistogram('seamark_dns_answer_seconds', 'Time from receiving a DNS query to sending its answer', dnsTotals));
  new Counter({
    name: 'seamark_forward_cache_lookups_total',
    help: 'Forwarder cache lookups, by result (hit or miss)',
    labelNames: ['result'] as const,
    registers: [registry],
    collect() {
      const { forwardCacheHits, forwardCacheMisses } = dnsTotals();
      this.reset();
      if (forwardCacheHits > 0) this.inc({ result: 'hit' }, forwardCacheHits);
      if (forwardCacheMisses > 0) this.inc({ result: 'miss' }, forwardCacheMisses);
    },
  });
  new Counter({
    name: 'seamark_forward_upstream_errors_total',
    help: 'Upstream resolver failures (timeouts, errors), by upstream',
    labelNames: ['upstream'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [upstream, count] of dnsTotals().upstreamErrors) this.inc({ upstream }, count);
    },
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

  let readiness: Readiness | undefined;
  new Gauge({
    name: 'seamark_source_degraded',
    help: 'Whether a source cannot keep its picture in sync (1) or can (0): Docker calls failing or timing out, a stalled event stream',
    labelNames: ['source'] as const,
    registers: [registry],
    collect() {
      const degraded = readiness?.degraded() ?? {};
      this.reset();
      this.set({ source: 'docker' }, degraded.docker === undefined ? 0 : 1);
      for (const source of Object.keys(degraded)) this.set({ source }, 1);
    },
  });

  new Counter({
    name: 'seamark_dns_answer_cache_hits_total',
    help: 'UDP queries answered from the encoded-answer cache',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(dnsTotals().answerCacheHits);
    },
  });
  new Gauge({
    name: 'seamark_dns_answer_cache_entries',
    help: 'Encoded answers held by the answer cache',
    registers: [registry],
    collect() {
      this.set(dnsTotals().answerCacheEntries);
    },
  });
  new Counter({
    name: 'seamark_dns_rrl_limited_total',
    help: 'UDP answers held back by response rate limiting (dropped, or sent empty with TC)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(dnsTotals().rrlLimited);
    },
  });
  new Counter({
    name: 'seamark_dns_rrl_slipped_total',
    help: 'Rate-limited UDP answers sent empty with TC (a slip), so real clients retry over TCP',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(dnsTotals().rrlSlipped);
    },
  });

  return {
    registry,
    onAnswer: dns.onAnswer,
    onCache: dns.onCache,
    onUpstreamError: dns.onUpstreamError,
    watchAnswerCache: dns.watchAnswerCache,
    watchRateLimiter: dns.watchRateLimiter,
    onHttpRequest(method, route, status) {
      httpRequests.inc({ method, route, status: String(status) });
    },
    watchReadiness(watched) {
      readiness = watched;
    },
    addWorkerMetrics(collect) {
      collectWorkers = collect;
    },
    async text() {
      if (collectWorkers !== undefined) workerCounts = await collectWorkers();
      return registry.metrics();
    },
    contentType: registry.contentType,
  };
}

/** A prom-client metric that reads the answer latency histogram from the DNS counts when scraped. */
function latencyHistogram(name: string, help: string, counts: () => DnsCountsSnapshot): Parameters<MetricsRegistry['registerMetric']>[0] {
  return {
    name,
    help,
    get: async () => {
      const { answers, latencyBuckets, latencySum } = counts();
      // Every answer is counted in `answers` once: their total is the +Inf bucket and the count.
      const answered = answers.reduce((total, [, count]) => total + count, 0);
      let cumulative = 0;
      const values = LATENCY_BUCKETS.map((le, i) => {
        cumulative += latencyBuckets[i] as number;
        return { labels: { le }, value: cumulative, metricName: `${name}_bucket` };
      });
      values.push({ labels: { le: '+Inf' as unknown as number }, value: answered, metricName: `${name}_bucket` });
      return {
        name,
        help,
        type: 'histogram',
        aggregator: 'sum',
        values: [...values, { labels: {}, value: latencySum, metricName: `${name}_sum` }, { labels: {}, value: answered, metricName: `${name}_count` }],
      };
    },
  } as unknown as Parameters<MetricsRegistry['registerMetric']>[0];
}
