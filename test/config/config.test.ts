// The configuration: file, environment and flags in that order of precedence, and errors that name the key.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadConfig, parseCommandLine } from '../../src/config/load.js';
import { MAIN } from '../helpers/seamark.js';

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
