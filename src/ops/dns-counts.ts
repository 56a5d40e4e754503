// What a DNS process counts (answers, their latency, forwarding, the answer
// cache, rate limiting), as plain numbers and without prom-client: a DNS worker
// keeps these and sends them to the primary as they are, and the primary's
// metrics (metrics.ts) turn its own and every worker's into Prometheus series.
import { performance } from 'node:perf_hooks';

/** Upper bounds of seamark_dns_answer_seconds' buckets, seconds. */
export const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1, 5];

export interface AnswerCacheStats {
  readonly answerCacheHits: number;
  readonly answerCacheEntries: number;
}

export interface RateLimiterStats {
  readonly limited: number;
  readonly slipped: number;
}

/** The hooks the DNS server, the forwarder and the rate limiter report to. */
export interface DnsMetrics {
  /** DnsServer's onAnswer hook. */
  onAnswer(type: number, rcode: number, startedAt: number): void;
  /** Forwarder's onCache hook. */
  onCache(hit: boolean): void;
  /** Forwarder's onUpstreamError hook. */
  onUpstreamError(upstream: string): void;
  /** Reports the DNS server's answer cache (entries and hits) on every scrape. */
  watchAnswerCache(stats: AnswerCacheStats): void;
  /** Reports the response rate limiter's counts on every scrape. */
  watchRateLimiter(stats: RateLimiterStats): void;
}

/** One process's counts at one moment: plain JSON, as it crosses the IPC channel. Counters are totals since the process started. */
export interface DnsCountsSnapshot {
  /** [type << 5 | rcode, answers] (rcodes above 31 folded into 31). */
  answers: [number, number][];
  /** Answers per latency bucket (not cumulative), then the sum of their latencies, seconds. */
  latencyBuckets: number[];
  latencySum: number;
  forwardCacheHits: number;
  forwardCacheMisses: number;
  /** [upstream, failures]. */
  upstreamErrors: [string, number][];
  answerCacheHits: number;
  answerCacheEntries: number;
  rrlLimited: number;
  rrlSlipped: number;
}

/** A DNS process's counts. The hooks are bound: the DNS server and the forwarder take them as plain functions. */
export class DnsCounts implements DnsMetrics {
  /** Key: type << 5 | rcode. Per answer: no allocation, no label hashing. */
  private readonly answers = new Map<number, number>();
  private readonly latencyBuckets = new Float64Array(LATENCY_BUCKETS.length);
  private latencySum = 0;
  private forwardCacheHits = 0;
  private forwardCacheMisses = 0;
  private readonly upstreamErrors = new Map<string, number>();
  private answerCache: AnswerCacheStats | undefined;
  private rateLimiter: RateLimiterStats | undefined;

  readonly onAnswer = (type: number, rcode: number, startedAt: number): void => {
    const seconds = (performance.now() - startedAt) / 1000;
    const key = ((type & 0xffff) << 5) | (rcode > 31 ? 31 : rcode);
    this.answers.set(key, (this.answers.get(key) ?? 0) + 1);
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= (LATENCY_BUCKETS[i] as number)) {
        this.latencyBuckets[i] = (this.latencyBuckets[i] as number) + 1;
        break;
      }
    }
    this.latencySum += seconds;
  };

  readonly onCache = (hit: boolean): void => {
    if (hit) this.forwardCacheHits++;
    else this.forwardCacheMisses++;
  };

  readonly onUpstreamError = (upstream: string): void => {
    this.upstreamErrors.set(upstream, (this.upstreamErrors.get(upstream) ?? 0) + 1);
  };

  readonly watchAnswerCache = (stats: AnswerCacheStats): void => {
    this.answerCache = stats;
  };

  readonly watchRateLimiter = (stats: RateLimiterStats): void => {
    this.rateLimiter = stats;
  };

  snapshot(): DnsCountsSnapshot {
    return {
      answers: [...this.answers],
      latencyBuckets: [...this.latencyBuckets],
      latencySum: this.latencySum,
      forwardCacheHits: this.forwardCacheHits,
      forwardCacheMisses: this.forwardCacheMisses,
      upstreamErrors: [...this.upstreamErrors],
      answerCacheHits: this.answerCache?.answerCacheHits ?? 0,
      answerCacheEntries: this.answerCache?.answerCacheEntries ?? 0,
      rrlLimited: this.rateLimiter?.limited ?? 0,
      rrlSlipped: this.rateLimiter?.slipped ?? 0,
    };
  }
}

/** Several processes' snapshots added up: what /metrics reports for all of them. */
export function addSnapshots(snapshots: readonly DnsCountsSnapshot[]): DnsCountsSnapshot {
  const answers = new Map<number, number>();
  const upstreamErrors = new Map<string, number>();
  const total: DnsCountsSnapshot = {
    answers: [],
    latencyBuckets: LATENCY_BUCKETS.map(() => 0),
    latencySum: 0,
    forwardCacheHits: 0,
    forwardCacheMisses: 0,
    upstreamErrors: [],
    answerCacheHits: 0,
    answerCacheEntries: 0,
    rrlLimited: 0,
    rrlSlipped: 0,
  };
  for (const snapshot of snapshots) {
    for (const [key, count] of snapshot.answers) answers.set(key, (answers.get(key) ?? 0) + count);
    for (const [upstream, count] of snapshot.upstreamErrors) upstreamErrors.set(upstream, (upstreamErrors.get(upstream) ?? 0) + count);
    snapshot.latencyBuckets.forEach((count, i) => (total.latencyBuckets[i] = (total.latencyBuckets[i] as number) + count));
    total.latencySum += snapshot.latencySum;
    total.forwardCacheHits += snapshot.forwardCacheHits;
    total.forwardCacheMisses += snapshot.forwardCacheMisses;
    total.answerCacheHits += snapshot.answerCacheHits;
    total.answerCacheEntries += snapshot.answerCacheEntries;
    total.rrlLimited += snapshot.rrlLimited;
    total.rrlSlipped += snapshot.rrlSlipped;
  }
  total.answers = [...answers];
  total.upstreamErrors = [...upstreamErrors];
  return total;
}
