// The answer cache never serves what the zone view would no longer give:
// random registry changes interleaved with random queries, each asked of a
// server with the cache and of one without it (`answerCacheSize: 0`) over one
// registry. The replies are the same bytes but for the order of the records
// in a section (rotation); the SOA serial included.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BlockList } from 'node:net';
import dns2 from 'dns2';
import fc from 'fast-check';
import pino from 'pino';
import { DnsServer } from '../../src/dns/server.js';
import type { Instance } from '../../src/registry/instance.js';
import { reverseName } from '../../src/registry/names.js';
import { Registry } from '../../src/registry/registry.js';
import { buildQuery, sendRaw } from '../helpers/raw.js';
import { freePort } from '../helpers/seamark.js';
import { runs } from './arbitraries.js';

const zone = { zones: ['docker'], ttl: 30, negativeTtl: 5, failOpen: true, serialBase: 1000 };
const addresses = ['10.0.0.1', '10.0.0.2', '10.0.0.3', 'fd00::1', 'fd00::2'];
// Names that share labels, an empty non-terminal (b.c.docker above a.b.c.docker), the name server's own name.
const hostNames = ['web.docker', 'api.docker', 'a.b.c.docker', 'c.docker', 'ns.docker', 'db.docker'];
const srvOwners = hostNames.map((name) => `_http._tcp.${name}`);
const askedNames = [...hostNames, ...srvOwners, 'docker', 'b.c.docker', 'missing.docker', '_tcp.web.docker', ...addresses.map(reverseName)];
const types = [1, 28, 33, 255, 16, 6, 2, 12];

const instance: fc.Arbitrary<Instance> = fc.record({
  owner: fc.constantFrom('manual:1', 'manual:2', 'manual:3', 'manual:4'),
  source: fc.constant('manual' as const),
  names: fc.uniqueArray(fc.constantFrom(...hostNames), { minLength: 1, maxLength: 2 }),
  // SRV owners list the first name as the target, with its addresses (any instance's) in the additional section.
  addresses: fc.uniqueArray(fc.constantFrom(...addresses), { minLength: 1, maxLength: 3 }),
  srv: fc.constantFrom([], [{ service: 'http', protocol: 'tcp', port: 80, priority: 0, weight: 0 }]),
  healthy: fc.boolean(),
  ttl: fc.constantFrom(undefined, 60),
});

type Step = { kind: 'upsert'; instance: Instance } | { kind: 'remove'; owner: string } | { kind: 'query'; name: string; type: number; edns: boolean; upper: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 2, arbitrary: instance.map((i) => ({ kind: 'upsert' as const, instance: i })) },
  { weight: 1, arbitrary: fc.constantFrom('manual:1', 'manual:2', 'manual:3', 'manual:4').map((owner) => ({ kind: 'remove' as const, owner })) },
  {
    weight: 8,
    arbitrary: fc.record({ kind: fc.constant('query' as const), name: fc.oneof(fc.constantFrom(...askedNames), fc.constantFrom(...srvOwners)), type: fc.oneof(fc.constantFrom(...types), fc.constant(33)), edns: fc.boolean(), upper: fc.boolean() }),
  },
);

function query(name: string, type: number, edns: boolean, upper: boolean): Buffer {
  const plain = buildQuery(upper ? name.toUpperCase() : name, type);
  if (!edns) return plain;
  plain.writeUInt16BE(1, 10);
  // OPT: root, type 41, payload 1232, no flags, no options.
  return Buffer.concat([plain, Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0])]);
}

/** The reply with each section's records in one order: what rotation may change. */
function normalised(reply: Buffer): string {
  const packet = dns2.Packet.parse(reply) as unknown as Record<string, unknown[]>;
  const sorted = (records: unknown[] | undefined) => (records ?? []).map((record) => JSON.stringify(record)).sort();
  return JSON.stringify({ header: reply.subarray(0, 12).toString('hex'), length: reply.length, answers: sorted(packet.answers), authorities: sorted(packet.authorities), additionals: sorted(packet.additionals) });
}

describe('answer cache under random changes (fast-check)', { timeout: 120_000 }, () => {
  const registry = new Registry();
  const log = pino({ level: 'silent' });
  let cached: DnsServer;
  let uncached: DnsServer;
  let cachedPort: number;
  let uncachedPort: number;
  const server = (port: number, answerCacheSize: number) =>
    new DnsServer({
      listen: [{ address: '127.0.0.1', port, family: 4 }],
      registry,
      zone,
      forwardAllow: new BlockList(),
      axfrAllow: new BlockList(),
      udpPayloadMax: 1232,
      tcpIdleTimeoutMs: 10_000,
      answerCacheSize,
      answerCacheBytes: 4 * 1024 * 1024,
      chaos: {},
      log,
    });
  before(async () => {
    cachedPort = await freePort();
    uncachedPort = await freePort();
    cached = server(cachedPort, 1000);
    uncached = server(uncachedPort, 0);
    await cached.start();
    await uncached.start();
  });
  after(async () => {
    await cached.stop();
    await uncached.stop();
  });

  /** From an empty registry, each change made and each query asked of both servers: the same answers. */
  const replay = async (steps: Step[]) => {
    for (const owner of ['manual:1', 'manual:2', 'manual:3', 'manual:4']) registry.remove(owner);
    for (const s of steps) {
      if (s.kind === 'upsert') registry.upsert(s.instance);
      else if (s.kind === 'remove') registry.remove(s.owner);
      else {
        const message = query(s.name, s.type, s.edns, s.upper);
        // Asked twice of the cached server: the second answer comes from the cache when the first was stored.
        const first = await sendRaw(cachedPort, message);
        const second = await sendRaw(cachedPort, message);
        const expected = await sendRaw(uncachedPort, message);
        assert.ok(first !== undefined && second !== undefined && expected !== undefined, `${s.name} ${s.type}: no reply`);
        assert.equal(normalised(first), normalised(expected), `${s.name} ${s.type}, first asking`);
        assert.equal(normalised(second), normalised(expected), `${s.name} ${s.type}, from the cache`);
      }
    }
  };

  it('gives the same answer as a server without the cache, after every change', async () => {
    await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 10, maxLength: 60 }), replay), runs(40));
    assert.ok(cached.answerCacheHits > 100, `${cached.answerCacheHits} answers came from the cache`);
  });

  it('gives the same answer as a server without the cache with wildcards (RFC 4592), aliases and TXT in play', async () => {
    // Wildcards at the apex and below c.docker, names under and between them, aliases into and out of the zone.
    const names = ['web.docker', '*.docker', '*.c.docker', 'a.b.c.docker', 'x.c.docker', 'db.docker'];
    const targets = ['web.docker', 'x.c.docker', 'q.c.docker', 'p.q.docker', 'db.docker', 'out.example'];
    const asked = ['web.docker', 'db.docker', 'x.c.docker', 'q.c.docker', 'y.x.c.docker', 'b.c.docker', 'z.b.c.docker', 'q.docker', 'p.q.docker', '*.c.docker', 'c.docker'];
    const owners = ['manual:1', 'manual:2', 'manual:3', 'manual:4'];
    const plain = fc.record({
      owner: fc.constantFrom(...owners),
      source: fc.constant('manual' as const),
      names: fc.uniqueArray(fc.constantFrom(...names), { minLength: 1, maxLength: 2 }),
      addresses: fc.uniqueArray(fc.constantFrom(...addresses), { minLength: 1, maxLength: 2 }),
      srv: fc.constant([]),
      healthy: fc.boolean(),
      txt: fc.constantFrom(undefined, ['one'], ['one', 'two']),
    });
    const alias = fc.record({
      owner: fc.constantFrom(...owners),
      source: fc.constant('manual' as const),
      names: fc.uniqueArray(fc.constantFrom(...names), { minLength: 1, maxLength: 1 }),
      addresses: fc.constant([]),
      srv: fc.constant([]),
      healthy: fc.constant(true),
      cname: fc.constantFrom(...targets),
    });
    const steps = fc.oneof(
      { weight: 2, arbitrary: fc.oneof(plain, alias).map((i): Step => ({ kind: 'upsert', instance: i as Instance })) },
      { weight: 1, arbitrary: fc.constantFrom(...owners).map((owner): Step => ({ kind: 'remove', owner })) },
      { weight: 8, arbitrary: fc.record({ kind: fc.constant('query' as const), name: fc.constantFrom(...asked), type: fc.constantFrom(1, 28, 16, 5, 255, 15), edns: fc.boolean(), upper: fc.boolean() }) },
    );
    const hitsBefore = cached.answerCacheHits;
    await fc.assert(fc.asyncProperty(fc.array(steps, { minLength: 10, maxLength: 60 }), replay), runs(40));
    assert.ok(cached.answerCacheHits - hitsBefore > 100, `${cached.answerCacheHits - hitsBefore} answers came from the cache`);
  });

  it('drops an SRV answer when another instance of its target name changes the additional section', async () => {
    const srv = [{ service: 'http', protocol: 'tcp', port: 80, priority: 0, weight: 0 }];
    registry.upsert({ owner: 'manual:1', source: 'manual', names: ['web.docker'], addresses: ['10.0.0.1'], srv, healthy: true });
    const message = query('_http._tcp.web.docker', 33, true, false);
    await sendRaw(cachedPort, message);
    const before = await sendRaw(cachedPort, message);
    // An instance without SRV takes the target's name: only the SRV answer's additional section changes.
    registry.upsert({ owner: 'manual:2', source: 'manual', names: ['web.docker'], addresses: ['10.0.0.2'], srv: [], healthy: true });
    const after = await sendRaw(cachedPort, message);
    const expected = await sendRaw(uncachedPort, message);
    assert.ok(before !== undefined && after !== undefined && expected !== undefined);
    assert.notEqual(normalised(before), normalised(expected));
    assert.equal(normalised(after), normalised(expected));
  });
});
