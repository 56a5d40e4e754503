// The benchmark runs end to end and prints its figures (short mode: no judgement on the numbers).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BENCH = fileURLToPath(new URL('./bench.js', import.meta.url));

test('npm run bench -- --short prints every figure', { timeout: 600_000 }, async () => {
  const { stdout } = await run(process.execPath, [BENCH, '--short'], { timeout: 590_000, maxBuffer: 16 * 1024 * 1024 });
  console.log(stdout);
  const rows = stdout.split('\n').filter((line) => /^\| (seamark|dnsmasq)[^|]* \|/.test(line));
  // Per worker count: A and forwarded × (seamark, dnsmasq, dnsmasq without SRV) + the mix × (seamark, dnsmasq); then the 100,000-name pair.
  assert.equal(rows.length, 2 * 8 + 2, stdout);
  for (const row of rows) {
    const cells = row.split('|').map((cell) => cell.trim());
    assert.ok(Number(cells[5]) > 0, `queries/s in ${row}`);
    assert.match(cells[9] ?? '', /^\d+\.\d$/, `CPU µs/query in ${row}`);
  }
  assert.match(stdout, /seamark resident memory, 100000 names/);
  assert.match(stdout, /change to answer \(1 worker\): HTTP PUT sent → new answer on the wire [\d.]+ ms/);
  assert.match(stdout, /change to answer \(2 workers\)/);
});
