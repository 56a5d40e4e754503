// End to end with random and odd `docker inspect` documents: the real
// seamark command reads a fake Docker API (fake-docker.ts says why a double
// is allowed here) that serves generated containers, round after round; after
// each round DNS (Node's resolver on seamark's port) and /v1/names agree for
// every name of every container, the containers the naming rules publish are
// there and no other, nothing answers 5xx, and seamark is still running.
import assert from 'node:assert/strict';
import type { Resolver } from 'node:dns/promises';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { factsFromInspect } from '../../src/sources/docker/facts.js';
import { publishContainer } from '../../src/sources/docker/publish.js';
import { startSeamark, type RunningSeamark } from '../helpers/seamark.js';
import { waitUntil } from '../docker/engine.js';
import { runs, SEED } from './arbitraries.js';
import { assertDnsAgrees, dnsAnswer, seamarkResolver, servedNames, type NameEntry } from './dns-agreement.js';
import { FakeDockerApi } from './fake-docker.js';
import { containerBatch } from './inspect-documents.js';

const zones = ['docker', 'internal'];
/** DNSDock's names for every container, and host-network containers at a host address: more of the rules in play. */
const HOST_ADDRESS = '192.0.2.53';

/** The containers seamark should publish, by the naming rules' own verdict (a document they cannot read is not published). */
function publishedOwners(batch: Map<string, unknown>): Set<string> {
  const settings = { zones, publishAll: true, dnsdockNames: true, startingHealthy: true, networks: [], hostAddresses: [HOST_ADDRESS], maxPorts: 100, maxNames: 32 };
  const owners = new Set<string>();
  for (const [id, document] of batch) {
    try {
      if ('instance' in publishContainer(factsFromInspect(id, JSON.parse(JSON.stringify(document ?? null)) as never), settings)) owners.add(`docker:${id}`);
    } catch {
      // Left out, with a warning naming the container: checked in inspect.test.ts.
    }
  }
  return owners;
}

describe('DNS and /v1/names agree on random Docker inspect documents (fast-check, end to end)', { timeout: 180000 }, () => {
  const fake = new FakeDockerApi();
  let seamark: RunningSeamark;
  let resolver: Resolver;
  before(async () => {
    await fake.open();
    seamark = await startSeamark({ config: { zones, docker: `unix://${fake.path}`, dnsdockNames: true, dockerHostAddresses: [HOST_ADDRESS], dockerReconcile: 0, dockerEventsCheck: 0 }, waitFor: 'Docker containers synced' });
    resolver = seamarkResolver(seamark.dnsPort);
  });
  after(async () => {
    await seamark?.stop();
    await fake.close();
  });

  const names = () => servedNames(seamark.httpPort, 'docker');

  it('after each round of containers, every name in /v1/names answers the same over DNS, and gone ones answer nothing', async (t) => {
    let previous: NameEntry[] = [];
    const counted = { containers: 0, published: 0, queries: 0 };
    await fc.assert(
      fc.asyncProperty(containerBatch, async (batch) => {
        fake.replace(batch);
        const wanted = publishedOwners(batch);
        counted.containers += batch.size;
        counted.published += wanted.size;
        let served: NameEntry[] = [];
        await waitUntil(`/v1/names to serve exactly the ${wanted.size} published container(s)`, async () => {
          served = await names();
          const owners = new Set(served.map((entry) => entry.owner));
          return owners.size === wanted.size && [...wanted].every((owner) => owners.has(owner));
        }, 10000, 20).catch((error: Error) => {
          throw new Error(`${error.message}; serving ${[...new Set(served.map((e) => e.owner))].join(', ') || 'nothing'}; log: ${JSON.stringify(seamark.logs.slice(-5))}`);
        });

        counted.queries += await assertDnsAgrees(resolver, served);
        const stillServed = new Set(served.map((entry) => entry.name));
        // A wildcard served now (`*.x.docker`) answers names below x that are not served themselves (RFC 4592).
        const wildcardParents = served.filter((entry) => entry.name.startsWith('*.')).map((entry) => entry.name.slice(1));
        for (const entry of previous) {
          if (stillServed.has(entry.name)) continue;
          if (wildcardParents.some((parent) => entry.name.endsWith(parent))) continue;
          assert.deepEqual(await dnsAnswer(resolver, entry.name, entry.type), [], `${entry.type} ${entry.name} is gone from /v1/names but DNS still answers it`);
        }
        previous = served;

        const readyz = await fetch(`http://127.0.0.1:${seamark.httpPort}/readyz`);
        assert.equal(readyz.status, 200, `/readyz answered ${readyz.status}: ${await readyz.text()}`);
        assert.equal(seamark.process.exitCode, null, 'seamark exited');
        const errors = seamark.logs.filter((line) => (line.level as number) >= 50);
        assert.deepEqual(errors, [], 'error log lines');
      }),
      // Shrinking would replay whole rounds against the running seamark: report the first failure (seed and path replay it).
      { ...runs(100), endOnFailure: true },
    );
    t.diagnostic(`seed ${SEED}: ${counted.containers} containers, ${counted.published} published, ${counted.queries} names compared over DNS`);
    fake.replace(new Map());
    await waitUntil('every container to be gone from /v1/names', async () => (await names()).length === 0, 10000, 20);
    for (const entry of previous) assert.deepEqual(await dnsAnswer(resolver, entry.name, entry.type), [], `${entry.name} still answers`);
  });
});
