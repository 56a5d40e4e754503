// The Node.js versions seamark promises (package.json "engines") are ones every installed package supports.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import semver from 'semver';

const ROOT = new URL('../../../', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL('package-lock.json', ROOT), 'utf8')) as {
  packages: Record<string, { version?: string; dev?: boolean; engines?: { node?: string } }>;
};

test('every runtime dependency supports the oldest Node.js seamark promises', () => {
  const oldest = semver.minVersion(manifest.engines.node);
  assert.ok(oldest, `engines.node "${manifest.engines.node}" names no version`);
  const unsupported = Object.entries(lock.packages)
    .filter(([path, entry]) => path !== '' && entry.dev !== true && entry.engines?.node !== undefined)
    .filter(([, entry]) => !semver.satisfies(oldest, entry.engines?.node ?? '*'))
    .map(([path, entry]) => `${path.replace(/^.*node_modules\//, '')}@${entry.version} wants node ${entry.engines?.node}`);
  assert.deepEqual(unsupported, [], `seamark promises node ${manifest.engines.node}`);
});

test('the README and the CI promise the same Node.js versions as package.json', () => {
  const readme = readFileSync(new URL('README.md', ROOT), 'utf8');
  const oldest = semver.minVersion(manifest.engines.node)?.version.replace(/\.0$/, '');
  assert.match(readme, new RegExp(`Node\\.js >= ${oldest?.replace(/\./g, '\\.')}`), 'the README names the oldest supported Node.js');
  const ci = readFileSync(new URL('.ci/run', ROOT), 'utf8');
  assert.match(ci, /npm ci --engine-strict/, 'CI installs with --engine-strict so a dependency that drops a promised Node.js fails the run');
});
