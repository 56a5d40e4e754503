// Never stale: dockerd restarts under a running seamark while the set of
// containers changes around it; afterwards seamark's zone equals `docker ps`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startSeamark, type RunningSeamark } from '../helpers/seamark.js';
import {
  addressesOf, containerAddresses, docker, DockerSocketProxy, dockerUnavailable, hostDisturbanceRefused, removeByPrefix, runContainer, sameSet, seamarkResolver, skipLoudly, startDockerd, testPrefix, waitUntil,
} from './engine.js';

const run = promisify(execFile);
const refused = hostDisturbanceRefused();
if (refused !== undefined) console.log(`SKIPPING the dockerd restart test: ${refused}`);
const unavailable = refused ?? dockerUnavailable();
if (refused === undefined && unavailable !== undefined) skipLoudly(unavailable);
const prefix = testPrefix('rst');
const DOCKERD_LOG = '/tmp/seamark-test-dockerd.log';

/** Every A/AAAA record of the zone, by AXFR: name → sorted addresses (ns.docker left out). */
async function zoneAddresses(port: number): Promise<Map<string, string[]>> {
  const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), '+tcp', '+noall', '+answer', 'docker', 'AXFR'], { timeout: 20000 });
  const zone = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    const [name = '', , , type, data = ''] = line.split(/\s+/);
    if ((type !== 'A' && type !== 'AAAA') || name === 'ns.docker.') continue;
    zone.set(name, [...(zone.get(name) ?? []), data].sort());
  }
  return zone;
}

/** What `docker ps` says should be served: `<container-name>.docker.` → its addresses. */
async function dockerPicture(): Promise<Map<string, string[]>> {
  const picture = new Map<string, string[]>();
  const names = (await docker('ps', '--format', '{{.Names}}')).split('\n').filter(Boolean);
  for (const name of names) {
    const addresses = await containerAddresses(name);
    if (addresses.length > 0) picture.set(`${name}.docker.`, addresses.sort());
  }
  return picture;
}

function dockerdPid(): number | undefined {
  if (!existsSync('/var/run/docker.pid')) return undefined;
  const pid = Number(readFileSync('/var/run/docker.pid', 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('dockerd restarts under a running seamark', { skip: unavailable, timeout: 240000 }, () => {
  let seamark: RunningSeamark;

  before(async () => {
    await removeByPrefix(prefix);
    seamark = await startSeamark({ config: { zones: ['docker'], http: 'off' }, waitFor: 'Docker containers synced' });
  });
  after(async () => {
    // Whatever happened, leave a running dockerd behind.
    const running = await docker('version', '--format', '{{.Server.Version}}').then(() => true, () => false);
    if (!running) await startDockerd(DOCKERD_LOG);
    await seamark?.stop();
    await removeByPrefix(prefix);
  });

  it('serves the last known containers while the daemon is away, then exactly docker ps after it is back', async () => {
    const resolver = seamarkResolver(seamark.dnsPort);
    const doomed = await runContainer(`${prefix}doomed`);
    const survivor = await runContainer(`${prefix}survivor`, ['--restart', 'always']);
    const removed = await runContainer(`${prefix}removed`, ['--restart', 'always']);
    const doomedAddresses = await containerAddresses(doomed);
    await waitUntil('the containers to resolve', async () => sameSet(await addressesOf(resolver, `${prefix}doomed.docker`), doomedAddresses));
    await waitUntil('survivor and removed to resolve', async () =>
      (await addressesOf(resolver, `${prefix}survivor.docker`)).length > 0 && (await addressesOf(resolver, `${prefix}removed.docker`)).length > 0);

    // Stop the daemon that runs (it was started as `dockerd --iptables=false --ip-masq=false`).
    const pid = dockerdPid();
    assert.ok(pid !== undefined, 'cannot find the dockerd pid in /var/run/docker.pid');
    process.kill(pid, 'SIGTERM');
    await waitUntil('dockerd to exit', async () => !isAlive(pid), 60000, 100);

    // The daemon is away: seamark keeps answering from what it knew.
    assert.deepEqual(await addressesOf(resolver, `${prefix}doomed.docker`), doomedAddresses.sort());
    assert.equal(seamark.process.exitCode, null);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // a few reconnect attempts while it is down

    await startDockerd(DOCKERD_LOG);
    // Change the set as soon as the daemon answers, racing seamark's reconnect.
    await docker('rm', '-f', removed);
    const newcomer = await runContainer(`${prefix}newcomer`);
    await docker('update', '--restart', 'no', survivor);

    let last: { zone: Map<string, string[]>; picture: Map<string, string[]> } | undefined;
    const tookMs = await waitUntil('seamark to equal docker ps', async () => {
      const [zone, picture] = [await zoneAddresses(seamark.dnsPort), await dockerPicture()];
      last = { zone, picture };
      return JSON.stringify([...zone].sort()) === JSON.stringify([...picture].sort());
    }, 60000, 250).catch((error: Error) => {
      throw new Error(`${error.message}\nseamark: ${JSON.stringify([...(last?.zone ?? [])])}\ndocker ps: ${JSON.stringify([...(last?.picture ?? [])])}`);
    });
    console.log(`dockerd back → seamark equals docker ps: ${tookMs.toFixed(0)} ms`);

    assert.equal(seamark.process.exitCode, null, 'seamark was not restarted');
    assert.deepEqual(await addressesOf(resolver, `${prefix}doomed.docker`), [], 'a container that died with the daemon is gone');
    assert.deepEqual(await addressesOf(resolver, `${prefix}removed.docker`), [], 'a container removed after the restart is gone');
    assert.deepEqual(await addressesOf(resolver, `${prefix}newcomer.docker`), (await containerAddresses(newcomer)).sort());
    assert.deepEqual(await addressesOf(resolver, `${prefix}survivor.docker`), (await containerAddresses(survivor)).sort(), 'a restart-always container is back, at its new address');
  });
});

describe('seamark loses sight of the daemon while containers come and go', { skip: unavailable, timeout: 120000 }, () => {
  const blindPrefix = testPrefix('bld');
  const proxy = new DockerSocketProxy();
  let seamark: RunningSeamark;

  before(async () => {
    await removeByPrefix(blindPrefix);
    await proxy.open();
    seamark = await startSeamark({
      config: { zones: ['docker'], http: 'off', docker: `unix://${proxy.path}`, dockerReconcile: 0 },
      waitFor: 'Docker containers synced',
    });
  });
  after(async () => {
    await proxy.cut();
    await seamark?.stop();
    await removeByPrefix(blindPrefix);
  });

  it('on reconnect, containers removed meanwhile disappear and new ones appear', async () => {
    const resolver = seamarkResolver(seamark.dnsPort);
    const leaving = await runContainer(`${blindPrefix}leaving`);
    const staying = await runContainer(`${blindPrefix}staying`);
    await waitUntil('leaving to resolve', async () => (await addressesOf(resolver, `${blindPrefix}leaving.docker`)).length > 0);
    await waitUntil('staying to resolve', async () => (await addressesOf(resolver, `${blindPrefix}staying.docker`)).length > 0);

    await proxy.cut();
    await docker('rm', '-f', leaving);
    const arriving = await runContainer(`${blindPrefix}arriving`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // Blind: still the last known picture, never empty.
    assert.ok((await addressesOf(resolver, `${blindPrefix}leaving.docker`)).length > 0, 'the last known records are kept while blind');
    assert.deepEqual(await addressesOf(resolver, `${blindPrefix}arriving.docker`), []);

    await proxy.open();
    const reopened = performance.now();
    await waitUntil('arriving to resolve', async () => sameSet(await addressesOf(resolver, `${blindPrefix}arriving.docker`), await containerAddresses(arriving)), 20000);
    await waitUntil('leaving to be gone', async () => (await addressesOf(resolver, `${blindPrefix}leaving.docker`)).length === 0, 20000);
    console.log(`Docker visible again → resynced: ${(performance.now() - reopened).toFixed(0)} ms`);
    assert.deepEqual(await addressesOf(resolver, `${blindPrefix}staying.docker`), (await containerAddresses(staying)).sort());
    assert.ok(seamark.logs.some((l) => String(l.msg).startsWith('cannot reach Docker')), 'the outage was logged');
  });
});
