// End to end with random hand-made records: the real seamark command takes
// random writes over HTTP (valid or not, ids from a small pool so they
// collide), answers none of them 5xx, and afterwards /v1/records, /v1/names
// and DNS (Node's resolver on seamark's port) agree; after a kill -9 and a
// restart from the same data directory the stored records are the same and
// DNS still agrees.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { startSeamark, type RunningSeamark } from '../helpers/seamark.js';
import { nameLike, runs, SEED } from './arbitraries.js';
import { assertDnsAgrees, seamarkResolver, servedNames } from './dns-agreement.js';

const zones = ['docker', 'internal'];
const config = { zones, docker: 'off' };

const plainName = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?(\.(docker|internal))?$/);
const anyAddress = fc.oneof({ weight: 6, arbitrary: fc.oneof(fc.ipV4(), fc.ipV6()) }, { weight: 1, arbitrary: fc.constantFrom('::ffff:10.0.0.1', '10.0.0.256', 'fe80::1%eth0', '', 'x') });
const srv = fc.record({ service: fc.constantFrom('http', 'postgres', 'a-long-port-name-for-the-service', '_bad', ''), protocol: fc.constantFrom('tcp', 'udp', 'TCP'), port: fc.integer({ min: 0, max: 70000 }) });
// No health checks or leases: their timers would change the picture while it is compared.
const validBody = fc.record({
  names: fc.array(fc.oneof({ weight: 8, arbitrary: plainName }, { weight: 1, arbitrary: nameLike }), { minLength: 1, maxLength: 3 }),
  addresses: fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { minLength: 1, maxLength: 3 }),
  srv: fc.array(fc.record({ service: fc.constantFrom('http', 'postgres'), protocol: fc.constantFrom('tcp', 'udp'), port: fc.integer({ min: 1, max: 65535 }) }), { maxLength: 2 }),
});
const anyBody = fc.record(
  { names: fc.array(fc.oneof(plainName, nameLike), { maxLength: 4 }), addresses: fc.array(anyAddress, { maxLength: 4 }), ttl: fc.integer({ min: -1, max: 86400 }), srv: fc.array(srv, { maxLength: 2 }) },
  { requiredKeys: [] },
);
const body = fc.oneof({ weight: 3, arbitrary: validBody }, { weight: 2, arbitrary: anyBody });
const write = fc.tuple(fc.constantFrom('PUT', 'PUT', 'PATCH', 'DELETE', 'POST'), fc.constantFrom('r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8'), body);

interface StoredRecord {
  id: string;
  names: string[];
  addresses: string[];
}

describe('hand-made records: /v1/records, /v1/names and DNS agree after random writes (fast-check, end to end)', { timeout: 180000 }, () => {
  let seamark: RunningSeamark;
  before(async () => {
    seamark = await startSeamark({ config });
  });
  after(async () => {
    await seamark?.stop();
  });

  const records = async (): Promise<StoredRecord[]> => {
    const response = await fetch(`http://127.0.0.1:${seamark.httpPort}/v1/records`);
    assert.equal(response.status, 200);
    return ((await response.json()) as StoredRecord[]).sort((a, b) => a.id.localeCompare(b.id));
  };

  /** Every stored name and address is in /v1/names, /v1/names holds nothing else, and DNS answers what /v1/names lists. */
  async function assertAgreement(stored: StoredRecord[]): Promise<number> {
    const served = await servedNames(seamark.httpPort, 'manual');
    for (const record of stored) {
      for (const name of record.names) {
        const listed = served.filter((entry) => entry.name === name && entry.owner === `manual:${record.id}` && entry.type !== 'SRV').flatMap((entry) => entry.addresses);
        assert.deepEqual(listed.sort(), [...record.addresses].sort(), `record ${record.id}: ${name} in /v1/names`);
      }
    }
    const owners = new Set(stored.map((record) => `manual:${record.id}`));
    for (const entry of served) assert.ok(owners.has(entry.owner), `/v1/names serves ${entry.name} for ${entry.owner}, which is not stored`);
    return assertDnsAgrees(seamarkResolver(seamark.dnsPort), served);
  }

  it('no write is answered 5xx, and afterwards, and after kill -9 and a restart, the records, /v1/names and DNS agree', async (t) => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(write, async ([method, id, fields]) => {
        const url = `http://127.0.0.1:${seamark.httpPort}/v1/records${method === 'POST' ? '' : `/${id}`}`;
        const response = await fetch(url, { method, ...(method === 'DELETE' ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(fields) }) });
        const text = await response.text();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        assert.ok(response.status < 500, `${method} ${url} ${JSON.stringify(fields)} → ${response.status} ${text}`);
        if (response.status >= 400) assert.equal(typeof (JSON.parse(text) as { message?: unknown }).message, 'string');
      }),
      { ...runs(300), endOnFailure: true },
    );
    const before = await records();
    assert.ok(before.length > 0, 'no write succeeded: the agreement below would be empty');
    const asked = await assertAgreement(before);

    // Every acknowledged write is on disk: a crash loses none of them.
    await seamark.stop('SIGKILL');
    seamark = await startSeamark({ config, dataDir: seamark.dataDir });
    assert.deepEqual(await records(), before, 'the records after a restart differ from those acknowledged');
    await assertAgreement(before);
    t.diagnostic(`seed ${SEED}: 300 writes (${[...statuses].sort().map(([status, n]) => `${n}×${status}`).join(', ')}), ${before.length} records, ${asked} names compared over DNS`);
  });
});
