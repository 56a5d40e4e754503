// 200 containers started at once: every one resolvable, and how long it took.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSeamark, type RunningSeamark } from '../helpers/seamark.js';
import { addressesOf, dockerUnavailable, removeByPrefix, runContainer, seamarkResolver, skipLoudly, testPrefix, waitUntil } from './engine.js';

const unavailable = dockerUnavailable();
if (unavailable !== undefined) skipLoudly(unavailable);
const prefix = testPrefix('many');
const COUNT = 200;
const PARALLEL_RUNS = 20;

describe(`${COUNT} containers at once`, { skip: unavailable, timeout: 480000 }, () => {
  let seamark: RunningSeamark;

  before(async () => {
    await removeByPrefix(prefix);
    seamark = await startSeamark({ config: { zones: ['docker'], http: 'off', logLevel: 'info' }, waitFor: 'Docker containers synced' });
  });
  after(async () => {
    await seamark?.stop();
    await removeByPrefix(prefix);
  });

  it(`all ${COUNT} resolve; prints the time from the last docker run to all resolving`, async () => {
    const names = Array.from({ length: COUNT }, (_, i) => `${prefix}c${i}`);
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: PARALLEL_RUNS }, async () => {
        while (next < names.length) await runContainer(names[next++]!, ['--network', 'bridge']);
      }),
    );
    const lastRun = performance.now();
    const resolver = seamarkResolver(seamark.dnsPort);
    const pending = new Set(names);
    const tookMs = await waitUntil(`all ${COUNT} to resolve`, async () => {
      await Promise.all([...pending].map(async (name) => {
        if ((await addressesOf(resolver, `${name}.docker`)).length > 0) pending.delete(name);
      }));
      return pending.size === 0;
    }, 60000, 10);
    console.log(`${COUNT} containers: docker run took ${((lastRun - started) / 1000).toFixed(1)} s (${PARALLEL_RUNS} in parallel); last docker run → all ${COUNT} resolvable: ${tookMs.toFixed(0)} ms`);
    assert.equal(pending.size, 0);
    assert.equal(seamark.process.exitCode, null);
  });
});
