// Random 16-bit query IDs for the forwarder (RFC 5452: IDs an off-path
// attacker cannot guess), read in batches from the kernel's random source,
// /dev/urandom. Not node:crypto's randomInt: a DNS worker would load the
// whole crypto module for it alone, about 1.2 MB resident per worker.
// Where /dev/urandom cannot be read, crypto fills the batch instead.
import { closeSync, openSync, readSync } from 'node:fs';
import { requireCommonJs } from '../lib/commonjs.js';

const BATCH = 4096;
const ids = new Uint16Array(BATCH);
let next = BATCH;

export function randomId(): number {
  if (next === BATCH) refill();
  return ids[next++] as number;
}

function refill(): void {
  const bytes = new Uint8Array(ids.buffer);
  try {
    const fd = openSync('/dev/urandom', 'r');
    try {
      for (let filled = 0; filled < bytes.length; ) filled += readSync(fd, bytes, filled, bytes.length - filled, null);
    } finally {
      closeSync(fd);
    }
  } catch {
    (requireCommonJs('node:crypto') as typeof import('node:crypto')).randomFillSync(bytes);
  }
  next = 0;
}
