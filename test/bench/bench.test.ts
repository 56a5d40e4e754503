// The benchmark runs end to end and prints its figures: a smoke run of seconds (one worker, few queries,
// no 100,000-name or API-load rows) with no judgement on the numbers. `npm run bench` is the full one.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BENCH = fileURLToPath(new URL('./bench.js', import.meta.url));

test('npm run bench -- --smoke prints every figure of its rows', { timeout: 180_000 }, async () => {
  const { stdout } = await run(process.execPath, [BENCH, '--smoke'], { timeout: 170_000, maxBuffer: 16 * 1024 * 1024 });
  console.log(stdout);
  const rows = stdout.split('\n').filter((line) => /^\| (seamark|dnsmasq|knot|node floor)[^|]* \|/.test(line));
  // One worker: A × (seamark, dnsmasq, dnsmasq without SRV, knot, node floor), the mix × (seamark, dnsmasq, knot),
  // forwarded and forwarded uncached × (seamark, dnsmasq, dnsmasq without SRV).
  assert.equal(rows.length, 14, stdout);
  for (const row of rows) {
    const cells = row.split('|').map((cell) => cell.trim());
    assert.ok(Number(cells[5]) > 0, `queries/s in ${row}`);
    assert.match(cells[9] ?? '', /^\d+\.\d$/, `CPU µs/query in ${row}`);
    assert.ok(Number(cells[10]) > 0, `resident memory in ${row}`);
  }
  assert.match(stdout, /seamark resident memory, 1000 names/);
  assert.match(stdout, /seamark start-up with \d+ records in the embedded store: answering the last of them after [\d.]+ s/);
  assert.match(stdout, /change to answer \(1 worker\): HTTP PUT sent → new answer on the wire [\d.]+ ms/);
});
