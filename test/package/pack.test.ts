// `npm pack` from a fresh clone makes a package that installs globally and whose `seamark` command runs (README "Running on a host").
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'seamark-pack-'));
const clone = join(work, 'clone');
const prefix = join(work, 'prefix');
const seamark = join(prefix, 'bin', 'seamark');

/** What a fresh clone has: sources and manifests, no dist/ (node_modules linked, as after `npm ci`). */
function freshClone(): void {
  for (const entry of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.ui.json', 'README.md', 'src', 'config']) {
    cpSync(join(ROOT, entry), join(clone, entry), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');
}

describe('the npm package', { timeout: 600000 }, () => {
  after(() => rmSync(work, { recursive: true, force: true }));

  let tarball = '';
  it('npm pack builds dist/ first and packs the command, its configuration and the tested dependency tree', async () => {
    freshClone();
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: clone, timeout: 300000, maxBuffer: 16 * 1024 * 1024 });
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string; files: { path: string }[]; bundled: string[] }[];
    assert.ok(packed);
    const files = packed.files.map((file) => file.path);
    for (const needed of ['package.json', 'dist/src/main.js', 'dist/src/app.js', 'config/seamark.example.yaml', 'config/seamark.service']) {
      assert.ok(files.includes(needed), `${needed} is in the package (${files.length} files)`);
    }
    assert.equal(files.filter((file) => file.startsWith('dist/test/')).length, 0, 'no tests in the package');
    // npm install of a tarball honours neither the lockfile's overrides nor a shrinkwrap: the tested tree travels in the package.
    for (const dependency of ['fastify', 'dockerode', 'pino', 'yaml']) assert.ok(packed.bundled.includes(dependency), `${dependency} is bundled`);
    assert.equal(packed.bundled.filter((name) => ['typescript', 'dns2'].includes(name)).length, 0, 'development dependencies stay out');
    tarball = join(work, packed.filename);
  });

  it('installs globally with every dependency supporting this Node.js, and seamark --help works', async () => {
    assert.ok(tarball !== '', 'the pack step ran');
    await run('npm', ['install', '--global', '--prefix', prefix, '--engine-strict', '--no-audit', '--no-fund', tarball], { cwd: work, timeout: 300000 });
    const { stdout } = await run(seamark, ['--help'], { timeout: 20000 });
    assert.match(stdout, /^Usage: seamark \[options\]/m);
    const version = await run(seamark, ['--version'], { timeout: 20000 });
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  });

  it('seamark runs on its defaults and stops on SIGTERM with status 0', async () => {
    assert.ok(existsSync(seamark), 'the install step ran');
    const cwd = mkdtempSync(join(work, 'run-'));
    // An installed seamark keeps its records in a state directory, never in the directory it was started from.
    // As a user that is $XDG_STATE_HOME/seamark; as root (CI) /var/lib/seamark, which this test leaves alone by
    // giving the state directory systemd would give.
    const state = mkdtempSync(join(work, 'state-'));
    const root = process.getuid?.() === 0;
    const env: NodeJS.ProcessEnv = { ...process.env, STATE_DIRECTORY: undefined, XDG_STATE_HOME: undefined };
    env[root ? 'STATE_DIRECTORY' : 'XDG_STATE_HOME'] = state;
    const child = spawn(seamark, [], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30000;
    while (!output.includes('"msg":"seamark started"')) {
      assert.ok(Date.now() < deadline && child.exitCode === null, `seamark did not start on its defaults:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const health = await fetch('http://127.0.0.1:8080/healthz');
    assert.equal(health.status, 200);
    const { stdout } = await run('dig', ['@127.0.0.1', '-p', '8053', '+short', 'docker', 'SOA'], { timeout: 10000 });
    assert.match(stdout, /^ns\.docker\. /);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    assert.ok(existsSync(join(state, root ? '' : 'seamark', 'soa-serial')), `the state lives in the state directory:\n${output}`);
    assert.ok(!existsSync(join(cwd, 'data')), 'nothing is written into the working directory');
  });
});
