// The status strip: readiness (Docker, store), forwarding upstreams and
// version from the API, queries per second and the answer-cache hit ratio
// from two successive scrapes of /metrics.
import { api, authHeaders, byId } from './api.js';

const POLL_MS = 5000;

interface Scrape {
  at: number;
  queries: number;
  cacheHits: number;
}

export function startStatusStrip(): void {
  void showConfiguration();
  let previous: Scrape | undefined;
  const poll = async () => {
    await showReadiness();
    const scrape = await scrapeMetrics();
    if (scrape !== undefined) {
      showRates(previous, scrape);
      previous = scrape;
    }
  };
  void poll();
  window.setInterval(() => void poll(), POLL_MS);
}

let dockerEnabled = true;

async function showConfiguration(): Promise<void> {
  const [version, config] = await Promise.all([
    api<{ Version: string }>('GET', '/v1/version'),
    api<{ Resolvers?: string[]; Seamark?: { docker?: string } }>('GET', '/v1/config'),
  ]);
  byId('status-version').textContent = version.body?.Version ?? '?';
  const resolvers = config.body?.Resolvers ?? [];
  byId('status-upstreams').textContent = resolvers.length > 0 ? resolvers.join(', ') : 'from /etc/resolv.conf';
  dockerEnabled = (config.body?.Seamark?.docker ?? '').trim().toLowerCase() !== 'off';
}

async function showReadiness(): Promise<void> {
  // /readyz answers 503 while something is pending; both carry the same body.
  const response = await fetch('/readyz').catch(() => undefined);
  const body = (await response?.json().catch(() => undefined)) as { pending?: string[]; degraded?: Record<string, string> } | undefined;
  const pending = body?.pending ?? [];
  byId('status-docker').textContent = !dockerEnabled ? 'off' : response === undefined ? '?' : pending.includes('docker') ? 'not connected (retrying)' : 'connected';
  // A disk fault (full, read-only) as /readyz words it: records are served, writes refused until it clears.
  const storeFault = [body?.degraded?.store, body?.degraded?.['soa-serial']].filter((fault) => fault !== undefined).join('; ');
  const store = byId('status-store');
  store.textContent = response === undefined ? '?' : pending.includes('store') ? 'loading' : storeFault !== '' ? `loaded, cannot write: ${storeFault}` : 'loaded';
  store.classList.toggle('fault', storeFault !== '');
}

async function scrapeMetrics(): Promise<Scrape | undefined> {
  const response = await fetch('/metrics', { headers: authHeaders() }).catch(() => undefined);
  if (response === undefined || !response.ok) return undefined;
  const text = await response.text();
  return { at: performance.now(), queries: sumOf(text, 'seamark_dns_queries_total'), cacheHits: sumOf(text, 'seamark_dns_answer_cache_hits_total') };
}

function showRates(previous: Scrape | undefined, now: Scrape): void {
  if (previous === undefined) {
    byId('status-qps').textContent = '…';
  } else {
    const seconds = (now.at - previous.at) / 1000;
    byId('status-qps').textContent = seconds > 0 ? ((now.queries - previous.queries) / seconds).toFixed(1) : '…';
  }
  // Over the last interval when there were queries, else since start.
  const queries = previous !== undefined && now.queries > previous.queries ? now.queries - previous.queries : now.queries;
  const hits = previous !== undefined && now.queries > previous.queries ? now.cacheHits - previous.cacheHits : now.cacheHits;
  byId('status-cache').textContent = queries > 0 ? `${((100 * hits) / queries).toFixed(1)} %` : 'no queries yet';
}

/** The sum of every series of one metric in Prometheus text. */
function sumOf(text: string, metric: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(metric) || (line[metric.length] !== '{' && line[metric.length] !== ' ')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}
