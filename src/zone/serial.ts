// The SOA serial never goes backwards, across restarts too (RFC 1982: a
// secondary ignores a lower serial). The serial is a base plus the registry
// generation; the highest serial that may be served is reserved ahead in the
// data directory (`soa-serial`), fsync'd, a block at a time, and a start takes
// a base above the reservation and above the clock. Whatever feeds the
// registry, every change bumps the generation, so this holds for every source.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from '../registry/registry.js';

/** Serials reserved per write of the file: one fsync per this many changes. */
export const SERIAL_RESERVATION = 10000;

const FILE = 'soa-serial';

/**
 * The serial base for this run (serial = base + registry generation), kept
 * above every serial an earlier run could have served; reserves further
 * serials as the registry changes. Throws when the file is not a serial.
 */
export function startSerial(dataDir: string, registry: Registry, log: Logger, now = Date.now()): number {
  const file = join(dataDir, FILE);
  const reserved = readReserved(file);
  const base = Math.max(Math.floor(now / 1000), reserved + 1);
  let reservedUpTo = base + registry.generation + SERIAL_RESERVATION;
  mkdirSync(dataDir, { recursive: true });
  writeReserved(dataDir, reservedUpTo);
  registry.onChange((generation) => {
    if (base + generation < reservedUpTo) return;
    try {
      writeReserved(dataDir, base + generation + SERIAL_RESERVATION);
      reservedUpTo = base + generation + SERIAL_RESERVATION;
    } catch (error) {
      // Serving goes on; until a write succeeds (tried on every change) a restart may reuse serials.
      log.error({ err: error, dataDir }, 'cannot reserve SOA serials in the data directory');
    }
  });
  return base;
}

function readReserved(file: string): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  const value = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) {
    throw new Error(`${file} holds ${JSON.stringify(text.slice(0, 40))}, not an SOA serial; fix or remove it (the serial then restarts from the clock)`);
  }
  return value;
}

/** Temp file, fsync, rename, fsync the directory: the reservation is durable before any serial under it is served. */
function writeReserved(dataDir: string, value: number): void {
  const temp = join(dataDir, `.${FILE}.tmp`);
  const handle = openSync(temp, 'w', 0o600);
  try {
    writeSync(handle, `${value}\n`);
    fsyncSync(handle);
  } finally {
    closeSync(handle);
  }
  renameSync(temp, join(dataDir, FILE));
  const directory = openSync(dataDir, 'r');
  try {
    fsyncSync(directory);
  } finally {
    closeSync(directory);
  }
}
