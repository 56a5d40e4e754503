// Property-based test (fast-check) of the Docker source on random and odd
// `docker inspect` documents: seamark's real Docker watcher (and dockerode)
// reading a fake Docker API (fake-docker.ts says why a double is allowed
// here). Nothing throws out of it, a container that is not published is a
// log line naming it, every instance the registry holds belongs to a listed
// container and resolves through the zone view, and once the containers are
// gone the registry is empty again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import fc from 'fast-check';
import { pino } from 'pino';
import { Registry, srvNames } from '../../src/registry/registry.js';
import { canonicalAddress } from '../../src/registry/names.js';
import { DockerWatcher } from '../../src/sources/docker/watcher.js';
import type { PublishSettings } from '../../src/sources/docker/publish.js';
import { lookup, type ZoneSettings } from '../../src/zone/view.js';
import { RRType } from '../../src/zone/records.js';
import { waitUntil } from '../docker/engine.js';
import { invalidName, runs, SEED } from './arbitraries.js';
import { FakeDockerApi } from './fake-docker.js';
import { containerBatch } from './inspect-documents.js';

const zones = ['docker', 'internal'];
const zoneSettings: ZoneSettings = { zones, ttl: 60, negativeTtl: 30, failOpen: true, serialBase: 0 };

function publishSettings(dnsdockNames: boolean, hostAddresses: string[]): PublishSettings {
  return { zones, publishAll: true, dnsdockNames, startingHealthy: true, networks: [], hostAddresses, maxPorts: 100, maxNames: 32 };
}

describe('Docker inspect documents (fast-check)', { timeout: 120000 }, () => {
  const fake = new FakeDockerApi();
  before(() => fake.open());
  after(() => fake.close());

  /** The real Docker watcher on a fresh registry, reading the fake API; `firstSync` settles after its first full sync. */
  function watch(settings: PublishSettings) {
    const registry = new Registry();
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    let synced = () => {};
    const firstSync = new Promise<void>((resolve, reject) => {
      synced = resolve;
      setTimeout(() => reject(new Error('no first sync within 10 s')), 10000).unref();
    });
    const watcher = new DockerWatcher({
      docker: new Docker({ socketPath: fake.path }),
      endpoint: 'fake',
      registry,
      settings,
      reconcileMs: 0,
      callTimeoutMs: 10000,
      eventsCheckMs: 0,
      // Stopping waits out the reconnect backoff; keep it short so each case ends at once.
      backoffMinMs: 1,
      log,
      onFirstSync: () => synced(),
    });
    watcher.start();
    return { registry, lines, watcher, firstSync };
  }

  it('a document without an Id, or with another container\'s, publishes the container asked for, and its removal removes it', async () => {
    const [asked, other, noId] = ['a', 'b', 'c'].map((c) => c.repeat(64)) as [string, string, string];
    const document = (name: string, ip: string, id?: string) => ({ ...(id === undefined ? {} : { Id: id }), Name: `/${name}`, State: { Running: true }, NetworkSettings: { Networks: { bridge: { IPAddress: ip } } } });
    fake.documents = new Map<string, unknown>([[asked, document('asked', '10.9.0.1', other)], [other, document('other', '10.9.0.2', other)], [noId, document('no-id', '10.9.0.3')]]);
    const { registry, watcher, firstSync } = watch(publishSettings(false, []));
    try {
      await firstSync;
      const owners = (name: string) => registry.byName(name).map((instance) => instance.owner);
      assert.deepEqual(owners('asked.docker'), [`docker:${asked}`]);
      assert.deepEqual(owners('other.docker'), [`docker:${other}`]);
      assert.deepEqual(owners('no-id.docker'), [`docker:${noId}`]);
      fake.replace(new Map([[other, fake.documents.get(other)]]));
      await waitUntil('asked.docker and no-id.docker to go', async () => registry.size === 1, 5000, 5);
      assert.deepEqual(owners('other.docker'), [`docker:${other}`]);
    } finally {
      await watcher.stop();
    }
  });

  it('never a throw that escapes; every instance belongs to a listed container and resolves; a container left out is a log line naming it; nothing is left behind', async (t) => {
    const counted = { containers: 0, published: 0, unreadable: 0 };
    await fc.assert(
      fc.asyncProperty(containerBatch, fc.boolean(), fc.constantFrom<string[]>([], ['192.0.2.53']), async (batch, dnsdockNames, hostAddresses) => {
        fake.documents = batch;
        const { registry, lines, watcher, firstSync } = watch(publishSettings(dnsdockNames, hostAddresses));
        try {
          await firstSync;
          const owners = new Set([...batch.keys()].map((id) => `docker:${id}`));
          counted.containers += batch.size;
          counted.published += registry.size;
          const unreadable = lines.filter((line) => line.msg === 'cannot read container; skipping it');
          counted.unreadable += unreadable.length;
          // An operator reading the log learns which part of the document is wrong, not a TypeError from inside seamark.
          for (const line of unreadable) assert.match(String(line.err), /^(inspect field \S+|the inspect document) /, `unreadable container ${String(line.container)}: ${String(line.err)}`);
          for (const instance of registry.all()) {
            assert.ok(owners.has(instance.owner), `instance ${instance.owner} belongs to no listed container`);
            assert.ok(instance.names.length > 0 && instance.addresses.length > 0, `${instance.owner} has no name or no address`);
            for (const address of instance.addresses) assert.equal(canonicalAddress(address), address, `${instance.owner}: address ${address} is not canonical`);
            for (const name of instance.names) {
              assert.equal(invalidName(name), undefined, `${instance.owner}: ${name} ${invalidName(name)}`);
              const response = [...(lookup(registry, zoneSettings, name, RRType.A)?.answers ?? []), ...(lookup(registry, zoneSettings, name, RRType.AAAA)?.answers ?? [])];
              const addresses = new Set(response.map((record) => ('address' in record ? record.address : '')));
              assert.ok(addresses.size > 0, `${name} (${instance.owner}) does not resolve`);
              if (instance.healthy) for (const address of instance.addresses) assert.ok(addresses.has(address), `${name} does not answer ${address} of ${instance.owner}`);
            }
            for (const name of srvNames(instance)) {
              const srv = lookup(registry, zoneSettings, name, RRType.SRV)?.answers ?? [];
              assert.ok(srv.length > 0, `SRV ${name} (${instance.owner}) does not resolve`);
            }
          }
          for (const [id, document] of batch) {
            if (registry.get(`docker:${id}`) !== undefined) continue;
            const running = (document as { State?: { Running?: unknown } } | null)?.State?.Running === true;
            const name = (document as { Name?: unknown } | null)?.Name;
            const labels = [id.slice(0, 12), typeof name === 'string' ? name.replace(/^\//, '') : id.slice(0, 12)];
            if (running) assert.ok(lines.some((line) => labels.includes(line.container as string)), `container ${id.slice(0, 12)} is not published, and no log line says why`);
          }

          // Every container goes away (destroy events): nothing of them stays served.
          fake.replace(new Map());
          await waitUntil('the registry to be empty', async () => registry.size === 0, 5000, 5).catch((error: Error) => {
            throw new Error(`${error.message}: still holds ${[...registry.all()].map((i) => i.owner).join(', ')}`);
          });
        } finally {
          await watcher.stop();
        }
      }),
      runs(200),
    );
    t.diagnostic(`seed ${SEED}: ${counted.containers} containers, ${counted.published} published, ${counted.unreadable} unreadable documents logged`);
  });
});
