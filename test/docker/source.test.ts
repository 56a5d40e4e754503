// The Docker source against a real engine: containers started with the
// docker CLI, answers read with dig and Node's resolver from the real seamark.
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { dig } from '../helpers/dig.js';
import { seamarkForSuite } from '../helpers/seamark.js';
import { addressesOf, containerAddresses, describeWithDocker, docker, runContainer, sameSet, seamarkResolver, waitUntil } from './engine.js';

describeWithDocker('Docker source against a real engine', 'src', { timeout: 240000 }, (prefix) => {
  const seamark = seamarkForSuite({ config: { zones: ['docker'], dockerReconcile: 60, http: 'off' }, waitFor: 'Docker containers synced' });
  let resolver: ReturnType<typeof seamarkResolver>;
  const name = (suffix: string) => `${prefix}${suffix}`;
  const fqdn = (suffix: string) => `${prefix}${suffix}.docker`;
  const resolvesTo = (host: string, expected: string[], family: 4 | 6 = 4) =>
    waitUntil(`${host} → ${expected.join(',') || 'nothing'}`, async () => sameSet(await addressesOf(resolver, host, family), expected));

  before(() => {
    resolver = seamarkResolver(seamark.dnsPort);
  });

  it('answers a new container within milliseconds of docker run, and NXDOMAIN after docker stop', async () => {
    const id = await runContainer(name('web'));
    const returned = performance.now();
    let answer: string[] = [];
    await waitUntil('web to resolve', async () => (answer = await addressesOf(resolver, fqdn('web'))).length > 0, 10000, 2);
    const latencyMs = performance.now() - returned;
    console.log(`docker run → resolvable: ${latencyMs.toFixed(1)} ms`);
    assert.deepEqual(answer, await containerAddresses(id));
    assert.ok(latencyMs < 2000, `took ${latencyMs} ms (the goal is 200 ms)`);

    await docker('stop', '-t', '0', id);
    const stopped = performance.now();
    await waitUntil('web to be gone', async () => (await dig(seamark.dnsPort, fqdn('web'))).status === 'NXDOMAIN', 10000, 5);
    console.log(`docker stop → NXDOMAIN: ${(performance.now() - stopped).toFixed(1)} ms`);
  });

  it('answers every replica of a Compose service under <service>.<project>', async () => {
    const compose = (n: number) => ['--label', 'com.docker.compose.service=api', '--label', `com.docker.compose.project=${prefix}shop`, '--label', `com.docker.compose.container-number=${n}`];
    const one = await runContainer(name('shop-api-1'), compose(1));
    const two = await runContainer(name('shop-api-2'), compose(2));
    const all = [...(await containerAddresses(one)), ...(await containerAddresses(two))];
    await resolvesTo(`api.${prefix}shop.docker`, all);
    const reply = await dig(seamark.dnsPort, `api.${prefix}shop.docker`);
    assert.equal(reply.answer.length, 2);
  });

  it('pausing one replica leaves it out of the answers until unpaused', async () => {
    const labels = ['--label', `seamark.name=${prefix}pool`];
    const one = await runContainer(name('pool-1'), labels);
    const two = await runContainer(name('pool-2'), labels);
    const [a] = await containerAddresses(one);
    const [b] = await containerAddresses(two);
    await resolvesTo(fqdn('pool'), [a!, b!]);
    await docker('pause', one);
    await resolvesTo(fqdn('pool'), [b!]);
    await docker('unpause', one);
    await resolvesTo(fqdn('pool'), [a!, b!]);
  });

  it('publishes network aliases, both networks, and a network connected after start', async () => {
    await docker('network', 'create', name('front'));
    await docker('network', 'create', name('back'));
    const id = await runContainer(name('db'), ['--network', name('front'), '--network-alias', `${prefix}primary`]);
    await resolvesTo(fqdn('primary'), await containerAddresses(id));
    await docker('network', 'connect', '--alias', `${prefix}backdb`, name('back'), id);
    const both = await containerAddresses(id);
    assert.equal(both.length, 2);
    const connectedAt = performance.now();
    await resolvesTo(fqdn('db'), both);
    console.log(`docker network connect → new address served: ${(performance.now() - connectedAt).toFixed(1)} ms`);
    await resolvesTo(fqdn('backdb'), both);
    await docker('network', 'disconnect', name('front'), id);
    await resolvesTo(fqdn('db'), await containerAddresses(id));
    await resolvesTo(fqdn('primary'), []);
  });

  it('serves IPv6 addresses on a network created with --ipv6', async () => {
    const subnet = `fd00:5ea:${Math.floor(Math.random() * 0xffff).toString(16)}::/64`;
    await docker('network', 'create', '--ipv6', '--subnet', subnet, name('v6'));
    const id = await runContainer(name('six'), ['--network', name('v6')]);
    const v6 = await docker('inspect', '--format', '{{range .NetworkSettings.Networks}}{{.GlobalIPv6Address}}{{end}}', id);
    assert.ok(v6.startsWith('fd00:5ea:'), `expected an IPv6 address, got "${v6}"`);
    await resolvesTo(fqdn('six'), [v6], 6);
    const v4 = (await containerAddresses(id)).filter((a) => !a.includes(':'));
    await resolvesTo(fqdn('six'), v4, 4);
    const ptr = await dig(seamark.dnsPort, '-x', v6);
    assert.equal(ptr.answer[0]?.data, `${fqdn('six')}.`);
  });

  it('follows a rename', async () => {
    const id = await runContainer(name('old'));
    await resolvesTo(fqdn('old'), await containerAddresses(id));
    await docker('rename', id, name('new'));
    await resolvesTo(fqdn('new'), await containerAddresses(id));
    await resolvesTo(fqdn('old'), []);
  });

  it('honours seamark labels: names, TTL, named SRV ports, exposed ports, PTR', async () => {
    const id = await runContainer(name('labelled'), [
      '--label', `seamark.name=${prefix}alt,${prefix}other.docker`,
      '--label', 'seamark.ttl=7',
      '--label', 'seamark.srv.http=8080/tcp',
      '--expose', '9000',
    ]);
    const addresses = await containerAddresses(id);
    await resolvesTo(fqdn('alt'), addresses);
    await resolvesTo(fqdn('other'), addresses);
    const a = await dig(seamark.dnsPort, fqdn('labelled'));
    assert.equal(a.answer[0]?.ttl, 7);
    const named = await dig(seamark.dnsPort, `_http._tcp.${fqdn('alt')}`, 'SRV');
    assert.equal(named.answer[0]?.data, `0 0 8080 ${fqdn('labelled')}.`);
    assert.ok(named.additional.some((r) => r.type === 'A' && r.data === addresses[0]));
    const exposed = await dig(seamark.dnsPort, `_9000._tcp.${fqdn('labelled')}`, 'SRV');
    assert.equal(exposed.answer[0]?.data, `0 0 9000 ${fqdn('labelled')}.`);
    const ptr = await dig(seamark.dnsPort, '-x', addresses[0]!);
    assert.equal(ptr.answer[0]?.data, `${fqdn('labelled')}.`);
  });

  it('maps DNSDock and registrator labels and env to the names those tools published', async () => {
    const dnsdock = await runContainer(name('dd'), ['--label', `com.dnsdock.alias=${prefix}ddalias`, '--label', `com.dnsdock.image=${prefix}img`]);
    const dnsdockEnv = await runContainer(name('dde'), ['-e', `DNSDOCK_NAME=${prefix}front`, '-e', 'DNSDOCK_IMAGE=proxy', '-e', 'DNSDOCK_TTL=9']);
    const registrator = await runContainer(name('reg'), ['-e', `SERVICE_NAME=${prefix}billing`, '-e', 'SERVICE_TAGS=blue', '-e', `SERVICE_8080_NAME=${prefix}admin`, '--expose', '8080']);
    await resolvesTo(fqdn('ddalias'), await containerAddresses(dnsdock));
    await resolvesTo(`${prefix}dd.${prefix}img.docker`, await containerAddresses(dnsdock));
    await resolvesTo(`${prefix}front.proxy.docker`, await containerAddresses(dnsdockEnv));
    assert.equal((await dig(seamark.dnsPort, `${prefix}front.proxy.docker`)).answer[0]?.ttl, 9);
    await resolvesTo(fqdn('billing'), await containerAddresses(registrator));
    await resolvesTo(`blue.${fqdn('billing')}`, await containerAddresses(registrator));
    await resolvesTo(fqdn('admin'), await containerAddresses(registrator));
    const srv = await dig(seamark.dnsPort, `_${prefix}admin._tcp.${fqdn('reg')}`, 'SRV');
    assert.equal(srv.answer[0]?.data, `0 0 8080 ${fqdn('reg')}.`);
  });

  it('leaves out ignored containers, and host-network or network-less containers disturb nothing', async () => {
    await runContainer(name('ign1'), ['--label', 'seamark.ignore=true']);
    await runContainer(name('ign2'), ['--label', 'com.dnsdock.ignore=1']);
    await runContainer(name('ign3'), ['-e', 'SERVICE_IGNORE=1']);
    await runContainer(name('hostnet'), ['--network', 'host']);
    await runContainer(name('nonet'), ['--network', 'none']);
    const marker = await runContainer(name('marker'));
    await resolvesTo(fqdn('marker'), await containerAddresses(marker));
    for (const ignored of ['ign1', 'ign2', 'ign3', 'hostnet', 'nonet']) {
      assert.equal((await dig(seamark.dnsPort, fqdn(ignored))).status, 'NXDOMAIN', `${ignored} should not be served`);
    }
    assert.equal(seamark.process.exitCode, null, 'seamark is still running');
    assert.ok(seamark.logs.some((l) => String(l.msg).includes(`${prefix}hostnet not published`)), 'the host-network container is named in a log line');
  });

  it('drops a container whose HEALTHCHECK fails and keeps one that passes; fails open when all are unhealthy', async () => {
    const health = (command: string) => ['--health-cmd', command, '--health-interval', '1s', '--health-retries', '1', '--health-timeout', '2s'];
    const good = await runContainer(name('hc-good'), ['--label', `seamark.name=${prefix}hc`, ...health('true')]);
    const bad = await runContainer(name('hc-bad'), ['--label', `seamark.name=${prefix}hc`, ...health('false')]);
    await waitUntil('hc-bad to be unhealthy', async () => (await docker('inspect', '--format', '{{.State.Health.Status}}', bad)) === 'unhealthy', 30000, 200);
    await resolvesTo(fqdn('hc'), await containerAddresses(good));
    // Alone under its own name, the unhealthy container still answers (fail open).
    await resolvesTo(fqdn('hc-bad'), await containerAddresses(bad));
    assert.deepEqual(await addressesOf(resolver, fqdn('hc-good')), await containerAddresses(good));
  });
});
