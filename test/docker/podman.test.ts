// seamark on Podman's Docker-compatible API (`podman system service`): containers resolve and follow stop, start
// and rm. Runs where Podman can run a container; elsewhere it is skipped with the reason. Podman's containers join a
// network of this test's own, a plain bridge with no firewall plugin: the host's firewall is left alone.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { promisify } from 'node:util';
import { containerGone } from '../../src/sources/docker/refresh.js';
import { startSeamark, type RunningSeamark } from '../helpers/seamark.js';
import { addressesOf, seamarkResolver, testPrefix, waitUntil } from './engine.js';

const run = promisify(execFile);
const prefix = testPrefix('pod');
const dir = mkdtempSync(join(tmpdir(), 'seamark-podman-'));
const network = prefix.slice(0, -1);
// A bridge name is at most 15 octets; the subnet is picked per run so two runs never share one.
const bridge = `smp${process.pid.toString(36).slice(-6)}`;
const subnet = `10.${200 + (process.pid % 50)}.${process.pid % 250}`;
const socket = join(dir, 'podman.sock');
const IMAGE = 'localhost/seamark-test-busybox:latest';
// Podman raises the open-file and process limits of a container above what an unprivileged runtime may set in some
// sandboxes ("error setting rlimit"); the test's containers ask for little.
const LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

const podman = (...args: string[]) => run('podman', ['--network-config-dir', dir, ...args], { timeout: 60000 }).then((result) => result.stdout.trim());

/** Why Podman cannot be tested here, or undefined when it can (a container of the test image runs). */
async function podmanUnavailable(): Promise<string | undefined> {
  try {
    await run('podman', ['--version'], { timeout: 10000 });
  } catch {
    return 'podman is not installed (Debian: apt install podman)';
  }
  try {
    writeFileSync(
      join(dir, `${network}.conflist`),
      JSON.stringify({
        cniVersion: '0.4.0',
        name: network,
        plugins: [{ type: 'bridge', bridge, isGateway: true, ipMasq: false, ipam: { type: 'host-local', ranges: [[{ subnet: `${subnet}.0/24`, gateway: `${subnet}.1` }]] } }],
      }),
    );
    const root = mkdtempSync(join(dir, 'image-'));
    await run('sh', ['-c', `mkdir -p "${root}/bin" && cp "$(command -v busybox)" "${root}/bin/busybox" && ln -s busybox "${root}/bin/sleep" && tar -C "${root}" -cf "${dir}/image.tar" .`]);
    await podman('import', '--change', 'ENV PATH=/bin', join(dir, 'image.tar'), IMAGE);
    await podman('run', '--rm', '--network', network, ...LIMITS, IMAGE, '/bin/sleep', '0');
    return undefined;
  } catch (error) {
    return `podman cannot run a container here: ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message}`;
  }
}

test("an inspect that Podman answers with 500 'no such container' means the container is gone, as Docker's 404 does", () => {
  // The shape docker-modem gives for Podman's answer to an inspect racing `podman rm`.
  const podmanGone = Object.assign(new Error('(HTTP code 500) server error - no container with name or ID "abc" found: no such container'), {
    statusCode: 500,
    json: { cause: 'no such container', message: 'no container with name or ID "abc" found: no such container', response: 500 },
  });
  assert.equal(containerGone(podmanGone), true);
  assert.equal(containerGone(Object.assign(new Error('(HTTP code 404) no such container'), { statusCode: 404 })), true);
  assert.equal(containerGone(Object.assign(new Error('(HTTP code 500) server error - database is locked'), { statusCode: 500, json: { message: 'database is locked' } })), false);
  assert.equal(containerGone(new Error('socket hang up')), false);
});

const unavailable = await podmanUnavailable();
if (unavailable !== undefined) console.log(`SKIPPING the Podman test: ${unavailable}`);

describe('seamark on Podman', { skip: unavailable, timeout: 180_000 }, () => {
  let service: ChildProcess;
  let seamark: RunningSeamark;
  const web = `${prefix}web`;

  before(async () => {
    service = spawn('podman', ['--network-config-dir', dir, 'system', 'service', '--time=0', `unix://${socket}`], { stdio: 'ignore' });
    await waitUntil('the Podman API socket', async () => existsSync(socket), 20000, 50);
    seamark = await startSeamark({ config: { docker: `unix://${socket}` } });
  });

  after(async () => {
    await seamark?.stop();
    const ids = (await podman('ps', '-aq', '--filter', `name=^${prefix}`).catch(() => '')).split('\n').filter(Boolean);
    if (ids.length > 0) await podman('rm', '-f', '-t', '0', ...ids).catch(() => '');
    service?.kill('SIGTERM');
    await run('ip', ['link', 'del', bridge]).catch(() => undefined);
    rmSync(`/var/lib/cni/networks/${network}`, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a Podman container by name and follows stop, start and rm without a warning', async () => {
    const resolver = seamarkResolver(seamark.dnsPort);
    const id = await podman('run', '-d', '--name', web, '--network', network, ...LIMITS, IMAGE, '/bin/sleep', '3600');
    const address = await podman('inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', web);
    assert.match(address, new RegExp(`^${subnet.replace(/\./g, '\\.')}\\.\\d+$`));
    await waitUntil(`${web}.docker to answer ${address}`, async () => (await addressesOf(resolver, `${web}.docker`)).join() === address);

    await podman('stop', '-t', '0', web);
    await waitUntil(`${web}.docker to go when stopped`, async () => (await addressesOf(resolver, `${web}.docker`)).length === 0);
    await podman('start', web);
    const restarted = await podman('inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', web);
    await waitUntil(`${web}.docker to come back`, async () => (await addressesOf(resolver, `${web}.docker`)).join() === restarted);

    await podman('rm', '-f', '-t', '0', web);
    await waitUntil(`${web}.docker to go when removed`, async () => (await addressesOf(resolver, `${web}.docker`)).length === 0);
    // Give a late inspect of the removed container its time, then no line may call it a failure.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const complaints = seamark.logs.filter((line) => (line.level as number) >= 40 && [web, id.slice(0, 12)].some((name) => JSON.stringify(line).includes(name)));
    assert.deepEqual(complaints, [], 'no warning about a container Podman removed');
  });
});
