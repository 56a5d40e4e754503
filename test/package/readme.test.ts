// The README tells the truth: its tables list exactly the flags of `seamark --help`, with the same environment
// variables, and its examples work as pasted on the defaults.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { OPTIONS } from '../../src/config/load.js';
import { api } from '../http/client.js';
import { MAIN, startSeamark } from '../helpers/seamark.js';

const run = promisify(execFile);
const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

/** Table rows of the README that document a flag, by flag (the first: the configuration tables come before examples of use). */
function readmeFlagRows(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const match of README.matchAll(/^\| `(--[a-z][a-z0-9-]*)[^`]*`.*$/gm)) if (!rows.has(match[1] as string)) rows.set(match[1] as string, match[0]);
  return rows;
}

test('every flag of seamark --help has a row in the README, and every flag in the README is in --help', async () => {
  const { stdout } = await run(process.execPath, [MAIN, '--help'], { timeout: 20000 });
  const helpFlags = new Set([...stdout.matchAll(/^\s+(?:-\w, )?(--[a-z][a-z0-9-]*)/gm)].map((match) => match[1] as string));
  helpFlags.delete('--help');
  helpFlags.delete('--version');
  const readmeFlags = new Set(readmeFlagRows().keys());
  assert.deepEqual([...helpFlags].filter((flag) => !readmeFlags.has(flag)), [], 'flags in --help missing from the README tables');
  assert.deepEqual([...readmeFlags].filter((flag) => !helpFlags.has(flag)), [], 'flags in the README tables that --help does not know');
});

test('the README and --help agree on each flag\'s environment variable and on which are comma-separated lists', async () => {
  const { stdout } = await run(process.execPath, [MAIN, '--help'], { timeout: 20000 });
  const rows = readmeFlagRows();
  for (const option of OPTIONS) {
    const row = rows.get(`--${option.flag}`) ?? '';
    const helpLine = stdout.split('\n').find((line) => line.trimStart().startsWith(`--${option.flag} `)) ?? '';
    assert.ok(row.includes(`\`${option.env}\``), `the README row of --${option.flag} names ${option.env}: ${row}`);
    assert.ok(helpLine.includes(`env ${option.env}`), `--help names ${option.env} for --${option.flag}`);
    const list = option.list === true;
    assert.equal(row.includes('comma-separated'), list, `README: ${option.env} is ${list ? '' : 'not '}comma-separated: ${row}`);
    assert.equal(helpLine.includes('comma-separated'), list, `--help: ${option.env} is ${list ? '' : 'not '}comma-separated`);
    assert.equal(row.includes('(repeatable)'), list, `README: --${option.flag} is ${list ? '' : 'not '}repeatable`);
  }
});

test('the full record example of "HTTP API" is accepted on the default zones', async () => {
  const example = /A record:\n\n```json\n([\s\S]*?)\n```/.exec(README)?.[1];
  assert.ok(example, 'the README has the record example');
  const seamark = await startSeamark({ config: { docker: 'off' } });
  try {
    const created = await api(seamark.httpPort, 'PUT', '/v1/records/db1', JSON.parse(example));
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(created.body.names, ['db1.docker', 'postgres.db1.docker']);
  } finally {
    await seamark.stop();
  }
});
