// The configuration: file, environment and flags in that order of precedence, and errors that name the key.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadConfig, parseCommandLine } from '../../src/config/load.js';
import { defaultDataDir } from '../../src/config/data-dir.js';
import { dig } from '../helpers/dig.js';
import { MAIN, startSeamark } from '../helpers/seamark.js';

const run = promisify(execFile);
const EXAMPLE = fileURLToPath(new URL('../../../config/seamark.example.yaml', import.meta.url));

function file(text: string, name = 'seamark.yaml'): string {
  const path = join(mkdtempSync(join(tmpdir(), 'seamark-config-')), name);
  writeFileSync(path, text);
  return path;
}

async function startError(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, timeout: 10000 });
    return { code: 0, stderr: '' };
  } catch (error) {
    const failure = error as { code: number; stderr: string };
    return { code: failure.code, stderr: failure.stderr };
  }
}

test('the example configuration is valid and equals the defaults', () => {
  const fromExample = loadConfig(parseCommandLine(['--config', EXAMPLE]), {}).config;
  const defaults = loadConfig(parseCommandLine([]), {}).config;
  assert.deepEqual(fromExample, defaults);
  assert.deepEqual(defaults.dns, ['127.0.0.1:8053']);
  assert.deepEqual(defaults.zones, ['docker']);
});

test('without dataDir the record store goes to a fixed place, never the directory seamark was started from', () => {
  const home = '/home/ops';
  const user = { env: {}, checkout: undefined, root: false, home };
  assert.equal(defaultDataDir(user).dir, '/home/ops/.local/state/seamark');
  assert.equal(defaultDataDir({ ...user, env: { XDG_STATE_HOME: '/srv/state' } }).dir, '/srv/state/seamark');
  assert.equal(defaultDataDir({ ...user, env: { XDG_STATE_HOME: 'relative' } }).dir, '/home/ops/.local/state/seamark', 'a relative XDG_STATE_HOME is ignored, as the XDG spec says');
  assert.equal(defaultDataDir({ ...user, root: true }).dir, '/var/lib/seamark');
  assert.equal(defaultDataDir({ ...user, root: true, checkout: '/src/seamark' }).dir, '/src/seamark/data', 'a source checkout keeps its own data/');
  assert.equal(defaultDataDir({ ...user, root: true, checkout: '/src/seamark', env: { STATE_DIRECTORY: '/var/lib/seamark-a:/var/lib/other' } }).dir, '/var/lib/seamark-a', "systemd's StateDirectory wins");
  // This checkout: the default does not follow the working directory.
  const fromHere = loadConfig(parseCommandLine([]), {}).config.dataDir;
  assert.equal(fromHere, fileURLToPath(new URL('../../../data', import.meta.url)));
});

test('a seamark started under systemd without dataDir keeps its records in $STATE_DIRECTORY', async () => {
  const state = mkdtempSync(join(tmpdir(), 'seamark-state-'));
  const seamark = await startSeamark({ config: { docker: 'off', dataDir: undefined }, env: { STATE_DIRECTORY: state } });
  try {
    assert.equal(seamark.logs.find((line) => line.msg === 'seamark started')?.dataDir, state);
    const response = await fetch(`http://127.0.0.1:${seamark.httpPort}/v1/records/legacy`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ names: ['legacy'], addresses: ['10.0.0.9'] }),
    });
    assert.equal(response.status, 201);
    assert.ok(existsSync(join(state, 'records', 'legacy.json')), 'the record is written under $STATE_DIRECTORY');
  } finally {
    await seamark.stop();
  }
});

test('a configured host may be a wildcard (*.legacy), answered as RFC 4592 says; a "*" inside a label is refused', async () => {
  assert.match((await startError(['--config', file('hosts:\n  - names: [a*b]\n    addresses: [10.0.0.1]\n')])).stderr, /hosts\[0\]\.names\[0\] = "a\*b": not a valid DNS name: it has a "\*" that is not the whole leftmost label/);
  const seamark = await startSeamark({ config: { docker: 'off', hosts: [{ names: ['*.legacy'], addresses: ['10.7.0.1'] }] } });
  try {
    assert.deepEqual((await dig(seamark.dnsPort, 'any.legacy.docker', 'A')).answer.map((record) => `${record.name} ${record.data}`), ['any.legacy.docker. 10.7.0.1']);
    const parent = await dig(seamark.dnsPort, 'legacy.docker', 'A');
    assert.equal(parent.status, 'NOERROR', 'the wildcard\'s parent exists, empty: NODATA');
    assert.equal(parent.answer.length, 0);
  } finally {
    await seamark.stop();
  }
});

test('flags beat the environment, which beats the file', () => {
  const config = file('dns: ["127.0.0.1:1001"]\nzones: [filezone]\nttl: 11\nlogLevel: warn\n');
  const env = { SEAMARK_DNS: '127.0.0.1:1002,[::1]:1002', SEAMARK_TTL: '22' };
  const loaded = loadConfig(parseCommandLine(['--config', config, '--ttl', '33']), env).config;
  assert.deepEqual(loaded.dns, ['127.0.0.1:1002', '[::1]:1002']);
  assert.equal(loaded.ttl, 33);
  assert.deepEqual(loaded.zones, ['filezone']);
  assert.equal(loaded.logLevel, 'warn');
  const twoFlags = loadConfig(parseCommandLine(['--dns', '127.0.0.1:1', '--dns', '[::1]:2', '--zone', 'a', '--zone', 'B.']), {}).config;
  assert.deepEqual(twoFlags.dns, ['127.0.0.1:1', '[::1]:2']);
  assert.deepEqual(twoFlags.zones, ['a', 'b']);
});

test('SEAMARK_CONFIG names the file, and hosts are qualified into the zone', () => {
  const config = file('zones: [lab]\nhosts:\n  - names: [nas, nas.lab., files.lab]\n    addresses: ["FD00::0001", 10.0.0.7]\n');
  const loaded = loadConfig(parseCommandLine([]), { SEAMARK_CONFIG: config }).config;
  assert.deepEqual(loaded.hosts[0]?.names, ['nas.lab', 'nas.lab', 'files.lab']);
  assert.deepEqual(loaded.hosts[0]?.addresses, ['fd00::1', '10.0.0.7']);
});

test('a bad setting stops start-up with exit 2 and a message naming key, value and origin', async () => {
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['--dns', '1.2.3:53'], {}, /dns\[0\] = "1\.2\.3:53": "1\.2\.3" is not an IPv4 or IPv6 address.*\(from --dns\)/],
    [['--dns', '127.0.0.1'], {}, /dns\[0\] = "127\.0\.0\.1": has no port/],
    [[], { SEAMARK_TTL: 'soon' }, /ttl = "soon": must be an integer from 0 to 2147483647 \(from SEAMARK_TTL\)/],
    [['--log-level', 'loud'], {}, /logLevel = "loud": must be one of fatal, error, warn, info, debug, trace, silent/],
    [['--zone', 'a..b'], {}, /zones\[0\] = "a\.\.b": not a valid DNS name: it has an empty label/],
    [['--forward-allow', '10.0.0.0/33'], {}, /forwardAllow = \["10\.0\.0\.0\/33"\]: "10\.0\.0\.0\/33" has a prefix length outside 0-32/],
    [['--workers', 'many'], {}, /workers = "many"/],
    [['--config', file('colour: red\n')], {}, /unknown setting "colour" \(from file .*\)/],
    [['--config', file('hosts:\n  - names: [x]\n    addresses: [1.2.3]\n')], {}, /hosts\[0\]\.addresses\[0\] = "1\.2\.3": not an IPv4 or IPv6 address/],
    [['--config', file('hosts:\n  - names: [x.elsewhere.]\n    addresses: [10.0.0.1]\n')], {}, /hosts\[0\]\.names\[0\] = "x\.elsewhere\.": is outside the served zones \(docker\)/],
    [['--config', file('dns: [unclosed\n')], {}, /is not valid YAML\/JSON/],
    [['--config', '/nonexistent/seamark.yaml'], {}, /cannot read configuration file \/nonexistent\/seamark\.yaml/],
    [['--bogus'], {}, /Unknown option '--bogus'/],
  ];
  for (const [args, env, message] of cases) {
    const { code, stderr } = await startError(args, env);
    assert.equal(code, 2, `${args.join(' ')} exits 2`);
    assert.match(stderr, message);
  }
});

test('--help lists every flag with its environment variable', async () => {
  const { stdout } = await run(process.execPath, [MAIN, '--help']);
  for (const flag of ['--config', '--dns', '--http', '--zone', '--data-dir', '--upstream', '--log-level', '--workers', '--docker']) assert.match(stdout, new RegExp(`${flag} `));
  for (const env of ['SEAMARK_DNS', 'SEAMARK_HTTP', 'SEAMARK_ZONE', 'SEAMARK_DATA_DIR', 'SEAMARK_UPSTREAM', 'SEAMARK_LOG_LEVEL']) assert.match(stdout, new RegExp(env));
});
