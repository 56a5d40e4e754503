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
  const rows = stdout.split('\n').filter((line) => /^\| (seamark|dnsmasq|knot|node floor)[^|]* \|/.test(line));
  // Per worker count: A × (seamark, dnsmasq, dnsmasq without SRV, knot, node floor), the mix × (seamark, dnsmasq, knot),
  // forwarded and forwarded uncached × (seamark, dnsmasq, dnsmasq without SRV); then 100,000 names × (seamark, dnsmasq, knot, node floor);
  // then DNS under API load: at rest, with event streams, through a flood.
  assert.equal(rows.length, 2 * 14 + 4 + 3, stdout);
  assert.equal(rows.filter((row) => row.includes('DNS under API load')).length, 3, stdout);
  for (const row of rows) {
    const cells = row.split('|').map((cell) => cell.trim());
    assert.ok(Number(cells[5]) > 0, `queries/s in ${row}`);
    assert.match(cells[9] ?? '', /^\d+\.\d$/, `CPU µs/query in ${row}`);
    assert.ok(Number(cells[10]) > 0, `resident memory in ${row}`);
  }
  assert.match(stdout, /seamark resident memory, 100000 names/);
  assert.match(stdout, /seamark start-up with \d+ records in the embedded store: answering the last of them after [\d.]+ s/);
  assert.match(stdout, /change to answer \(1 worker\): HTTP PUT sent → new answer on the wire [\d.]+ ms/);
  assert.match(stdout, /change to answer \(2 workers\)/);
  assert.match(stdout, /DNS under API load, 150 \/v1\/events clients: \d+ whole snapshots received/);
  assert.match(stdout, /DNS under API load, HTTP flood: \d+ requests answered/);
});
