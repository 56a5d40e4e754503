// Random `docker inspect` documents for the property tests: mostly plausible
// (the shapes a daemon writes, with awkward names, labels, networks, IPv6,
// health states and huge label values), some with parts missing, null or of
// the wrong type, and a few that are any JSON at all.
import fc from 'fast-check';
import { nameLike } from './arbitraries.js';

/** A value of the wrong kind where a document holds something else. */
const junk = fc.oneof(fc.constantFrom(null, 0, 17, -1, true, '', 'x', [], {}), fc.jsonValue({ maxDepth: 2 }));

/** `plausible` most of the time (`weight` to 3), sometimes missing (undefined: JSON leaves the key out), null or junk. */
function odd<T>(plausible: fc.Arbitrary<T>, weight = 40): fc.Arbitrary<T | unknown> {
  return fc.oneof({ weight, arbitrary: plausible }, { weight: 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: junk });
}

const nameList = fc.oneof(nameLike, fc.array(nameLike, { minLength: 2, maxLength: 3 }).map((names) => names.join(',')));
const hugeValue = fc.constantFrom('h'.repeat(100_000), `${'a,'.repeat(5000)}b`, 'x.'.repeat(20_000));

const labelKey = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(
    'seamark.name', 'seamark.enable', 'seamark.ignore', 'seamark.ttl', 'seamark.network', 'seamark.srv.http', 'seamark.srv.', 'seamark.cluster-addresses',
    'com.dnsdock.name', 'com.dnsdock.image', 'com.dnsdock.alias', 'com.dnsdock.environment', 'com.dnsdock.ttl', 'com.dnsdock.ip_addr', 'com.dnsdock.ignore',
    'com.docker.compose.service', 'com.docker.compose.project', 'SERVICE_NAME', 'SERVICE_TAGS', 'SERVICE_80_NAME', 'SERVICE_0_NAME', 'SERVICE_443_IGNORE',
  ) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);
const labelValue = (key: string): fc.Arbitrary<unknown> => {
  const plausible: Record<string, fc.Arbitrary<string>> = {
    'seamark.enable': fc.constantFrom('true', 'false', 'TRUE', 'yes', '0', ''),
    'seamark.ignore': fc.constantFrom('true', 'false', ''),
    'seamark.ttl': fc.constantFrom('0', '30', '2147483647', '2147483648', '-1', '1.5', 'soon', ''),
    'com.dnsdock.ttl': fc.constantFrom('60', 'x'),
    'seamark.network': fc.constantFrom('bridge', 'back', 'back,front', 'missing', ''),
    'seamark.srv.http': fc.constantFrom('80/tcp', '8080', '53/udp', '0/tcp', '70000/tcp', 'http', ''),
    'com.dnsdock.ip_addr': fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('10.0.0.256', 'not-an-ip', '192.0.2.9,junk', '')),
    'com.dnsdock.ignore': fc.constantFrom('', ' ', '1'),
  };
  return fc.oneof({ weight: 30, arbitrary: (Object.hasOwn(plausible, key) ? plausible[key] : undefined) ?? nameList }, { weight: 1, arbitrary: hugeValue }, { weight: 1, arbitrary: junk });
};
const labels = fc.uniqueArray(labelKey, { maxLength: 6 }).chain((keys) => fc.tuple(...keys.map(labelValue)).map((values) => Object.fromEntries(keys.map((key, i) => [key, values[i]]))));

const envEntry = fc.oneof(
  { weight: 20, arbitrary: fc.tuple(fc.constantFrom('DNSDOCK_NAME', 'DNSDOCK_IMAGE', 'DNSDOCK_ALIAS', 'SERVICE_NAME', 'SERVICE_TAGS', 'SERVICE_53_UDP_NAME', 'PATH', 'HOME'), nameList).map(([k, v]) => `${k}=${v}`) },
  { weight: 1, arbitrary: fc.constantFrom('', '=x', 'NOEQUALS', 'A==b') },
  { weight: 1, arbitrary: junk },
);
const portKey = fc.constantFrom('80/tcp', '53/udp', '8080', '443/sctp', '65535/tcp', '0/tcp', '99999/tcp', 'abc', '', ' 22/TCP ');
const binding = odd(fc.record({ HostIp: fc.constantFrom('0.0.0.0', '::', ''), HostPort: fc.constantFrom('8080', '0', '', 'x', '65536') }));

const network = fc.record({
  IPAddress: odd(fc.oneof({ weight: 8, arbitrary: fc.ipV4() }, { weight: 1, arbitrary: fc.constantFrom('', '10.0.0.256', 'not-an-ip', '::1', '010.000.000.001') })),
  GlobalIPv6Address: odd(fc.oneof(fc.constant(''), fc.ipV6(), fc.constantFrom('fd00::1', '::ffff:10.1.2.3', 'FD00:0:0:0:0:0:0:2', 'fe80::1%eth0'))),
  Aliases: odd(fc.array(nameLike, { maxLength: 3 })),
  EndpointID: fc.stringMatching(/^[0-9a-f]{0,8}$/),
});

const health = odd(fc.record({ Status: odd(fc.constantFrom('healthy', 'unhealthy', 'starting', 'none', '')) }), 6);

/** One inspect document of the container `id` (which the document's own Id may contradict). */
export function inspectDocument(id: string): fc.Arbitrary<unknown> {
  const plausible = fc.record(
    {
      Id: fc.oneof({ weight: 10, arbitrary: fc.constant(id) }, { weight: 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant('f'.repeat(64)) }, { weight: 1, arbitrary: junk }),
      Name: odd(fc.oneof({ weight: 4, arbitrary: nameLike.map((name) => `/${name}`) }, { weight: 1, arbitrary: nameLike })),
      Config: odd(fc.record({
        Image: odd(fc.oneof(nameLike, fc.constantFrom('nginx:1.27', 'registry.example:5000/team/app:1.2@sha256:abc', 'busybox'))),
        Labels: odd(labels),
        Env: odd(fc.array(envEntry, { maxLength: 5 })),
        ExposedPorts: odd(fc.dictionary(portKey, fc.constant({}), { maxKeys: 4 })),
      })),
      State: odd(fc.record({
        Running: fc.oneof({ weight: 20, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constantFrom(false, 'true', null, 1) }),
        Paused: fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constantFrom(true, null, 'yes') }),
        Health: health,
      })),
      HostConfig: odd(fc.record({ NetworkMode: odd(fc.oneof({ weight: 6, arbitrary: fc.constantFrom('bridge', 'default', 'back') }, { weight: 1, arbitrary: fc.constantFrom('host', 'none', 'container:0123456789ab') })) })),
      NetworkSettings: odd(fc.record({
        Networks: odd(fc.dictionary(fc.constantFrom('bridge', 'back', 'front', 'odd net'), odd(network, 10), { minKeys: 1, maxKeys: 3 })),
        Ports: odd(fc.dictionary(portKey, odd(fc.array(binding, { maxLength: 2 })), { maxKeys: 3 })),
      })),
    },
  );
  return fc.oneof({ weight: 30, arbitrary: plausible }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) });
}

/** A few containers: distinct 64-hex ids, each with its document. */
export const containerBatch: fc.Arbitrary<Map<string, unknown>> = fc
  .uniqueArray(fc.stringMatching(/^[0-9a-f]{64}$/), { minLength: 1, maxLength: 6 })
  .chain((ids) => fc.tuple(...ids.map(inspectDocument)).map((documents) => new Map(ids.map((id, i) => [id, documents[i]]))));
