// Containers built to be awkward, against the real engine: ports out of
// range, names at the zone apex, a misplaced wildcard, junk addresses, and one container
// with 65535 exposed ports and 40 names. None may poison the answers, and a
// reconcile of an unchanged host changes nothing and never stops DNS.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { after, before, it } from 'node:test';
import { promisify } from 'node:util';
import { dig } from '../helpers/dig.js';
import { seamarkForSuite } from '../helpers/seamark.js';
import {
  addressesOf, containerAddresses, describeWithDocker, DockerSocketProxy, runContainer, sameSet, seamarkResolver, waitForDockerPs, waitUntil,
} from './engine.js';

const run = promisify(execFile);
// Opt-in mode: containers of other test runs on the same engine change nothing here.
const ENABLE = ['--label', 'seamark.enable=true'];

describeWithDocker('awkward containers', 'odd', { timeout: 300000 }, (prefix) => {
  const proxy = new DockerSocketProxy();
  const seamark = seamarkForSuite(async () => {
    await proxy.open();
    return { config: { zones: ['docker'], publishAll: false, dockerReconcile: 1, docker: `unix://${proxy.path}` }, waitFor: 'Docker containers synced' };
  });
  let resolver: ReturnType<typeof seamarkResolver>;
  const resolvesTo = (host: string, expected: string[]) =>
    waitUntil(`${host} → ${expected.join(',') || 'nothing'}`, async () => sameSet(await addressesOf(resolver, host), expected));
  const warningAbout = (container: string, pattern: RegExp) =>
    waitUntil(`a warning naming ${container}`, async () =>
      seamark.logs.some((l) => l.level === 40 && String(l.msg).includes(`container ${container}`) && pattern.test(((l.problems as string[] | undefined) ?? []).join('; '))), 10000, 50);

  before(() => {
    resolver = seamarkResolver(seamark.dnsPort);
  });
  after(() => proxy.cut());

  it('registrator ports outside 1–65535 are refused with a warning; SRV queries and AXFR keep answering', async () => {
    const id = await runContainer(`${prefix}ports`, [...ENABLE, '-e', 'SERVICE_99999_NAME=big', '-e', 'SERVICE_0_NAME=zero', '-e', `SERVICE_8080_NAME=${prefix}admin`, '--expose', '8080']);
    await resolvesTo(`${prefix}ports.docker`, await containerAddresses(id));
    await warningAbout(`${prefix}ports`, /SERVICE_99999_NAME: port 99999 is outside 1–65535/);
    await warningAbout(`${prefix}ports`, /SERVICE_0_NAME: port 0 is outside 1–65535/);
    assert.equal((await dig(seamark.dnsPort, `_big._tcp.${prefix}ports.docker`, 'SRV')).status, 'NXDOMAIN');
    assert.equal((await dig(seamark.dnsPort, `_zero._tcp.${prefix}ports.docker`, 'SRV')).status, 'NXDOMAIN');
    assert.equal((await dig(seamark.dnsPort, `_${prefix}admin._tcp.${prefix}ports.docker`, 'SRV')).answer[0]?.data, `0 0 8080 ${prefix}ports.docker.`);
    const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(seamark.dnsPort), '+tcp', '+time=5', 'docker', 'AXFR'], { timeout: 20000 });
    assert.match(stdout, new RegExp(`^${prefix}ports\\.docker\\.\\s.*\\sA\\s`, 'm'), stdout);
    assert.match(stdout, /XFR size: \d+ records/, 'the transfer completed');
  });

  it('names equal to the zone are refused; Compose and registrator parts are relative names', async () => {
    const apex = await runContainer(`${prefix}apex`, [...ENABLE, '-e', 'SERVICE_NAME=docker', '--label', 'seamark.name=docker']);
    const composed = await runContainer(`${prefix}cw`, [...ENABLE, '--label', `com.docker.compose.service=${prefix}web`, '--label', 'com.docker.compose.project=docker']);
    const web = await runContainer(`${prefix}web`, ENABLE);
    await resolvesTo(`${prefix}web.docker.docker`, await containerAddresses(composed));
    await resolvesTo(`${prefix}web.docker`, await containerAddresses(web));
    await resolvesTo(`${prefix}apex.docker`, await containerAddresses(apex));
    await warningAbout(`${prefix}apex`, /"docker" is the zone itself/);
    const atApex = await dig(seamark.dnsPort, 'docker', 'A');
    assert.equal(atApex.status, 'NOERROR');
    assert.deepEqual(atApex.answer.filter((r) => r.type === 'A'), [], 'nothing answers A at the zone apex');
    assert.equal((await dig(seamark.dnsPort, 'docker.docker', 'A')).answer[0]?.data, (await containerAddresses(apex))[0], 'SERVICE_NAME=docker is docker.docker');
  });

  it('a * inside a name, junk in com.dnsdock.ip_addr and --network container:X are named in the log', async () => {
    const wild = await runContainer(`${prefix}wild`, [...ENABLE, '--label', `seamark.name=a.*.${prefix}wild`]);
    await resolvesTo(`${prefix}wild.docker`, await containerAddresses(wild));
    await warningAbout(`${prefix}wild`, /has a "\*" that is not the whole leftmost label/);
    await runContainer(`${prefix}ip`, [...ENABLE, '--label', 'com.dnsdock.ip_addr=10.9.9.9,junk', '--label', 'com.dnsdock.image=img']);
    await resolvesTo(`${prefix}ip.img.docker`, ['10.9.9.9']);
    await warningAbout(`${prefix}ip`, /"junk" is not an IP address/);
    await runContainer(`${prefix}side`, [...ENABLE, '--network', `container:${prefix}wild`]);
    await waitUntil('the log to say side shares wild\'s network', async () =>
      seamark.logs.some((l) => String(l.msg).includes(`${prefix}side not published`) && String(l.msg).includes(`shares the network of container ${wild.slice(0, 12)}`)), 10000, 50);
  });

  it('one container with 65535 ports and 40 names is capped with a warning; reconciles change nothing and DNS answers throughout', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `${prefix}n${i + 1}`).join(',');
    const giant = await runContainer(`${prefix}giant`, [...ENABLE, '--expose', '1-65535', '--label', `seamark.name=${names}`]);
    const [address] = await containerAddresses(giant);
    await resolvesTo(`${prefix}giant.docker`, [address!]);
    await warningAbout(`${prefix}giant`, /41 names; only the first 32 are served \(dockerMaxNames\)/);
    await warningAbout(`${prefix}giant`, /65535 ports; SRV records are served for 100 of them.*\(dockerMaxPorts\)/);
    await waitForDockerPs(seamark.httpPort, `${prefix}giant`);

    // While three reconciles run (each list answered 300 ms late, so they last), ask for the container again and again: every query is answered.
    proxy.failMatching(/^GET \/containers\/json/, { delayResponseMs: 300 });
    const serial = async () => (await dig(seamark.dnsPort, 'docker', 'SOA')).answer[0]?.data.split(' ')[2];
    const serialBefore = await serial();
    const reconciles = () => seamark.logs.filter((l) => l.msg === 'Docker containers synced' && l.why === 'reconcile').length;
    const target = reconciles() + 3;
    const answeredAt: number[] = [];
    // A generous time limit: a stalled server misses it by seconds, a busy machine does not.
    const queryResolver = new Resolver({ timeout: 5000, tries: 1 });
    queryResolver.setServers([`127.0.0.1:${seamark.dnsPort}`]);
    while (reconciles() < target) {
      assert.deepEqual(await addressesOf(queryResolver, `${prefix}n7.docker`), [address]);
      answeredAt.push(Date.now());
    }
    // Answers arrived while reconciles were running, not only between them.
    const windows: [number, number][] = [];
    let openedAt: number | undefined;
    for (const line of seamark.logs) {
      if (line.msg === 'Docker sync started' && line.why === 'reconcile') openedAt = line.time as number;
      if (line.msg === 'Docker containers synced' && line.why === 'reconcile' && openedAt !== undefined) windows.push([openedAt, line.time as number]);
    }
    const during = answeredAt.filter((t) => windows.some(([from, to]) => t > from && t < to)).length;
    console.log(JSON.stringify(seamark.logs.filter((l) => l.why === "reconcile" && l.msg === "Docker containers synced").slice(-3).map((l) => [l.containers, l.inspected, l.ms])));
    console.log(`${answeredAt.length} answers over 3 reconciles, ${during} of them while a reconcile ran; reconciles took ${windows.slice(-3).map(([a, b]) => b - a).join(', ')} ms`);
    assert.ok(during > 0, 'DNS answered while a reconcile ran');
    assert.equal(await serial(), serialBefore, 'a reconcile of unchanged containers changes nothing (the SOA serial stays)');
    assert.ok(seamark.logs.filter((l) => l.msg === 'Docker containers synced' && l.why === 'reconcile').slice(-3).every((l) => l.changes === 0));
    const response = await fetch(`http://127.0.0.1:${seamark.httpPort}/v1/names`);
    assert.equal(response.status, 200);
    const srv = ((await response.json()) as { type: string; owner: string }[]).filter((e) => e.type === 'SRV' && e.owner === `docker:${giant}`);
    assert.equal(srv.length, 100 * 32, 'SRV for 100 ports under each of 32 names');
  });
});
