// `npm start` builds only what changed, and says so: with nothing changed it compiles nothing and
// `npm start -- <command>` runs at once; a changed source is compiled (incrementally) before the start.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { statSync, utimesSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BUILD = fileURLToPath(new URL('../../../scripts/build-changed.mjs', import.meta.url));
const MAIN_JS = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const MAIN_TS = fileURLToPath(new URL('../../../src/main.ts', import.meta.url));

test('nothing changed: the build says it is up to date, writes nothing, and npm start -- --version runs seamark', async () => {
  // Whatever state the checkout is in, one pass brings dist/ up to date.
  await run(process.execPath, [BUILD], { cwd: ROOT, timeout: 300000 });
  const before = statSync(MAIN_JS).mtimeMs;
  const { stderr } = await run(process.execPath, [BUILD], { cwd: ROOT });
  assert.equal(stderr, 'seamark build: up to date (no source newer than the last build): not compiling\n');
  const started = await run('npm', ['start', '--silent', '--', '--version'], { cwd: ROOT, timeout: 60000 });
  assert.match(started.stderr, /seamark build: up to date/);
  assert.equal(started.stdout.trim(), (await import('node:fs')).readFileSync(`${ROOT}package.json`, 'utf8').match(/"version": "([^"]+)"/)?.[1]);
  assert.equal(statSync(MAIN_JS).mtimeMs, before, 'dist/src/main.js not written again');
});

test('a changed source is compiled before the start, and named', async () => {
  const now = new Date();
  utimesSync(MAIN_TS, now, now);
  const { stderr } = await run(process.execPath, [BUILD], { cwd: ROOT, timeout: 300000 });
  assert.match(stderr, /^seamark build: compiling the server \(1 changed: src\/main\.ts\) with tsc --incremental/);
  assert.match(stderr, /seamark build: server compiled in \d+\.\d s/);
  assert.doesNotMatch(stderr, /operator page/, 'the page had no change');
  // tsc writes only outputs whose text changed (here none); the next start knows the build is current.
  const again = await run(process.execPath, [BUILD], { cwd: ROOT });
  assert.match(again.stderr, /up to date/);
});
