// How seamark's log reads: lines for people on a terminal (or --log-format pretty), JSON otherwise, and a fatal
// error said once, readably, without a stack for what is not a bug.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { freePort, MAIN } from '../helpers/seamark.js';

const run = promisify(execFile);

/** Runs seamark until it exits; resolves with its exit code and output. */
async function runSeamark(args: string[], command = process.execPath): Promise<{ code: number; stdout: string; stderr: string }> {
  const allArgs = command === process.execPath ? [MAIN, ...args] : args;
  return run(command, allArgs, { timeout: 20000, env: { ...process.env, SEAMARK_DATA_DIR: `/tmp/seamark-logs-${process.pid}` } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

/** Holds a DNS port (UDP and TCP) so that seamark cannot listen on it. */
async function takenPort(): Promise<{ port: number; release: () => void }> {
  const port = await freePort();
  const udp = createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(port, '127.0.0.1', resolve));
  const tcp = createServer();
  await new Promise<void>((resolve) => tcp.listen(port, '127.0.0.1', resolve));
  return { port, release: () => (udp.close(), tcp.close()) };
}

const base = ['--docker', 'off', '--http', 'off', '--upstream', '127.0.0.1:9'];

test('--log-format pretty: time, level and message on one line; a port in use is said once, without a stack', async () => {
  const taken = await takenPort();
  try {
    const { code, stdout, stderr } = await runSeamark([...base, '--dns', `127.0.0.1:${taken.port}`, '--log-format', 'pretty']);
    assert.equal(code, 1);
    assert.match(stdout, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: /m, 'pretty lines');
    assert.doesNotMatch(stdout, /^\{/m, 'no JSON line');
    const fatal = (stdout + stderr).split('\n').filter((line) => line.includes('EADDRINUSE'));
    assert.equal(fatal.length, 1, `said once: ${stdout}${stderr}`);
    assert.match(fatal[0] ?? '', new RegExp(`FATAL: cannot listen: bind EADDRINUSE 127\\.0\\.0\\.1:${taken.port}`));
    assert.doesNotMatch(stdout + stderr, /^\s+at /m, 'no stack');
  } finally {
    taken.release();
  }
});

test('not a terminal: JSON lines by default, and the fatal error also as one line on stderr', async () => {
  const taken = await takenPort();
  try {
    const { code, stdout, stderr } = await runSeamark([...base, '--dns', `127.0.0.1:${taken.port}`]);
    assert.equal(code, 1);
    const records = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const fatal = records.filter((record) => record.level === 60);
    assert.equal(fatal.length, 1);
    assert.match(String(fatal[0]?.msg), /^cannot listen: bind EADDRINUSE/);
    assert.equal(fatal[0]?.code, 'EADDRINUSE');
    assert.equal(fatal[0]?.err, undefined, 'no stack in the record');
    assert.equal(stderr.trim(), `seamark: ${String(fatal[0]?.msg)}`);
  } finally {
    taken.release();
  }
});

test('on a terminal the log is pretty without asking', async () => {
  const taken = await takenPort();
  try {
    // script(1) gives seamark a pseudo-terminal as stdout.
    const line = [process.execPath, MAIN, ...base, '--dns', `127.0.0.1:${taken.port}`].map((arg) => `'${arg}'`).join(' ');
    const { code, stdout: coloured } = await runSeamark(['-qec', line, '/dev/null'], 'script');
    assert.equal(code, 1);
    const stdout = coloured.replace(/\x1b\[[0-9;]*m/g, '');
    assert.match(stdout, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: forwarding names outside the zones/m);
    assert.match(stdout, /FATAL: cannot listen: bind EADDRINUSE/);
    assert.equal(stdout.split('\n').filter((l) => l.includes('EADDRINUSE')).length, 1, 'said once');
    assert.doesNotMatch(stdout, /"level":/, 'no JSON');
  } finally {
    taken.release();
  }
});
