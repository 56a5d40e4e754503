// docker-compose.yml as users run it (README "Running seamark"): validated by Compose, then brought up with the
// test image, DNS published on a test address, and answering for the containers of this host.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { docker, skipLoudly, testPrefix, waitUntil } from '../docker/engine.js';
import { dig } from '../helpers/dig.js';
import { freePort } from '../helpers/seamark.js';
import { api, imageUnavailable, ROOT, SEAMARK_IMAGE, socketGroup } from './image.js';

const run = promisify(execFile);
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');

/** `docker compose` when the plugin is there, else Debian's `docker-compose`. */
function composeCommand(): string[] | undefined {
  for (const command of [['docker', 'compose'], ['docker-compose']]) {
    try {
      execFileSync(command[0] as string, [...command.slice(1), 'version'], { stdio: 'pipe' });
      return command;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

const compose = composeCommand();
const unavailable = imageUnavailable() ?? (compose === undefined ? 'neither `docker compose` nor `docker-compose` is installed' : undefined);
if (unavailable !== undefined) skipLoudly(unavailable);

const project = testPrefix('compose').replace(/-$/, '').replace(/[^a-z0-9]/g, '');
const token = 'compose-test-token';
const settings: NodeJS.ProcessEnv = { SEAMARK_IMAGE, SEAMARK_TOKEN: token, SEAMARK_DNS_ADDRESS: '127.0.0.1' };

async function runCompose(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [command, ...rest] = compose as string[];
  try {
    const { stdout, stderr } = await run(command as string, [...rest, '--project-name', project, '--file', COMPOSE_FILE, ...args], {
      env: { ...process.env, ...env },
      timeout: 180000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

describe('docker-compose.yml', { skip: unavailable, timeout: 300000 }, () => {
  before(async () => {
    settings.SEAMARK_DNS_PORT = String(await freePort());
    settings.SEAMARK_HTTP_PORT = String(await freePort());
    settings.DOCKER_GID = socketGroup();
  });

  after(async () => {
    await runCompose(settings, 'down', '--volumes', '--timeout', '5');
  });

  it('is valid, and refuses to start without an API token', async () => {
    const valid = await runCompose(settings, 'config', '--quiet');
    assert.equal(valid.code, 0, valid.stderr);
    const noToken = await runCompose({ ...settings, SEAMARK_TOKEN: '' }, 'config', '--quiet');
    assert.notEqual(noToken.code, 0);
    assert.match(noToken.stderr, /set SEAMARK_TOKEN/);
  });

  it('comes up with the image and serves this host\'s containers and hand-made records on the published DNS address', async () => {
    const up = await runCompose(settings, 'up', '--detach', '--no-build');
    assert.equal(up.code, 0, up.stderr);
    const httpPort = Number(settings.SEAMARK_HTTP_PORT);
    const dnsPort = Number(settings.SEAMARK_DNS_PORT);
    await waitUntil('seamark from compose to be ready', async () => (await api(httpPort, token, 'GET', '/readyz')).status === 200, 30000, 200);

    const container = (await runCompose(settings, 'ps', '--quiet', 'seamark')).stdout.trim();
    const address = await docker('inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', container);
    const serviceName = `seamark.${project}.docker`;
    await waitUntil(`${serviceName} to answer`, async () => (await dig(dnsPort, serviceName, 'A')).answer.some((r) => r.data === address), 10000, 100);
    const overTcp = await dig(dnsPort, '+tcp', serviceName, 'A');
    assert.deepEqual(overTcp.answer.map((r) => r.data), [address], 'DNS is published over TCP too');

    assert.equal((await api(httpPort, 'wrong', 'PUT', '/v1/records/nas', { names: ['nas'], addresses: ['192.0.2.60'] })).status, 401);
    const created = await api(httpPort, token, 'PUT', '/v1/records/nas', { names: ['nas'], addresses: ['192.0.2.60'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual((await dig(dnsPort, 'nas.docker', 'A')).answer.map((r) => r.data), ['192.0.2.60']);
    assert.equal(await docker('inspect', '--format', '{{.HostConfig.ReadonlyRootfs}}', container), 'true');
  });
});
