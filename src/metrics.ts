// Prometheus metrics: one prom-client registry, with the hooks the DNS server,
// the forwarder and the HTTP API call, and gauges read from the registry on scrape.
import { performance } from 'node:perf_hooks';
import type { WorkerMetrics } from './workers/messages.js';
import { requireCommonJs } from './commonjs.js';
import type { Readiness } from './readiness.js';
import type { Registry } from './registry/registry.js';
import { RRType, Rcode } from './zone/records.js';

const { AggregatorRegistry, Counter, Gauge, Registry: MetricsRegistry, collectDefaultMetrics } = requireCommonJs('prom-client') as typeof import('prom-client');
type MetricsRegistry = import('prom-client').Registry;

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
  /** Reports which sources are degraded (serving a picture that may be stale) on every scrape. */
  watchReadiness(readiness: Readiness): void;
  /** Reports the response rate limiter's counts on every scrape. */
  watchRateLimiter(stats: RateLimiterStats): void;
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

export interface RateLimiterStats {
  readonly limited: number;
  readonly slipped: number;
}

export function createMetrics(instances: Registry): Metrics {
  const registry = new MetricsRegistry();
  collectDefaultMetrics({ register: registry, prefix: 'seamark_process_' });
  // Per-query figures are plain numbers, turned into Prometheus series only when scraped:
  // answering a query allocates nothing and hashes no labels.
  const answers = new AnswerCounts();
  new Counter({
    name: 'seamark_dns_queries_total',
    help: 'DNS queries answered, by query type and response code',
    labelNames: ['type', 'rcode'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [key, count] of answers.byTypeAndRcode) {
        // Unknown types and rcodes share one label each, so random queries cannot grow the series without bound.
        this.inc({ type: typeNames.get(key >> 5) ?? 'OTHER', rcode: rcodeNames.get(key & 0x1f) ?? 'OTHER' }, count);
      }
    },
  });
  registry.registerMetric(answers.histogram('seamark_dns_answer_seconds', 'Time from receiving a DNS query to sending its answer'));
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

  let rateLimiter: RateLimiterStats | undefined;
  new Counter({
    name: 'seamark_dns_rrl_limited_total',
    help: 'UDP answers held back by response rate limiting (dropped, or sent empty with TC)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(rateLimiter?.limited ?? 0);
    },
  });
  new Counter({
    name: 'seamark_dns_rrl_slipped_total',
    help: 'Rate-limited UDP answers sent empty with TC (a slip), so real clients retry over TCP',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(rateLimiter?.slipped ?? 0);
    },
  });

  return {
    registry,
    onAnswer(type, rcode, startedAt) {
      answers.record(type, rcode, (performance.now() - startedAt) / 1000);
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
    watchReadiness(watched) {
      readiness = watched;
    },
    watchAnswerCache(stats) {
      answerCache = stats;
    },
    watchRateLimiter(stats) {
      rateLimiter = stats;
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

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1, 5];

/** Answered queries by (type, rcode) and their latency histogram, as plain numbers. */
class AnswerCounts {
  /** Key: type << 5 | rcode (rcodes above 31 are folded). */
  readonly byTypeAndRcode = new Map<number, number>();
  private readonly bucketCounts = new Float64Array(LATENCY_BUCKETS.length);
  private sum = 0;
  private count = 0;

  record(type: number, rcode: number, seconds: number): void {
    const key = ((type & 0xffff) << 5) | (rcode > 31 ? 31 : rcode);
    this.byTypeAndRcode.set(key, (this.byTypeAndRcode.get(key) ?? 0) + 1);
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= (LATENCY_BUCKETS[i] as number)) {
        this.bucketCounts[i] = (this.bucketCounts[i] as number) + 1;
        break;
      }
    }
    this.sum += seconds;
    this.count++;
  }

  /** A prom-client metric that reads the histogram when scraped. */
  histogram(name: string, help: string): Parameters<MetricsRegistry['registerMetric']>[0] {
    return {
      name,
      help,
      get: async () => {
        let cumulative = 0;
        const values = LATENCY_BUCKETS.map((le, i) => {
          cumulative += this.bucketCounts[i] as number;
          return { labels: { le }, value: cumulative, metricName: `${name}_bucket` };
        });
        values.push({ labels: { le: '+Inf' as unknown as number }, value: this.count, metricName: `${name}_bucket` });
        return {
          name,
          help,
          type: 'histogram',
          aggregator: 'sum',
          values: [...values, { labels: {}, value: this.sum, metricName: `${name}_sum` }, { labels: {}, value: this.count, metricName: `${name}_count` }],
        };
      },
    } as unknown as Parameters<MetricsRegistry['registerMetric']>[0];
  }
}
