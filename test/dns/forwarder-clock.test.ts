// The forwarder's time rules on a clock the test drives: cached answers count their TTLs down and are asked
// for again once stale, negative answers last min(SOA TTL, MINIMUM), and a failed lookup is SERVFAIL for the
// failure TTL without asking again. No test here waits on a stopwatch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { parseEndpoint } from '../../src/config/addresses.js';
import { Forwarder, type Forwarded } from '../../src/dns/forwarder.js';
import { parseQuery } from '../../src/dns/wire/read.js';
import { buildQuery } from '../helpers/raw.js';
import { rdataA, rdataSoa, startScriptedUpstream, type ScriptedAnswer } from './scripted-upstream.js';

const A = 1;
const SOA = 6;
const SERVFAIL = 2;

/** A forwarder to a scripted upstream, on a clock that moves only when the test says. */
async function forwarderOnClock(script: (name: string) => ScriptedAnswer | undefined) {
  const upstream = await startScriptedUpstream((q) => script(q.name));
  const clock = { ms: 1_700_000_000_000 };
  const forwarder = new Forwarder({
    upstreams: [parseEndpoint(`127.0.0.1:${upstream.port}`)],
    timeoutMs: 1000,
    cacheSize: 100,
    cacheBytes: 1024 * 1024,
    payloadSize: 1232,
    failureTtlMs: 5000,
    isOwnName: () => false,
    log: pino({ level: 'silent' }),
    now: () => clock.ms,
  });
  const ask = async (name: string): Promise<Forwarded> => {
    const message = buildQuery(name, A, { flags: 0x0100 });
    const parsed = parseQuery(message);
    assert.equal(parsed.kind, 'query');
    return forwarder.resolve(message, (parsed as Extract<typeof parsed, { kind: 'query' }>).query, false);
  };
  const asked = (name: string) => upstream.asked.filter((q) => q.name === name).length;
  return { clock, ask, asked, stop: () => upstream.stop() };
}

/** The TTL of the first record after the question (answer or authority). */
function firstTtl(forwarded: Forwarded): number {
  assert.equal(forwarded.kind, 'answer');
  const response = (forwarded as Extract<Forwarded, { kind: 'answer' }>).response;
  let offset = 12;
  while (response[offset] !== 0) offset += (response[offset] as number) + 1;
  offset += 5; // root label, type, class
  offset += 2 + 4; // the record's compressed owner, type, class
  return response.readUInt32BE(offset);
}

test('a cached answer counts its TTL down with the clock, and is asked for again once the TTL has passed', async () => {
  const forwarder = await forwarderOnClock(() => ({ answers: [{ name: 'web.example.test', type: A, ttl: 300, rdata: rdataA('192.0.2.7') }] }));
  try {
    assert.equal(firstTtl(await forwarder.ask('web.example.test')), 300);
    forwarder.clock.ms += 1500;
    assert.equal(firstTtl(await forwarder.ask('web.example.test')), 299, 'counted down by the whole seconds passed');
    forwarder.clock.ms += 100_000;
    assert.equal(firstTtl(await forwarder.ask('web.example.test')), 199);
    assert.equal(forwarder.asked('web.example.test'), 1, 'served from the cache');
    forwarder.clock.ms += 198_500;
    assert.equal(firstTtl(await forwarder.ask('web.example.test')), 300, 'stale at 300 s: asked again, a fresh TTL');
    assert.equal(forwarder.asked('web.example.test'), 2);
  } finally {
    await forwarder.stop();
  }
});

test('a negative answer is cached for min(SOA TTL, MINIMUM)', async () => {
  const forwarder = await forwarderOnClock(() => ({ rcode: 3, authority: [{ name: 'neg.test', type: SOA, ttl: 3600, rdata: rdataSoa('neg.test', 1, 20) }] }));
  try {
    await forwarder.ask('gone.neg.test');
    forwarder.clock.ms += 19_999;
    await forwarder.ask('gone.neg.test');
    assert.equal(forwarder.asked('gone.neg.test'), 1, 'within MINIMUM: from the cache');
    forwarder.clock.ms += 1;
    await forwarder.ask('gone.neg.test');
    assert.equal(forwarder.asked('gone.neg.test'), 2, 'at MINIMUM: asked again');
  } finally {
    await forwarder.stop();
  }
});

test('a lookup every upstream failed is SERVFAIL for the failure TTL without asking, then asked again', async () => {
  let broken = true;
  const forwarder = await forwarderOnClock((name) => (broken ? { rcode: SERVFAIL } : { answers: [{ name, type: A, ttl: 60, rdata: rdataA('192.0.2.88') }] }));
  try {
    assert.equal((await forwarder.ask('broken.example.test')).kind, 'failed');
    forwarder.clock.ms += 4999;
    assert.equal((await forwarder.ask('broken.example.test')).kind, 'failed');
    assert.equal(forwarder.asked('broken.example.test'), 1, 'remembered: not asked again');
    broken = false;
    forwarder.clock.ms += 2;
    assert.equal((await forwarder.ask('broken.example.test')).kind, 'answer', 'the failure TTL ran out: asked again');
    assert.equal(forwarder.asked('broken.example.test'), 2);
  } finally {
    await forwarder.stop();
  }
});
