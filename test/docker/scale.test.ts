// 200 containers started at once: every one resolvable, and how long it took.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { seamarkForSuite } from '../helpers/seamark.js';
import { addressesOf, describeWithDocker, runContainer, seamarkResolver, waitUntil } from './engine.js';

const COUNT = 200;
const PARALLEL_RUNS = 20;

describeWithDocker(`${COUNT} containers at once`, 'many', { timeout: 480000 }, (prefix) => {
  const seamark = seamarkForSuite({ config: { zones: ['docker'], http: 'off', logLevel: 'info' }, waitFor: 'Docker containers synced' });

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
