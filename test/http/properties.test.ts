// Property-based fuzzing (fast-check) of the HTTP API on the real app: random
// bodies, ids and names, well-formed or not, never get a 5xx, and afterwards
// the store, /v1/records, /v1/names and /v1/axfr agree.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { buildTestApi } from './app.js';
import { nameOfLength } from '../properties/arbitraries.js';

type Api = Awaited<ReturnType<typeof buildTestApi>>;

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
/** Mostly plausible names, sometimes anything at all. */
const name = fc.oneof(label, fc.tuple(label, label).map(([a, b]) => `${a}.${b}`), fc.string({ maxLength: 300 }), fc.constantFrom('docker', 'ns', 'a..b', '-x', '*.docker', 'UPPER.docker.'));
const address = fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 70 }), fc.constantFrom('::ffff:10.0.0.1', '10.0.0.256', ''));
const id = fc.oneof(label, fc.string({ minLength: 1, maxLength: 140 }));
const recordBody = fc.record(
  {
    names: fc.array(name, { maxLength: 5 }),
    addresses: fc.array(address, { maxLength: 5 }),
    ttl: fc.oneof(fc.integer({ min: -5, max: 2 ** 31 + 5 }), fc.string()),
    srv: fc.array(fc.record({ service: fc.oneof(label, fc.string()), protocol: fc.constantFrom('tcp', 'udp', 'sctp', ''), port: fc.integer({ min: -1, max: 70000 }) }, { requiredKeys: [] }), { maxLength: 3 }),
    lease: fc.integer({ min: -1, max: 400 * 86400 }),
    check: fc.record({ tcp: fc.string(), http: fc.string(), interval: fc.double(), rise: fc.integer(), fall: fc.integer() }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);
const serviceBody = fc.record(
  { Name: fc.oneof(label, fc.string()), image: fc.oneof(label, fc.string()), IPs: fc.oneof(fc.array(address, { maxLength: 3 }), fc.constant(null)), ip: address, TTL: fc.integer({ min: -2, max: 100 }), aliases: fc.oneof(fc.array(name, { maxLength: 3 }), fc.constant(null)) },
  { requiredKeys: [] },
);
/** Any JSON at all, for the shape checks. */
const anyBody = fc.oneof(recordBody, serviceBody, fc.jsonValue());

describe('HTTP API properties (fast-check)', () => {
  let api: Api;
  before(async () => {
    api = await buildTestApi();
    // Known records, so the agreement check below never runs on an empty store when random writes all fail.
    for (const [key, host, ip] of [['seed-a', 'seed-a', '10.77.0.1'], ['seed-b', 'seed-b.lan.example', 'fd00::77']]) {
      const reply = await api.app.inject({ method: 'PUT', url: `/v1/records/${key}`, payload: { names: [host], addresses: [ip] } });
      assert.equal(reply.statusCode, 201, reply.body);
    }
  });
  after(async () => {
    api.manual.stop();
    await api.app.close();
  });

  it('answers every write, read and lookup with a status below 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('PUT /v1/records/', 'PATCH /v1/records/', 'PUT /services/', 'PATCH /services/', 'DELETE /v1/records/', 'GET /v1/hosts/', 'GET /v1/services/', 'GET /v1/lookup?name='),
        id,
        anyBody,
        async (route, key, body) => {
          const [method, path] = route.split(' ') as [string, string];
          const url = path + encodeURIComponent(key);
          const reply = await api.app.inject({ method: method as 'GET', url, ...(method === 'PUT' || method === 'PATCH' ? { payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
          assert.ok(reply.statusCode < 500, `${method} ${url} ${JSON.stringify(body)} → ${reply.statusCode} ${reply.body}`);
          if (reply.statusCode >= 400) assert.equal(typeof reply.json().message, 'string');
        },
      ),
      { numRuns: 600 },
    );
  });

  it('a record whose SRV name would be longer than a DNS name can be is refused, naming the srv entry; nothing is stored', async () => {
    // 240 + ".docker" fits in 253 octets; "_postgres._tcp." in front of it does not.
    const reply = await api.app.inject({ method: 'PUT', url: '/v1/records/long-srv', payload: { names: [nameOfLength(240)], addresses: ['10.77.0.9'], srv: [{ service: 'postgres', protocol: 'tcp', port: 5432 }] } });
    assert.equal(reply.statusCode, 400, reply.body);
    assert.match(reply.json().message, /srv\[0\].*_postgres\._tcp\..*262 characters.*253/);
    assert.equal((await api.app.inject({ method: 'GET', url: '/v1/records/long-srv' })).statusCode, 404);
  });

  it('afterwards the store, /v1/records, /v1/names and /v1/axfr agree', async () => {
    const records = (await api.app.inject({ method: 'GET', url: '/v1/records' })).json() as { id: string; names: string[]; addresses: string[] }[];
    assert.deepEqual(records.map((r) => r.id).sort(), api.manual.list().map((r) => r.id).sort());
    const names = (await api.app.inject({ method: 'GET', url: '/v1/names?source=manual' })).json() as { name: string; type: string; addresses?: string[] }[];
    const axfr = (await api.app.inject({ method: 'GET', url: '/v1/axfr' })).json();
    for (const record of records) {
      for (const recordName of record.names) {
        const served = names.filter((entry) => entry.name === recordName && (entry.type === 'A' || entry.type === 'AAAA')).flatMap((entry) => entry.addresses ?? []);
        for (const addr of record.addresses) {
          assert.ok(served.includes(addr), `${recordName} ${addr} is stored but not in /v1/names`);
          const inAxfr = [...(axfr.Records.As[`${recordName}.`] ?? []), ...(axfr.Records.AAAAs[`${recordName}.`] ?? [])];
          assert.ok(inAxfr.includes(addr), `${recordName} ${addr} is stored but not in /v1/axfr`);
        }
      }
    }
    const storedNames = new Set(records.flatMap((r) => r.names));
    for (const entry of names) if (entry.type !== 'SRV') assert.ok(storedNames.has(entry.name), `/v1/names serves ${entry.name}, which no record holds`);
  });
});
