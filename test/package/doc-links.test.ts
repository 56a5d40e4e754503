// The README and docs/ link to each other's sections: every relative link names a file that exists and a
// heading that file has (scripts/check-doc-links.mjs, GitHub's anchor rules).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../../scripts/check-doc-links.mjs', import.meta.url));

test('every relative link of README.md and docs/*.md leads to a file and a heading that exist', async () => {
  const result = await run(process.execPath, [SCRIPT], { timeout: 20000 }).catch((error: { stdout?: string; code?: number }) => error);
  assert.equal('code' in result ? result.code : 0, 0, result.stdout);
  assert.match(result.stdout ?? '', /, 0 broken$/m);
});
