// The SOA serial never goes backwards, across restarts too (RFC 1982: a
// secondary ignores a lower serial). The serial is a base plus the registry
// generation; the highest serial that may be served is reserved ahead in the
// data directory (`soa-serial`), fsync'd, a block at a time, and a start takes
// a base above the reservation and above the clock. Whatever feeds the
// registry, every change bumps the generation, so this holds for every source.
//
// When the reservation cannot be written (a full or read-only disk, a data
// directory that cannot be made), the serial is held at the ceiling: the last
// reservation this run made durable or, when it made none, the larger of the
// reservation on disk and the clock at start (base - 1). Every later start
// takes a base above both, so nothing served under the ceiling can be served
// again lower: the serial stands still through the fault (DNS answers follow
// every change; secondaries see the changes once it moves) but never goes
// back. The reservation is tried again on a timer and whenever the record
// store finds the disk writable; once it is durable, the serial jumps to base
// plus generation, and a new generation carries that to every answer.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from '../registry/registry.js';
import { describeDiskFault, diskFaultOf, makeDirectory, RetryTimer, type DiskFault } from '../store/disk-faults.js';

/** Serials reserved per write of the file: one fsync per this many changes. */
export const SERIAL_RESERVATION = 10000;

const FILE = 'soa-serial';
/** The owner prefix of no instance: replacing it with nothing makes a new generation (new answers) and changes nothing else. */
const NO_OWNER_PREFIX = 'soa-serial:';

/** What an SOA serial is made of: base + registry generation, never above the ceiling. */
export interface SerialLimits {
  readonly base: number;
  readonly ceiling: number;
}

/**
 * Takes this run's serial base (above every serial an earlier run could have
 * served) and reserves serials ahead as the registry changes. Throws only when
 * `soa-serial` holds no serial or cannot be read; a disk that cannot take the
 * reservation holds the serial (see above) and is retried until it can.
 */
export function startSerial(dataDir: string, registry: Registry, log: Logger, onFault?: (fault: string | undefined) => void, now = Date.now()): SerialReservation {
  return new SerialReservation(dataDir, registry, log, onFault, now);
}

export class SerialReservation implements SerialLimits {
  readonly base: number;
  ceiling: number;
  private readonly file: string;
  private fault: DiskFault | undefined;
  private readonly retry = new RetryTimer(() => this.reserve());

  constructor(
    private readonly dataDir: string,
    private readonly registry: Registry,
    private readonly log: Logger,
    private readonly onFault: ((fault: string | undefined) => void) | undefined,
    now: number,
  ) {
    this.file = join(dataDir, FILE);
    const reserved = readReserved(this.file);
    this.base = Math.max(Math.floor(now / 1000), reserved) + 1;
    // Nothing reserved by this run yet: the highest serial it may serve is what any later start will exceed anyway.
    this.ceiling = this.base - 1;
    this.reserve();
    registry.onChange((generation) => {
      // While the disk is at fault the timer retries: a write per change would only fail again.
      if (this.base + generation >= this.ceiling && this.fault === undefined) this.reserve();
    }, 'SOA serial reservation');
  }

  /** Why serials cannot be reserved now, or undefined. */
  get faultDescription(): string | undefined {
    return this.fault === undefined ? undefined : this.describe(this.fault);
  }

  /** Tries the reservation again at once (the disk took another write). */
  retrySoon(): void {
    this.retry.soon();
  }

  stop(): void {
    this.retry.stop();
  }

  /** Reserves serials ahead of the current one; true once that is durable. */
  private reserve(): boolean {
    const generation = this.registry.generation;
    const wanted = this.base + generation + SERIAL_RESERVATION;
    try {
      makeDirectory(this.dataDir);
      writeReserved(this.dataDir, wanted);
    } catch (error) {
      const fault = diskFaultOf(error, this.file) ?? { code: (error as NodeJS.ErrnoException).code ?? 'error', reason: (error as Error).message, path: this.file };
      if (this.fault?.code !== fault.code) {
        this.fault = fault;
        const description = this.describe(fault);
        this.log.error({ file: this.file, code: fault.code, serial: this.ceiling }, `${description}; retrying`);
        this.onFault?.(description);
      }
      this.retry.start();
      return false;
    }
    const held = this.fault !== undefined && this.base + generation > this.ceiling;
    this.ceiling = wanted;
    if (this.fault !== undefined) {
      this.fault = undefined;
      this.retry.stop();
      this.log.warn({ file: this.file, reservedUpTo: wanted }, 'SOA serials can be reserved again: the serial follows every change again');
      this.onFault?.(undefined);
    }
    // Answers of this generation carry the held serial: a new generation makes every answer (and every DNS worker) take the real one.
    if (held) this.registry.replaceByPrefix(NO_OWNER_PREFIX, []);
    return true;
  }

  private describe(fault: DiskFault): string {
    return `cannot reserve SOA serials in ${describeDiskFault(fault)}; the SOA serial stays at ${this.ceiling >>> 0} (so it can never go back after a restart) until the reservation is written`;
  }
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
