// config/seamark.service: a unit systemd accepts, running seamark as a non-root user with only CAP_NET_BIND_SERVICE.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const UNIT = fileURLToPath(new URL('../../../config/seamark.service', import.meta.url));
const unit = readFileSync(UNIT, 'utf8');

function setting(key: string): string[] {
  return [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((match) => match[1] ?? '');
}

function systemdAnalyzeMissing(): string | undefined {
  try {
    execFileSync('systemd-analyze', ['--version'], { stdio: 'pipe' });
    return undefined;
  } catch {
    console.log('!!! SKIPPING systemd-analyze verify: systemd-analyze is not installed');
    return 'systemd-analyze is not installed';
  }
}

test('the unit runs seamark unprivileged, with port 53, its own state directory, hardening and restarts', () => {
  assert.deepEqual(setting('ExecStart'), ['/usr/local/bin/seamark'], 'where npm install -g puts the command');
  assert.deepEqual(setting('DynamicUser'), ['yes'], 'a non-root user');
  assert.deepEqual(setting('AmbientCapabilities'), ['CAP_NET_BIND_SERVICE']);
  assert.deepEqual(setting('CapabilityBoundingSet'), ['CAP_NET_BIND_SERVICE']);
  assert.deepEqual(setting('StateDirectory'), ['seamark']);
  assert.match(setting('Environment').join(' '), /SEAMARK_DATA_DIR=\/var\/lib\/seamark\b/, 'records go to the state directory');
  assert.deepEqual(setting('ProtectSystem'), ['strict']);
  assert.deepEqual(setting('Restart'), ['on-failure']);
  assert.deepEqual(setting('ExecReload'), ['/bin/kill -HUP $MAINPID'], 'systemctl reload sends SIGHUP, which seamark takes as a reload');
  assert.deepEqual(setting('SupplementaryGroups'), ['docker'], 'reads the Docker socket through its group');
});

test('systemd-analyze verify accepts the unit without a warning', { skip: systemdAnalyzeMissing() }, async () => {
  // verify checks that ExecStart exists; this machine has no global install, so node stands in for the command.
  const copy = join(mkdtempSync(join(tmpdir(), 'seamark-unit-')), 'seamark.service');
  writeFileSync(copy, unit.replace(/^ExecStart=.*$/m, `ExecStart=${process.execPath}`));
  const { stderr } = await run('systemd-analyze', ['verify', copy], { timeout: 60000 });
  const aboutTheUnit = stderr.split('\n').filter((line) => line.includes('seamark.service'));
  assert.deepEqual(aboutTheUnit, [], stderr);
});
