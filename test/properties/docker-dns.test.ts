// End to end with random and odd `docker inspect` documents: the real
// seamark command reads a fake Docker API (fake-docker.ts says why a double
// is allowed here) that serves generated containers, round after round; after
// each round DNS (Node's resolver on seamark's port) and /v1/names agree for
// every name of every container, the containers the naming rules publish are
// there and no other, nothing answers 5xx, and seamark is still running.
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { factsFromInspect } from '../../src/sources/docker/facts.js';
import { publishContainer } from '../../src/sources/docker/publish.js';
import { startSeamark, type RunningSeamark } from '../helpers/seamark.js';
import { waitUntil } from '../docker/engine.js';
import { runs, SEED } from './arbitraries.js';
import { FakeDockerApi } from './fake-docker.js';
import { containerBatch } from './inspect-documents.js';

const zones = ['docker', 'internal'];
/** DNSDock's names for every container, and host-network containers at a host address: more of the rules in play. */
const HOST_ADDRESS = '192.0.2.53';

interface NameEntry {
  name: string;
  type: 'A' | 'AAAA' | 'SRV';
  addresses: string[];
  srv?: { target: string; port: number };
  owner: string;
  healthy: boolean;
}

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

/** An address in one text form for both sides (the WHATWG URL serialiser, not seamark's own). */
function sameForm(address: string): string {
  return address.includes(':') ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address;
}

/**
 * What DNS must answer for `type` at a name, by the README: the records of the
 * name's healthy instances, or of all of them when none is healthy (fail
 * open). Health is decided per name over all its instances (A and AAAA alike),
 * per SRV name for SRV.
 */
function expectedAnswer(type: NameEntry['type'], ofName: NameEntry[]): string[] {
  const healthy = ofName.filter((entry) => entry.healthy);
  const answering = new Set((healthy.length > 0 ? healthy : ofName).map((entry) => entry.owner));
  const answers = ofName
    .filter((entry) => entry.type === type && answering.has(entry.owner))
    .flatMap((entry) => (entry.type === 'SRV' ? [`${entry.srv?.port} ${entry.srv?.target}`] : entry.addresses.map(sameForm)));
  return [...new Set(answers)].sort();
}

async function dnsAnswer(resolver: Resolver, name: string, type: NameEntry['type']): Promise<string[]> {
  try {
    if (type === 'A') return (await resolver.resolve4(name)).sort();
    if (type === 'AAAA') return (await resolver.resolve6(name)).map(sameForm).sort();
    return [...new Set((await resolver.resolveSrv(name)).map((srv) => `${srv.port} ${srv.name}`))].sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') return [];
    throw new Error(`${type} ${name}: ${code ?? (error as Error).message}`);
  }
}

describe('DNS and /v1/names agree on random Docker inspect documents (fast-check, end to end)', { timeout: 180000 }, () => {
  const fake = new FakeDockerApi();
  let seamark: RunningSeamark;
  let resolver: Resolver;
  before(async () => {
    await fake.open();
    seamark = await startSeamark({ config: { zones, docker: `unix://${fake.path}`, dnsdockNames: true, dockerHostAddresses: [HOST_ADDRESS], dockerReconcile: 0, dockerEventsCheck: 0 }, waitFor: 'Docker containers synced' });
    resolver = new Resolver({ timeout: 2000, tries: 2 });
    resolver.setServers([`127.0.0.1:${seamark.dnsPort}`]);
  });
  after(async () => {
    await seamark?.stop();
    await fake.close();
  });

  const names = async (): Promise<NameEntry[]> => {
    const response = await fetch(`http://127.0.0.1:${seamark.httpPort}/v1/names?source=docker`);
    assert.equal(response.status, 200, `/v1/names answered ${response.status}`);
    return (await response.json()) as NameEntry[];
  };

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

        const byName = new Map<string, NameEntry[]>();
        for (const entry of served) byName.set(entry.name, [...(byName.get(entry.name) ?? []), entry]);
        for (const [name, entries] of byName) {
          for (const type of new Set(entries.map((entry) => entry.type))) {
            counted.queries++;
            assert.deepEqual(await dnsAnswer(resolver, name, type), expectedAnswer(type, entries), `${type} ${name}: DNS and /v1/names disagree`);
          }
        }
        const servedNames = new Set(served.map((entry) => entry.name));
        for (const entry of previous) {
          if (servedNames.has(entry.name)) continue;
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
