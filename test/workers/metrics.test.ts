// /metrics with DNS workers: every worker's counts (answers, latency, answer cache, forwarding) are added up in
// the primary's series, and the series are the same, HELP and TYPE included, as those of a single process.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildQuery, rcodeOf, sendRaw } from '../helpers/raw.js';
import { freePort, startSeamark, type RunningSeamark } from '../helpers/seamark.js';

async function scrape(seamark: RunningSeamark): Promise<string> {
  return (await fetch(`http://127.0.0.1:${seamark.httpPort}/metrics`)).text();
}

/** The value of one series (exact name and labels), 0 when absent. */
function valueOf(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return Number(line?.slice(series.length + 1) ?? 0);
}

/** Every HELP and TYPE line, in order. */
function descriptions(text: string): string[] {
  return text.split('\n').filter((line) => line.startsWith('# '));
}

describe('/metrics with DNS workers', () => {
  let single: RunningSeamark;
  let workers: RunningSeamark;
  let upstream: string;
  before(async () => {
    // Nothing listens there: every forwarded query fails at once (ICMP port unreachable) or times out.
    upstream = `127.0.0.1:${await freePort()}`;
    const config = { docker: 'off', upstreams: [upstream], forwardTimeout: 0.3, hosts: [{ names: ['web'], addresses: ['10.1.0.2'] }] };
    [single, workers] = await Promise.all([startSeamark({ config: { ...config, workers: 1 } }), startSeamark({ config: { ...config, workers: 2 } })]);
  });
  after(() => Promise.all([single.stop(), workers.stop()]));

  test('add up what every worker answered, its latency, its answer cache and its forwarding', async () => {
    const before = await scrape(workers);
    // Each query from a new socket, so the kernel spreads them over both workers.
    const zone = await Promise.all(Array.from({ length: 40 }, (_, i) => sendRaw(workers.dnsPort, buildQuery('web.docker', 1, { id: i }))));
    for (const reply of zone) assert.equal(reply?.readUInt16BE(6), 1, 'answered from the zone');
    const forwarded = await Promise.all(Array.from({ length: 6 }, (_, i) => sendRaw(workers.dnsPort, buildQuery(`name-${i}.example`, 1, { id: i }), 3000)));
    for (const reply of forwarded) assert.equal(reply === undefined ? undefined : rcodeOf(reply), 2, 'SERVFAIL: the upstream is down');
    const now = await scrape(workers);
    const delta = (series: string) => valueOf(now, series) - valueOf(before, series);

    assert.equal(delta('seamark_dns_queries_total{type="A",rcode="NOERROR"}'), 40);
    assert.equal(delta('seamark_dns_queries_total{type="A",rcode="SERVFAIL"}'), 6);
    assert.equal(delta('seamark_dns_answer_seconds_count'), 46);
    assert.equal(delta('seamark_dns_answer_seconds_bucket{le="+Inf"}'), 46);
    assert.ok(delta('seamark_dns_answer_seconds_sum') > 0);
    // Every worker encodes the answer once, then answers from its cache.
    assert.ok(delta('seamark_dns_answer_cache_hits_total') >= 38, `answer cache hits ${delta('seamark_dns_answer_cache_hits_total')}`);
    assert.equal(delta('seamark_forward_cache_lookups_total{result="miss"}'), 6);
    assert.equal(delta(`seamark_forward_upstream_errors_total{upstream="${upstream}"}`), 6);
  });

  test('describe the same series as a single process', async () => {
    assert.deepEqual(descriptions(await scrape(workers)), descriptions(await scrape(single)));
  });
});
