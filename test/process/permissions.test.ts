// Permission errors say what to do: run as a user who may not bind a port below 1024 or open the Docker socket
// (nobody, through setpriv), and read the hint.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { freePort, MAIN } from '../helpers/seamark.js';

const run = promisify(execFile);

/** Why the test cannot run as another user here; undefined when it can. */
function cannotDropPrivileges(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to run seamark as nobody (setpriv)';
  try {
    execFileSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', `require('fs').readFileSync(${JSON.stringify(MAIN)})`], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `nobody cannot run this checkout: ${(error as Error).message}`;
  }
}
const skip = cannotDropPrivileges();
if (skip !== undefined) console.log(`!!! SKIPPING permission hints: ${skip}`);

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'seamark-nobody-'));
  chmodSync(dir, 0o777);
  return join(dir, 'data');
}

/** A port below 1024 that nothing on 127.0.0.1 holds. */
async function privilegedPort(): Promise<number> {
  for (let port = 900; port < 1000; port++) {
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port between 900 and 999');
}

const asNobody = ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, MAIN];

test('bind EACCES on a port below 1024: exit 1 and a hint naming CAP_NET_BIND_SERVICE, AmbientCapabilities= and a port above 1023', { skip }, async () => {
  const port = await privilegedPort();
  const failed = await run('setpriv', [...asNobody, '--dns', `127.0.0.1:${port}`, '--http', 'off', '--docker', 'off', '--upstream', '127.0.0.1:9', '--data-dir', dataDir()], { timeout: 20000 }).then(
    () => assert.fail('seamark started'),
    (error: { code: number; stderr: string }) => error,
  );
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, new RegExp(`^seamark: cannot listen: bind EACCES 127\\.0\\.0\\.1:${port} \\(ports below 1024 need root or the CAP_NET_BIND_SERVICE capability: under systemd AmbientCapabilities=CAP_NET_BIND_SERVICE`));
  assert.match(failed.stderr, /or listen on a port above 1023/);
});

const socket = '/var/run/docker.sock';
const socketClosedToNobody = existsSync(socket) && (statSync(socket).mode & 0o006) === 0;

test('connect EACCES on the Docker socket: the warning names the docker group and --group-add', { skip: skip ?? (socketClosedToNobody ? undefined : `${socket} is missing or open to everyone`) }, async () => {
  const port = await freePort();
  const child = spawn('setpriv', [...asNobody, '--dns', `127.0.0.1:${port}`, '--http', 'off', '--docker', `unix://${socket}`, '--upstream', '127.0.0.1:9', '--data-dir', dataDir(), '--log-format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const warning = await new Promise<Record<string, unknown>>((resolve, reject) => {
      let pending = '';
      const timer = setTimeout(() => reject(new Error('no "cannot reach Docker" within 15 s')), 15000);
      child.stdout.on('data', (chunk: Buffer) => {
        pending += chunk.toString();
        for (const line of pending.split('\n').slice(0, -1)) {
          const record = JSON.parse(line) as Record<string, unknown>;
          if (String(record.msg).startsWith('cannot reach Docker')) {
            clearTimeout(timer);
            resolve(record);
          }
        }
        pending = pending.slice(pending.lastIndexOf('\n') + 1);
      });
    });
    assert.match(String(warning.err), /^connect EACCES \/var\/run\/docker\.sock \(seamark's user may not open the Docker socket/);
    assert.match(String(warning.err), /usermod -aG docker/);
    assert.match(String(warning.err), /--group-add \$\(stat -c %g \/var\/run\/docker\.sock\)/);
  } finally {
    child.kill('SIGTERM');
  }
});
