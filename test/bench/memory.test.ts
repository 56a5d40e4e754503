// A loose guard on memory: seamark's resident memory with 1,000 names, and
// what every further 1,000 names cost once each was asked, stay within twice
// the figures docs/performance.md quotes. Not a stopwatch: memory, measured once.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildQuery, sendRaw } from '../helpers/raw.js';
import { MAIN, freePort } from '../helpers/seamark.js';

const PERFORMANCE = readFileSync(new URL('../../../docs/performance.md', import.meta.url), 'utf8');

function quotedFigure(pattern: RegExp): number {
  const found = pattern.exec(PERFORMANCE);
  assert.ok(found, `docs/performance.md quotes ${pattern}`);
  return Number(found[1]);
}

function residentMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}

/** Resident memory of one seamark process serving `names` names (from a JSON config, as the bench does) after each was asked once. */
async function residentAfterAsking(names: number): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'seamark-memory-'));
  const port = await freePort();
  const hosts = Array.from({ length: names }, (_, i) => ({ names: [`host-${i}`], addresses: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`] }));
  const config = { dns: [`127.0.0.1:${port}`], http: `127.0.0.1:${await freePort()}`, docker: 'off', dataDir: join(work, 'data'), logLevel: 'warn', upstreams: [], hosts };
  writeFileSync(join(work, 'config.json'), JSON.stringify(config));
  const child = spawn(process.execPath, [MAIN, '--config', join(work, 'config.json')], { stdio: 'ignore' });
  try {
    const deadline = Date.now() + 120_000;
    while ((await sendRaw(port, buildQuery(`host-${names - 1}.docker`, 1), 200))?.readUInt16BE(6) !== 1) {
      assert.ok(Date.now() < deadline, `seamark with ${names} names did not answer within 120 s`);
    }
    const queries = join(work, 'queries.txt');
    writeFileSync(queries, hosts.map((_, i) => `host-${i}.docker A`).join('\n') + '\n');
    execFileSync('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', queries, '-n', '1', '-c', '4', '-q', '100'], { stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return residentMb(child.pid as number);
  } finally {
    child.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
}

test('memory with 1,000 names and per further 1,000 names stays within twice the figures of docs/performance.md', { timeout: 300_000 }, async () => {
  const small = await residentAfterAsking(1000);
  const large = await residentAfterAsking(21_000);
  const perThousand = (large - small) / 20;
  console.log(`resident: ${small.toFixed(1)} MB with 1,000 names, ${large.toFixed(1)} MB with 21,000; ${perThousand.toFixed(2)} MB per 1,000 names`);
  const quotedBase = quotedFigure(/resident with 1,000 names \(one process, Docker source off, every name asked\): \*\*([\d.]+) MB\*\*/);
  const quotedPerThousand = quotedFigure(/per further 1,000 names \(every name asked\): \*\*([\d.]+) MB\*\*/);
  assert.ok(small <= 2 * quotedBase, `${small.toFixed(1)} MB with 1,000 names: more than twice the ${quotedBase} MB of docs/performance.md`);
  assert.ok(perThousand <= 2 * quotedPerThousand, `${perThousand.toFixed(2)} MB per 1,000 names: more than twice the ${quotedPerThousand} MB of docs/performance.md`);
});
