// Disk faults that say "not now" rather than "this is wrong": what each errno
// means in words, and a timer that tries again, backing off, until the fault
// clears. Shared by the record store and the SOA serial reservation.

import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Errors that say "not now" (resources), not "this is wrong", in words; a
 * write may succeed once the fault clears. ENOENT: the data directory went away
 * under seamark (unmounted, deleted).
 */
const FAULT_REASONS: Readonly<Record<string, string>> = {
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the disk is read-only',
  ENOENT: 'the data directory is gone',
  EACCES: 'the data directory is not writable',
  EPERM: 'the data directory is not writable',
  EIO: 'an I/O error',
  ENOMEM: 'out of memory',
  EAGAIN: 'a resource is busy',
  EBUSY: 'a resource is busy',
};

/**
 * Makes a directory and its missing parents, one at a time, so a failure is
 * the real one: Node's recursive mkdir says ENOENT where a parent cannot be
 * made on a read-only disk.
 */
export function makeDirectory(path: string): void {
  const missing: string[] = [];
  for (let at = resolve(path); !existsSync(at); at = dirname(at)) {
    missing.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const directory of missing) {
    try {
      mkdirSync(directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** A full disk (or used-up quota): the HTTP API answers 507 rather than 503. */
export const FULL_DISK_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT']);

/** A disk fault seen on a file: its errno and what that means. */
export interface DiskFault {
  code: string;
  /** The errno in words: "the disk is full". */
  reason: string;
  /** The file or directory it happened on. */
  path: string;
}

/** The fault an error is, or undefined when it is not one a retry can cure (a bug, a bad value). */
export function diskFaultOf(error: unknown, path: string): DiskFault | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason = code === undefined ? undefined : FAULT_REASONS[code];
  return reason === undefined || code === undefined ? undefined : { code, reason, path: (error as NodeJS.ErrnoException).path ?? path };
}

/** "/var/lib/seamark/records: ENOSPC (the disk is full)": for the log and /readyz, never for API clients. */
export function describeDiskFault(fault: DiskFault): string {
  return `${fault.path}: ${fault.code} (${fault.reason})`;
}

export const RETRY_FIRST_MS = 1000;
export const RETRY_LONGEST_MS = 30_000;

/**
 * Calls `attempt` 1 s after start(), then at doubling intervals up to 30 s,
 * until it returns true. `soon()` tries at once (a write just showed the disk
 * may be back) and starts the intervals again from 1 s.
 */
export class RetryTimer {
  private timer: NodeJS.Timeout | undefined;
  private delay = RETRY_FIRST_MS;
  private running = false;
  private attempting = false;

  constructor(private readonly attempt: () => boolean | Promise<boolean>) {}

  get active(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.delay = RETRY_FIRST_MS;
    this.schedule();
  }

  soon(): void {
    if (!this.running) return;
    this.delay = RETRY_FIRST_MS;
    clearTimeout(this.timer);
    void this.run();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    // unref: a fault being retried never keeps the process alive on its own.
    this.timer = setTimeout(() => void this.run(), this.delay).unref();
    this.delay = Math.min(this.delay * 2, RETRY_LONGEST_MS);
  }

  private async run(): Promise<void> {
    if (!this.running || this.attempting) return;
    this.attempting = true;
    let done = false;
    try {
      done = await this.attempt();
    } catch {
      done = false;
    } finally {
      this.attempting = false;
    }
    if (done) this.stop();
    else if (this.running) this.schedule();
  }
}
