// Every bad value stops seamark with "invalid configuration: key = value: reason (from origin)" and exit status 2,
// whether it comes from a flag, the environment or the file — never a truncated value, never a stack trace.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { MAIN } from '../helpers/seamark.js';

const run = promisify(execFile);

async function start(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stderr: string }> {
  try {
    // A value that passes validation would start a server: --http off and a DNS port nobody uses keep it harmless, the timeout ends it.
    await run(process.execPath, [MAIN, ...args], { env: { ...process.env, DOCKER_HOST: '', ...env }, timeout: 8000, killSignal: 'SIGKILL' });
    return { code: 0, stderr: '' };
  } catch (error) {
    const failure = error as { code: number | null; stderr: string };
    return { code: failure.code ?? -1, stderr: failure.stderr };
  }
}

function configFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'seamark-validation-')), 'seamark.yaml');
  writeFileSync(path, text);
  return path;
}

const cases: { args: string[]; env?: NodeJS.ProcessEnv; message: string | RegExp }[] = [
  { args: ['--workers', '0'], message: 'workers = 0: must be an integer from 1 to 64 or "auto" (from --workers)' },
  { args: ['--workers', 'many'], message: 'workers = "many": must be an integer from 1 to 64 or "auto" (from --workers)' },
  { args: ['--negative-ttl', '1.5'], message: 'negativeTtl = 1.5: must be an integer from 0 to 2147483647 (from --negative-ttl)' },
  { args: [], env: { SEAMARK_NEGATIVE_TTL: '1.5' }, message: 'negativeTtl = 1.5: must be an integer from 0 to 2147483647 (from SEAMARK_NEGATIVE_TTL)' },
  { args: ['--ttl', 'abc'], message: 'ttl = "abc": must be an integer from 0 to 2147483647 (from --ttl)' },
  { args: ['--ttl', '-1'], message: 'ttl = -1: must be an integer from 0 to 2147483647 (from --ttl)' },
  { args: ['--docker', 'ftp://x'], message: /^seamark: invalid configuration: docker = "ftp:\/\/x": .*not unix:\/\/\/path, \/path or tcp:\/\/host:port \(from --docker\)$/m },
  { args: [], env: { DOCKER_HOST: 'ftp://y' }, message: /docker = "ftp:\/\/y": .* \(from DOCKER_HOST\)$/m },
  { args: ['--publish-all', 'maybe'], message: 'publishAll = "maybe": must be true or false (from --publish-all)' },
  { args: ['--docker-reconcile', '-5'], message: 'dockerReconcile = -5: must be a number from 0 to 86400 (from --docker-reconcile)' },
  { args: ['--config', configFile('ttl: 1.5\n')], message: /ttl = 1\.5: must be an integer from 0 to 2147483647 \(from file .*seamark\.yaml\)$/m },
  { args: ['--config', configFile('tcpIdleTimeout: 0\n')], message: /tcpIdleTimeout = 0: must be a number above 0 up to 3600 \(from file /m },
  { args: ['--config', configFile('hosts: [{names: [db], addresses: [10.0.0.5], ttl: 2.5}]\n')], message: /hosts\[0\]\.ttl = 2\.5: must be an integer from 0 to 2147483647 \(from file /m },
  { args: ['--config', configFile('hosts: [{addresses: [10.0.0.5]}]\n')], message: /: hosts\[0\]\.names: is required \(from file .*seamark\.yaml\)$/m },
  { args: ['--config', configFile('hosts: [{names: [db], addresses: [10.0.0.5], srv: [{port: 80}]}]\n')], message: /: hosts\[0\]\.srv\[0\]\.service: is required \(from file /m },
  { args: ['--http-host', 'seamark.example:8080'], message: 'httpHosts[0] = "seamark.example:8080": write the name without a port: every port is accepted (from --http-host)' },
  { args: [], env: { SEAMARK_HTTP_HOSTS: 'ok.example,*.example' }, message: 'httpHosts[1] = "*.example": a name or "*" alone (every Host); a wildcard inside a name is not supported (from SEAMARK_HTTP_HOSTS)' },
  { args: ['--config', configFile('httpHosts: ["bad name"]\n')], message: /httpHosts\[0\] = "bad name": not a host name or IP address: it has label "bad name"/ },
  { args: [], env: { SEAMARK_TOKEN: 'too-short' }, message: 'token = "<redacted>": is 9 characters long; a token needs at least 16 so that it cannot be guessed (make one with: openssl rand -hex 16) (from SEAMARK_TOKEN)' },
  { args: ['--config', configFile('token: "   "\n')], message: /token = "<redacted>": is empty \(from file / },
];

for (const { args, env, message } of cases) {
  const given = [...args, ...Object.entries(env ?? {}).map(([key, value]) => `${key}=${value}`)].join(' ') || 'nothing';
  test(`a bad value is refused with the key, the value, the reason and the origin: ${given}`, async () => {
    const { code, stderr } = await start([...args, '--http', 'off', '--dns', '127.0.0.1:1'], env);
    assert.equal(code, 2, stderr);
    if (typeof message === 'string') assert.equal(stderr.trim(), `seamark: invalid configuration: ${message}`);
    else assert.match(stderr, message);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  });
}

test('good values from text are read as their type', async () => {
  const { loadConfig, parseCommandLine } = await import('../../src/config/load.js');
  const { config } = loadConfig(parseCommandLine(['--workers', '2', '--ttl', '60', '--publish-all', 'false', '--docker-reconcile', '0.5']), { SEAMARK_WORKERS: 'auto' });
  assert.equal(config.workers, 2);
  assert.equal(config.ttl, 60);
  assert.equal(config.publishAll, false);
  assert.equal(config.dockerReconcile, 0.5);
  assert.equal(loadConfig(parseCommandLine([]), { SEAMARK_WORKERS: 'auto' }).config.workers, 'auto');
});

test('httpHosts: names in lower case without their trailing dot, IP addresses and "*", from the file, SEAMARK_HTTP_HOSTS or --http-host', async () => {
  const { loadConfig, parseCommandLine } = await import('../../src/config/load.js');
  assert.deepEqual(loadConfig(parseCommandLine([]), {}).config.httpHosts, []);
  const fromEnv = loadConfig(parseCommandLine([]), { SEAMARK_HTTP_HOSTS: 'Seamark.Example., 10.0.0.5, [fd00::1],*' }).config.httpHosts;
  assert.deepEqual(fromEnv, ['seamark.example', '10.0.0.5', '[fd00::1]', '*']);
  const fromFlags = loadConfig(parseCommandLine(['--http-host', 'a.example', '--http-host', 'b.example']), { SEAMARK_HTTP_HOSTS: 'c.example' }).config.httpHosts;
  assert.deepEqual(fromFlags, ['a.example', 'b.example']);
  assert.equal(loadConfig(parseCommandLine([]), { SEAMARK_TOKEN: ' sixteen-chars-ok \n' }).config.token, 'sixteen-chars-ok');
});
