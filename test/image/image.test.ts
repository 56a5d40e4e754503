// The container image as users run it (README "Running seamark in a container"): built from the real Dockerfile
// (test/image/build.sh), the socket mounted read-only, DNS and the API published, data on a volume.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { docker, removeByPrefix, runContainer, skipLoudly, testPrefix, waitUntil } from '../docker/engine.js';
import { dig } from '../helpers/dig.js';
import { freePort } from '../helpers/seamark.js';
import { api, imageUnavailable, ROOT, SEAMARK_IMAGE, SOCKET, socketGroup } from './image.js';

const unavailable = imageUnavailable();
if (unavailable !== undefined) skipLoudly(unavailable);

const prefix = testPrefix('image');
const volume = `${prefix}data`;
const seamark = `${prefix}seamark`;
const token = 'image-test-token';
let dnsPort = 0;
let httpPort = 0;

/**
 * The README's own `docker run` line ("Running seamark in a container", by hand), with only what must differ on a
 * test machine changed: this test's names, token and socket group, DNS and the API published on free loopback ports.
 */
function readmeDockerRun(dnsPort: number, httpPort: number): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const command = /^docker run -d --name seamark (?:[^\n]*\\\n)*[^\n]*/m.exec(readme)?.[0];
  assert.ok(command, 'the README shows how to run the image by hand');
  const text = command
    .replace(/\\\n/g, ' ')
    .replace('"$(stat -c %g /var/run/docker.sock)"', socketGroup())
    .replace('"$TOKEN"', token)
    .replace('--name seamark ', `--name ${seamark} `)
    .replace('seamark-data:/data', `${volume}:/data`)
    .replaceAll('172.17.0.1:53:', `127.0.0.1:${dnsPort}:`)
    .replace('127.0.0.1:8080:', `127.0.0.1:${httpPort}:`)
    .replace(/ seamark\s*$/, ` ${SEAMARK_IMAGE}`);
  const args = text.trim().split(/\s+/);
  assert.deepEqual(args.slice(0, 2), ['docker', 'run']);
  assert.equal(args.at(-1), SEAMARK_IMAGE, text);
  for (const needed of ['--read-only', `${SOCKET}:${SOCKET}:ro`, `127.0.0.1:${dnsPort}:53/udp`, `127.0.0.1:${dnsPort}:53/tcp`]) assert.ok(args.includes(needed), `${needed} in: ${text}`);
  return args.slice(1);
}

async function startSeamarkContainer(): Promise<void> {
  await docker(...readmeDockerRun(dnsPort, httpPort));
  await waitUntil('seamark in the container to be ready', async () => (await api(httpPort, token, 'GET', '/readyz')).status === 200, 30000, 200);
}

async function resolvesTo(name: string): Promise<string[]> {
  return (await dig(dnsPort, name, 'A')).answer.filter((record) => record.type === 'A').map((record) => record.data);
}

describe('the seamark image', { skip: unavailable, timeout: 300000 }, () => {
  before(async () => {
    dnsPort = await freePort();
    httpPort = await freePort();
    await startSeamarkContainer();
  });

  after(async () => {
    await removeByPrefix(prefix);
    await docker('volume', 'rm', '-f', volume).catch(() => '');
  });

  it('seamark runs as the non-root user seamark', async () => {
    const uid = await docker('exec', seamark, 'node', '-p', "/^Uid:\\s+(\\d+)/m.exec(require('fs').readFileSync('/proc/1/status', 'utf8'))[1]");
    assert.equal(uid, '10053', 'PID 1 of the container runs as uid 10053');
    assert.equal(await docker('exec', seamark, 'node', '-p', 'require("os").userInfo().username'), 'seamark');
  });

  it('a container using seamark as its DNS server resolves another container by name with nslookup', async () => {
    await runContainer(`${prefix}web`);
    const webAddress = await docker('inspect', '--format', '{{.NetworkSettings.IPAddress}}', `${prefix}web`);
    const seamarkAddress = await docker('inspect', '--format', '{{.NetworkSettings.IPAddress}}', seamark);
    await waitUntil(`${prefix}web.docker on the published DNS port`, async () => (await resolvesTo(`${prefix}web.docker`)).includes(webAddress), 10000, 100);
    const output = await docker('run', '--rm', '--name', `${prefix}client`, '--dns', seamarkAddress, 'seamark-test-busybox:latest', 'nslookup', `${prefix}web.docker`);
    assert.match(output, new RegExp(`Address:\\s+${webAddress.replace(/\./g, '\\.')}\\b`), output);
  });

  it('serves the operator page as a checkout does', async () => {
    const page = await fetch(`http://127.0.0.1:${httpPort}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="\/?([^"#?]+\.(?:js|css|svg))"/g)].map((match) => match[1] as string);
    assert.ok(assets.length >= 2, `the page links its script and stylesheet: ${assets.join(', ')}`);
    for (const asset of assets) assert.equal((await fetch(`http://127.0.0.1:${httpPort}/${asset}`)).status, 200, asset);
  });

  it('has the seamark command on PATH: --version and the records CLI work inside the container', async () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(await docker('exec', seamark, 'seamark', '--version'), manifest.version);
    const created = await api(httpPort, token, 'PUT', '/v1/records/cli1', { names: ['cli1'], addresses: ['192.0.2.51'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const listed = await docker('exec', '-e', `SEAMARK_TOKEN=${token}`, seamark, 'seamark', 'records', 'list');
    assert.match(listed, /cli1/, listed);
  });

  it('the HEALTHCHECK turns healthy', async () => {
    await waitUntil('the container to report healthy', async () => (await docker('inspect', '--format', '{{.State.Health.Status}}', seamark)) === 'healthy', 60000, 500);
  });

  it('docker stop ends it promptly with status 0, and a new container on the same volume still has the API records', async () => {
    const created = await api(httpPort, token, 'PUT', '/v1/records/db1', { names: ['db1'], addresses: ['192.0.2.41'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(await resolvesTo('db1.docker'), ['192.0.2.41']);

    const started = performance.now();
    await docker('stop', '--time', '20', seamark);
    const took = performance.now() - started;
    const [exitCode, running] = (await docker('inspect', '--format', '{{.State.ExitCode}} {{.State.Running}}', seamark)).split(' ');
    assert.equal(running, 'false', 'the container has stopped');
    assert.equal(exitCode, '0', 'seamark exits 0 on SIGTERM (137 would mean docker had to kill it)');
    assert.ok(took < 10000, `docker stop returned after ${Math.round(took)} ms, long before its 20 s grace period`);

    await docker('rm', seamark);
    await startSeamarkContainer();
    assert.deepEqual(await resolvesTo('db1.docker'), ['192.0.2.41'], 'the record made through the API lives on the volume');
    const listed = await api(httpPort, token, 'GET', '/v1/records/db1');
    assert.equal(listed.status, 200);
  });
});
