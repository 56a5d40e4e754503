// Unit tests of the Docker naming, address and SRV rules on plain container facts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dockerOptions } from '../../src/config/docker-endpoint.js';
import type { ContainerFacts } from '../../src/sources/docker/facts.js';
import { factsFromInspect } from '../../src/sources/docker/facts.js';
import { imageBaseName } from '../../src/sources/docker/labels.js';
import { sanitizeLabel, sanitizeName } from '../../src/sources/docker/naming.js';
import { publishContainer, type PublishSettings } from '../../src/sources/docker/publish.js';

const settings: PublishSettings = { zones: ['docker'], publishAll: true, startingHealthy: true, networks: [], hostAddresses: [], maxPorts: 100, maxNames: 32 };

function container(overrides: Partial<ContainerFacts> = {}): ContainerFacts {
  return {
    id: 'abc123',
    name: 'web',
    image: 'nginx:1.27',
    labels: {},
    env: {},
    networkMode: 'bridge',
    networks: [{ name: 'bridge', ipv4: '172.17.0.2', aliases: [] }],
    ports: [],
    running: true,
    paused: false,
    ...overrides,
  };
}

function published(facts: ContainerFacts, with_: Partial<PublishSettings> = {}) {
  const result = publishContainer(facts, { ...settings, ...with_ });
  if (!('instance' in result)) throw new Error(`not published: ${result.skipped}`);
  return result.instance;
}

function skipped(facts: ContainerFacts, with_: Partial<PublishSettings> = {}): string {
  const result = publishContainer(facts, { ...settings, ...with_ });
  assert.ok('skipped' in result, 'expected the container to be skipped');
  return result.skipped;
}

describe('sanitising to RFC 1123 labels', () => {
  it('lower-cases and replaces runs of other characters by one hyphen', () => {
    assert.equal(sanitizeLabel('My_App__1'), 'my-app-1');
    assert.equal(sanitizeLabel('-x-'), 'x');
    assert.equal(sanitizeLabel('___'), undefined);
    assert.equal(sanitizeLabel('a'.repeat(80)), 'a'.repeat(63));
  });
  it('keeps dots as label separators and drops empty labels', () => {
    assert.equal(sanitizeName('api.v2..Stack'), 'api.v2.stack');
    assert.equal(sanitizeName('x.docker.'), 'x.docker.');
  });
});

describe('container names', () => {
  it('serves <container-name>.<zone> first, as the host name', () => {
    assert.deepEqual(published(container({ name: 'Web_1' })).names, ['web-1.docker']);
  });
  it('adds the Compose <service>.<project> name', () => {
    const facts = container({ name: 'shop-api-1', labels: { 'com.docker.compose.service': 'api', 'com.docker.compose.project': 'shop' } });
    assert.deepEqual(published(facts).names, ['shop-api-1.docker', 'api.shop.docker']);
  });
  it('adds every network alias on the published networks', () => {
    const facts = container({ networks: [{ name: 'back', ipv4: '10.1.0.2', aliases: ['db', 'Primary.DB'] }] });
    assert.deepEqual(published(facts).names, ['web.docker', 'db.docker', 'primary.db.docker']);
  });
  it('adds seamark.name names, relative or in a served zone, and drops names outside the zones', () => {
    const facts = container({ labels: { 'seamark.name': 'a, b.internal, c.other.' } });
    const result = publishContainer(facts, { ...settings, zones: ['docker', 'internal'] });
    assert.ok('instance' in result);
    assert.deepEqual(result.instance.names, ['web.docker', 'a.docker', 'b.internal']);
    assert.match(result.problems.join(), /"c\.other\."  *is outside the served zones/);
  });
  it('maps DNSDock labels and env to <name>.<image>.<zone> and aliases', () => {
    assert.deepEqual(published(container({ labels: { 'com.dnsdock.alias': 'www,old.site' } })).names, [
      'web.docker', 'www.docker', 'old.site.docker', 'web.nginx.docker',
    ]);
    assert.deepEqual(published(container({ env: { DNSDOCK_NAME: 'front', DNSDOCK_IMAGE: 'proxy' } })).names, ['web.docker', 'front.proxy.docker']);
    assert.deepEqual(published(container({ labels: { 'com.dnsdock.ip_addr': '192.0.2.7' } })).addresses, ['192.0.2.7']);
    assert.equal(published(container({ env: { DNSDOCK_TTL: '7' } })).ttl, 7);
    assert.equal(imageBaseName('registry.example:5000/team/app:1.2'), 'app');
  });
  it('maps registrator SERVICE_NAME, SERVICE_TAGS and SERVICE_<port>_NAME', () => {
    const facts = container({
      env: { SERVICE_NAME: 'shop', SERVICE_TAGS: 'blue,v2', SERVICE_8080_NAME: 'admin', SERVICE_9000_IGNORE: '1' },
      ports: [{ port: 80, protocol: 'tcp' }, { port: 8080, protocol: 'tcp' }, { port: 9000, protocol: 'tcp' }],
    });
    const instance = published(facts);
    assert.deepEqual(instance.names, ['web.docker', 'shop.docker', 'blue.shop.docker', 'v2.shop.docker', 'admin.docker', 'blue.admin.docker', 'v2.admin.docker']);
    assert.deepEqual(instance.srv.map((s) => `_${s.service}._${s.protocol}:${s.port}`), ['_admin._tcp:8080', '_80._tcp:80']);
  });
  it('refuses registrator ports outside 1–65535, with a problem naming the setting', () => {
    const result = publishContainer(container({ env: { SERVICE_99999_NAME: 'big', SERVICE_0_NAME: 'zero', SERVICE_70000_IGNORE: '1', SERVICE_443_NAME: 'https' } }), settings);
    assert.ok('instance' in result);
    assert.deepEqual(result.instance.srv.map((s) => `_${s.service}._${s.protocol}:${s.port}`), ['_https._tcp:443']);
    assert.deepEqual(result.instance.names, ['web.docker', 'https.docker']);
    assert.match(result.problems.join('\n'), /SERVICE_99999_NAME: port 99999 is outside 1–65535/);
    assert.match(result.problems.join('\n'), /SERVICE_0_NAME: port 0 is outside 1–65535/);
    assert.match(result.problems.join('\n'), /SERVICE_70000_IGNORE/);
  });
  it('never serves a container at the zone apex; Compose, DNSDock and registrator parts are relative names', () => {
    const result = publishContainer(container({
      labels: { 'seamark.name': 'docker,docker.', 'com.docker.compose.service': 'web', 'com.docker.compose.project': 'docker' },
      env: { SERVICE_NAME: 'docker' },
    }), settings);
    assert.ok('instance' in result);
    assert.deepEqual(result.instance.names, ['web.docker', 'web.docker.docker', 'docker.docker']);
    assert.equal(result.problems.filter((p) => /is the zone itself/.test(p)).length, 2);
    const dnsdock = published(container({ name: 'db', env: { DNSDOCK_IMAGE: 'docker' } }));
    assert.deepEqual(dnsdock.names, ['db.docker', 'db.docker.docker']);
  });
  it('serves a wildcard *.name (sanitised after the *) and refuses a * anywhere else with a problem', () => {
    const result = publishContainer(container({ labels: { 'seamark.name': '*.Wild_App,ok,a.*.b,x*,*' } }), settings);
    assert.ok('instance' in result);
    assert.deepEqual(result.instance.names, ['web.docker', '*.wild-app.docker', 'ok.docker', '*.docker']);
    assert.match(result.problems.join(), /"a\.\*\.b" has a "\*" that is not the whole leftmost label/);
    assert.match(result.problems.join(), /"x\*" has a "\*" that is not the whole leftmost label/);
  });
});

describe('limits per container', () => {
  const everyPort = Array.from({ length: 65535 }, (_, i) => ({ port: i + 1, protocol: 'tcp' }));
  const thirtyNames = Array.from({ length: 30 }, (_, i) => `n${i + 1}`).join(',');
  it('serves SRV for at most maxPorts ports, named ones first, and says so', () => {
    const result = publishContainer(container({ ports: everyPort, labels: { 'seamark.srv.admin': '60000/tcp' } }), settings);
    assert.ok('instance' in result);
    assert.equal(result.instance.srv.length, 100);
    assert.deepEqual(result.instance.srv.slice(0, 3).map((s) => `${s.service}:${s.port}`), ['admin:60000', '1:1', '2:2']);
    assert.match(result.problems.join(), /it has 65535 ports; SRV records are served for 100 of them.*dockerMaxPorts/);
  });
  it('serves at most maxNames names, its own first, and says so', () => {
    const result = publishContainer(container({ labels: { 'seamark.name': thirtyNames } }), { ...settings, maxNames: 10 });
    assert.ok('instance' in result);
    assert.equal(result.instance.names.length, 10);
    assert.equal(result.instance.names[0], 'web.docker');
    assert.match(result.problems.join(), /it has 31 names; only the first 10 are served \(dockerMaxNames\)/);
  });
});

describe('ignoring and opting in', () => {
  it('skips containers that ask to be ignored, by any of the tools', () => {
    assert.match(skipped(container({ labels: { 'seamark.ignore': 'true' } })), /seamark.ignore/);
    assert.match(skipped(container({ labels: { 'com.dnsdock.ignore': '1' } })), /dnsdock/);
    assert.match(skipped(container({ env: { DNSDOCK_IGNORE: '1' } })), /DNSDOCK_IGNORE/);
    assert.match(skipped(container({ env: { SERVICE_IGNORE: 'yes' } })), /SERVICE_IGNORE/);
  });
  it('with publishAll off publishes only seamark.enable=true', () => {
    assert.match(skipped(container(), { publishAll: false }), /seamark.enable/);
    assert.deepEqual(published(container({ labels: { 'seamark.enable': 'true' } }), { publishAll: false }).names, ['web.docker']);
  });
  it('skips stopped containers', () => {
    assert.match(skipped(container({ running: false })), /not running/);
  });
});

describe('addresses', () => {
  const twoNetworks = container({
    networks: [
      { name: 'front', ipv4: '10.1.0.2', ipv6: 'FD00::0002', aliases: ['f'] },
      { name: 'back', ipv4: '10.2.0.2', aliases: ['b'] },
    ],
  });
  it('publishes every IPv4 and IPv6 address on every network, canonical', () => {
    assert.deepEqual(published(twoNetworks).addresses, ['10.1.0.2', 'fd00::2', '10.2.0.2']);
  });
  it('narrows to seamark.network, or else to the global allow-list', () => {
    const labelled = { ...twoNetworks, labels: { 'seamark.network': 'back' } };
    assert.deepEqual(published(labelled).addresses, ['10.2.0.2']);
    assert.deepEqual(published(labelled).names, ['web.docker', 'b.docker']);
    assert.deepEqual(published(twoNetworks, { networks: ['front'] }).addresses, ['10.1.0.2', 'fd00::2']);
    assert.match(skipped(twoNetworks, { networks: ['other'] }), /none of its networks/);
  });
  it('publishes host-network containers at the configured host address, else skips them', () => {
    const host = container({ networkMode: 'host', networks: [{ name: 'host', aliases: [] }] });
    assert.match(skipped(host), /host network/);
    assert.deepEqual(published(host, { hostAddresses: ['192.0.2.1'] }).addresses, ['192.0.2.1']);
  });
  it('skips containers without a network', () => {
    assert.match(skipped(container({ networkMode: 'none', networks: [{ name: 'none', aliases: [] }] })), /no network/);
  });
  it('says a container on --network container:X shares that container\'s network', () => {
    assert.match(skipped(container({ networkMode: 'container:0123456789abcdef', networks: [] })), /shares the network of container 0123456789ab/);
  });
  it('leaves out com.dnsdock.ip_addr entries that are not addresses, with a problem', () => {
    const result = publishContainer(container({ labels: { 'com.dnsdock.ip_addr': '10.9.9.9,junk' } }), settings);
    assert.ok('instance' in result);
    assert.deepEqual(result.instance.addresses, ['10.9.9.9']);
    assert.match(result.problems.join(), /com\.dnsdock\.ip_addr: "junk" is not an IP address/);
  });
});

describe('SRV and health', () => {
  it('offers each exposed port under its number or its label name, and named ports that are not exposed', () => {
    const facts = container({
      ports: [{ port: 80, protocol: 'tcp' }, { port: 53, protocol: 'udp' }],
      labels: { 'seamark.srv.http': '80/tcp', 'seamark.srv.metrics': '9100', 'seamark.srv.bad': 'x' },
    });
    const result = publishContainer(facts, settings);
    assert.ok('instance' in result);
    assert.deepEqual(result.instance.srv.map((s) => `_${s.service}._${s.protocol}:${s.port}`).sort(), ['_53._udp:53', '_http._tcp:80', '_metrics._tcp:9100']);
    assert.match(result.problems.join(), /seamark\.srv\.bad/);
  });
  it('marks unhealthy and paused containers unhealthy; starting as configured', () => {
    assert.equal(published(container({ health: 'unhealthy' })).healthy, false);
    assert.equal(published(container({ paused: true })).healthy, false);
    assert.equal(published(container({ health: 'starting' })).healthy, true);
    assert.equal(published(container({ health: 'starting' }), { startingHealthy: false }).healthy, false);
    assert.equal(published(container({ health: 'healthy' })).healthy, true);
  });
  it('reads a TTL label and reports a bad one', () => {
    assert.equal(published(container({ labels: { 'seamark.ttl': '5' } })).ttl, 5);
    const result = publishContainer(container({ labels: { 'seamark.ttl': 'soon' } }), settings);
    assert.ok('instance' in result && result.instance.ttl === undefined);
    assert.match(result.problems.join(), /TTL/);
  });
});

describe('inspect answers and endpoints', () => {
  it('reads an inspect answer with missing parts without throwing', () => {
    const facts = factsFromInspect('x', { Id: 'x', Name: '/odd', State: { Running: true } } as never);
    assert.equal(facts.name, 'odd');
    assert.deepEqual(facts.networks, []);
    assert.match(skipped(facts), /no network/);
  });
  it('understands unix sockets, paths and tcp endpoints, honouring DOCKER_HOST', () => {
    assert.deepEqual(dockerOptions('', {}), { socketPath: '/var/run/docker.sock' });
    assert.deepEqual(dockerOptions('', { DOCKER_HOST: 'unix:///run/d.sock' }), { socketPath: '/run/d.sock' });
    assert.deepEqual(dockerOptions('/x.sock', { DOCKER_HOST: 'tcp://h:1' }), { socketPath: '/x.sock' });
    assert.deepEqual(dockerOptions('tcp://10.0.0.1:2375', {}), { host: '10.0.0.1', port: 2375, protocol: 'http' });
    assert.equal(dockerOptions('tcp://10.0.0.1:2376', {}).protocol, 'https');
    assert.throws(() => dockerOptions('ftp://x', {}), /not unix/);
  });
});
