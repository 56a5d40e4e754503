// Property-based tests (fast-check) of the naming rules: the Docker sanitiser
// and the names of a container (README "Names of a container"), and the
// validation of hand-made names (README "Hand-made records"), on arbitrary
// strings. Nothing throws (but a InputError naming the field), every
// name produced is a valid DNS name, the results are deterministic,
// idempotent and ASCII-case-insensitive, and every name survives seamark's
// wire codec.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ContainerFacts } from '../../src/sources/docker/facts.js';
import { containerNames, sanitizeLabel, sanitizeName } from '../../src/sources/docker/naming.js';
import { readWishes } from '../../src/sources/docker/labels.js';
import { publishContainer, type PublishSettings } from '../../src/sources/docker/publish.js';
import { InputError } from '../../src/lib/input-error.js';
import { normalizeFields } from '../../src/sources/manual/record.js';
import { srvNames } from '../../src/registry/registry.js';
import { asciiUpper, invalidName, nameLike, runs, wireRoundTrip } from './arbitraries.js';

/** Served zones as configuration leaves them (normalised): one, several, nested, and one long enough for the 253-octet limit to bite. */
const zonesArb: fc.Arbitrary<readonly string[]> = fc.constantFrom<readonly string[]>(['docker'], ['docker', 'internal'], ['svc.example', 'docker'], ['docker', 'a.docker'], [`${'z'.repeat(63)}.${'y'.repeat(63)}.example`]);

/** Label and environment keys the rules read, and some they do not. */
const labelKey = fc.constantFrom(
  'seamark.name', 'seamark.enable', 'seamark.ttl', 'seamark.srv.http', 'seamark.srv.Ünï', 'seamark.network',
  'com.dnsdock.name', 'com.dnsdock.image', 'com.dnsdock.environment', 'com.dnsdock.alias', 'com.dnsdock.ttl',
  'com.docker.compose.service', 'com.docker.compose.project', 'SERVICE_NAME', 'SERVICE_TAGS', 'SERVICE_8080_NAME', 'SERVICE_99999_NAME', 'other',
);
const envKey = fc.constantFrom('DNSDOCK_NAME', 'DNSDOCK_IMAGE', 'DNSDOCK_ALIAS', 'DNSDOCK_ENVIRONMENT', 'SERVICE_NAME', 'SERVICE_TAGS', 'SERVICE_53_UDP_NAME', 'PATH');
/** A value of a name-bearing setting: one name or a comma-separated list of them. */
const nameList = fc.oneof(nameLike, fc.array(nameLike, { minLength: 2, maxLength: 4 }).map((names) => names.join(',')));

const factsArb: fc.Arbitrary<ContainerFacts> = fc.record({
  id: fc.constant('0123456789ab'),
  name: nameLike,
  image: fc.oneof(nameLike, fc.tuple(nameLike, nameLike).map(([path, tag]) => `registry.example:5000/${path}:${tag}`)),
  labels: fc.dictionary(labelKey, nameList, { maxKeys: 6 }),
  env: fc.dictionary(envKey, nameList, { maxKeys: 4 }),
  networkMode: fc.constant('bridge'),
  networks: fc.array(fc.record({ name: fc.constantFrom('bridge', 'back'), ipv4: fc.ipV4(), aliases: fc.array(nameLike, { maxLength: 3 }) }), { minLength: 1, maxLength: 2 }),
  ports: fc.constant([]),
  running: fc.constant(true),
  paused: fc.constant(false),
});

function settings(zones: readonly string[], dnsdockNames: boolean): PublishSettings {
  return { zones, dnsdockNames, publishAll: true, startingHealthy: true, networks: [], hostAddresses: [], maxPorts: 100, maxNames: 1000 };
}

/** The facts with every name-bearing text ASCII upper-cased (setting keys, network names and addresses left alone). */
function upperCased(facts: ContainerFacts): ContainerFacts {
  const upperValues = (map: Record<string, string>) => Object.fromEntries(Object.entries(map).map(([k, v]) => [k, k === 'seamark.network' ? v : asciiUpper(v)]));
  return {
    ...facts,
    name: asciiUpper(facts.name),
    image: asciiUpper(facts.image),
    labels: upperValues(facts.labels),
    env: upperValues(facts.env),
    networks: facts.networks.map((network) => ({ ...network, aliases: network.aliases.map(asciiUpper) })),
  };
}

/** SRV owner names start their first two labels with "_". */
const SRV_LABELS = /^[a-z0-9_-]+$/;

function assertServable(name: string, zones: readonly string[], allowed?: RegExp): void {
  const problem = invalidName(name, allowed);
  assert.equal(problem, undefined, `${JSON.stringify(name)} ${problem}`);
  assert.ok(zones.some((zone) => name.endsWith(`.${zone}`)), `${name} is outside the zones ${zones.join(', ')}`);
  const wire = wireRoundTrip(name);
  assert.equal(wire.parsed, name, 'seamark\'s codec reads back another name');
  assert.equal(wire.dns2, name, 'dns2 reads back another name');
}

describe('naming rules (fast-check)', () => {
  it('sanitizeLabel and sanitizeName: never throw, give valid labels and names or nothing, idempotent, ASCII-case-insensitive', () => {
    fc.assert(
      fc.property(nameLike, (text) => {
        const label = sanitizeLabel(text);
        if (label !== undefined) {
          assert.equal(invalidName(label), undefined, `${JSON.stringify(text)} → ${JSON.stringify(label)}`);
          assert.ok(!label.includes('.'));
          assert.equal(sanitizeLabel(label), label, 'not idempotent');
        }
        assert.equal(sanitizeLabel(asciiUpper(text)), label, 'depends on ASCII case');

        const name = sanitizeName(text);
        if (name !== undefined) {
          const bare = name.replace(/\.$/, '');
          // The dotted form is only checked per label here: the 253-octet limit applies once qualified.
          for (const part of bare.split('.')) assert.equal(invalidName(part), undefined, `${JSON.stringify(text)} → ${JSON.stringify(name)}`);
          assert.equal(name.endsWith('.'), text.endsWith('.'), 'the trailing dot (absolute name) is kept, and only it');
          assert.equal(sanitizeName(name), name, 'not idempotent');
        }
        assert.equal(sanitizeName(asciiUpper(text)), name, 'depends on ASCII case');
      }),
      runs(3000),
    );
  });

  it('the names of a container: never a throw, every name valid, in a zone, not the apex or ns, unique, deterministic, ASCII-case-insensitive, and read back as itself', () => {
    fc.assert(
      fc.property(factsArb, zonesArb, fc.boolean(), (facts, zones, dnsdockNames) => {
        const wishes = readWishes(facts, dnsdockNames);
        const result = containerNames(facts, wishes, facts.networks, zones);
        assert.equal(new Set(result.names).size, result.names.length, 'a name twice');
        for (const name of result.names) {
          assertServable(name, zones);
          assert.ok(!zones.includes(name), `${name} is a zone apex`);
          assert.ok(!zones.some((zone) => name === `ns.${zone}`), `${name} is the zone's name server, reserved for the apex NS record`);
        }
        assert.deepEqual(containerNames(facts, readWishes(facts, dnsdockNames), facts.networks, zones), result, 'not deterministic');
        const upper = upperCased(facts);
        assert.deepEqual(containerNames(upper, readWishes(upper, dnsdockNames), upper.networks, zones).names, result.names, 'depends on ASCII case');

        const publication = publishContainer(facts, settings(zones, dnsdockNames));
        if ('instance' in publication) {
          assert.deepEqual(publication.instance.names, result.names);
          for (const srv of publication.instance.srv) {
            for (const part of [srv.service, srv.protocol]) assert.equal(invalidName(part), undefined, `SRV label ${JSON.stringify(part)}`);
          }
        }
      }),
      runs(1500),
    );
  });

  it('a name a container is served under, given back as a name (seamark.name=<name>.), is served as itself: the rules are idempotent', () => {
    fc.assert(
      fc.property(factsArb, zonesArb, (facts, zones) => {
        for (const name of containerNames(facts, readWishes(facts), facts.networks, zones).names) {
          const again: ContainerFacts = { ...facts, name: '', labels: { 'seamark.name': `${name}.` }, env: {}, networks: [{ name: 'bridge', ipv4: '10.0.0.1', aliases: [] }] };
          assert.deepEqual(containerNames(again, readWishes(again), again.networks, zones).names, [name]);
        }
      }),
      runs(500),
    );
  });

  it('hand-made names: a valid name (or a InputError naming the field), in a zone, not the apex or ns, deterministic, idempotent, ASCII-case-insensitive, read back as itself', () => {
    const outcome = (names: string[], zones: readonly string[]): { names: string[] } | { field: string } => {
      try {
        return { names: normalizeFields({ names, addresses: ['192.0.2.1'], srv: [] }, zones).names };
      } catch (error) {
        assert.ok(error instanceof InputError, `${JSON.stringify(names)} threw ${String(error)}`);
        assert.match(error.message, /\S/);
        return { field: error.field };
      }
    };
    fc.assert(
      fc.property(fc.array(nameLike, { minLength: 1, maxLength: 3 }), zonesArb, (names, zones) => {
        const result = outcome(names, zones);
        assert.deepEqual(outcome(names, zones), result, 'not deterministic');
        assert.deepEqual(outcome(names.map(asciiUpper), zones), result, 'depends on ASCII case');
        if ('field' in result) {
          assert.match(result.field, /^names\[\d\]$/);
          return;
        }
        for (const name of result.names) {
          // Hand-made names may hold "_" (README: a name is checked, not rewritten).
          assertServable(name, zones, /^[a-z0-9_-]+$/);
          assert.ok(!zones.includes(name) && !zones.some((zone) => name === `ns.${zone}`), `${name} is reserved`);
        }
        assert.deepEqual(outcome(result.names, zones), result, 'not idempotent');
      }),
      runs(3000),
    );
  });

  it('SRV owner names: every one served is a valid name; one that would be too long is not served, and the container\'s log line says so', () => {
    fc.assert(
      fc.property(factsArb, zonesArb, (facts, zones) => {
        const withPorts: ContainerFacts = { ...facts, ports: [{ port: 80, protocol: 'tcp' }], labels: { ...facts.labels, 'seamark.srv.a-long-port-name-for-the-service': '8443/tcp' } };
        const publication = publishContainer(withPorts, settings(zones, false));
        if (!('instance' in publication)) return;
        const { instance } = publication;
        for (const name of srvNames(instance)) assert.equal(invalidName(name, SRV_LABELS), undefined, `SRV owner ${name} (${name.length} octets) ${invalidName(name, SRV_LABELS)}`);
        for (const srv of instance.srv) {
          for (const host of instance.names) {
            const owner = `_${srv.service}._${srv.protocol}.${host}`;
            // A wildcard name has no SRV records of its own (README "Naming rules"): its container's are under its other names.
            if (host.startsWith('*.')) assert.ok(!srvNames(instance).has(owner), `${owner} is served under a wildcard`);
            else if (owner.length > 253) assert.ok(publication.problems.some((problem) => problem.includes(owner)), `${owner} is left out without a word`);
            else assert.ok(srvNames(instance).has(owner), `${owner} fits, and is not served`);
          }
        }
      }),
      runs(1000),
    );
  });

  it('hand-made SRV entries: every SRV owner name is valid, or the write is refused naming the srv entry', () => {
    fc.assert(
      fc.property(fc.array(nameLike, { minLength: 1, maxLength: 2 }), zonesArb, fc.constantFrom('http', 'postgres', 'a-long-port-name-for-the-service'), (names, zones, service) => {
        let fields;
        try {
          fields = normalizeFields({ names, addresses: ['192.0.2.1'], srv: [{ service, protocol: 'tcp', port: 80, priority: 0, weight: 0 }] }, zones);
        } catch (error) {
          assert.ok(error instanceof InputError, String(error));
          assert.match(error.field, /^(names|srv)\[\d\]$/);
          if (error.field.startsWith('srv')) assert.match(error.reason, /253|wildcard/);
          return;
        }
        for (const host of fields.names.filter((name) => !name.startsWith('*.'))) {
          const owner = `_${service}._tcp.${host}`;
          assert.equal(invalidName(owner, SRV_LABELS), undefined, `record accepted with SRV owner ${owner} (${owner.length} octets)`);
        }
      }),
      runs(2000),
    );
  });

  it('a port name or protocol of 63 characters still makes SRV labels of at most 63 octets with their underscore', () => {
    const facts: ContainerFacts = {
      id: '0123456789ab', name: 'web', image: 'nginx', labels: { [`seamark.srv.${'p'.repeat(63)}`]: '8080/tcp' }, env: {}, networkMode: 'bridge',
      networks: [{ name: 'bridge', ipv4: '10.0.0.1', aliases: [] }], ports: [{ port: 80, protocol: 'q'.repeat(63) }], running: true, paused: false,
    };
    const publication = publishContainer(facts, settings(['docker'], false));
    assert.ok('instance' in publication);
    const owners = [...srvNames(publication.instance)];
    assert.equal(owners.length, 2);
    for (const name of owners) assert.equal(invalidName(name, SRV_LABELS), undefined, `${name}: ${invalidName(name, SRV_LABELS)}`);
  });
});
