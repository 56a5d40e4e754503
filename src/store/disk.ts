// The embedded store: one JSON file per record in <dataDir>/records, each
// written crash-safely (temp file, fsync, rename, fsync the directory), so a
// kill -9 at any moment leaves either the old or the new file, never half of one.
// Writes that arrive together are committed as a group: their files are written
// and synced side by side, then one directory sync makes every rename durable.
// A full or read-only disk never stops the store: it loads what it can read,
// says what is wrong, refuses writes, and retries until the disk takes them.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describeDiskFault, diskFaultOf, FULL_DISK_CODES, makeDirectory, RetryTimer, type DiskFault } from './disk-faults.js';
import { StoreFullError, StoreUnavailableError, type LoadResult, type RecordCheck, type RecordStore, type StoredRecord, type UnreadableRecord } from './store.js';

const FORMAT_VERSION = 1;
const RECORD_SUFFIX = '.json';
/** Temp files start with a dot, which no record id may, so they never pass for records. */
const TEMP_PREFIX = '.tmp-';
/** What the store writes to learn whether the disk takes writes again: about a record's size. */
const PROBE_BODY = JSON.stringify({ probe: 'x'.repeat(480) }) + '\n';

interface RecordFile {
  version: number;
  record: unknown;
}

interface PendingWrite {
  id: string;
  /** The file's text; undefined for a removal. */
  body: string | undefined;
  done: (error?: Error) => void;
}

export class DiskStore<T extends StoredRecord> implements RecordStore<T> {
  readonly location: string;
  private pending: PendingWrite[] = [];
  private committing = false;
  /** Why writes fail now; undefined while they work. */
  private fault: DiskFault | undefined;
  private faultListener: ((fault: string | undefined) => void) | undefined;
  /** Set while the records could not be read at all: what to load them with, and who takes them then. */
  private unloaded: { check: RecordCheck; onLoaded: (result: LoadResult<T>) => void } | undefined;
  private readonly retry = new RetryTimer(() => this.recover());

  constructor(dataDir: string) {
    this.location = join(dataDir, 'records');
  }

  onFault(listener: (fault: string | undefined) => void): void {
    this.faultListener = listener;
  }

  async load(check: RecordCheck, onLateLoad?: (result: LoadResult<T>) => void): Promise<LoadResult<T>> {
    let entries: string[];
    try {
      entries = await this.listDirectory();
    } catch (error) {
      // A directory that cannot be made or read (read-only, full, no permission): start without its records, and load them once it can be read.
      const fault = diskFaultOf(error, this.location);
      if (fault === undefined || onLateLoad === undefined) throw error;
      this.unloaded = { check, onLoaded: onLateLoad };
      this.reportFault(fault);
      return { records: [], unreadable: [] };
    }
    const result = this.readRecords(entries, check);
    // Whether the disk takes a write now, so a full or read-only disk is reported at start, not at the first write.
    if (!(await this.probe())) this.retry.start();
    return result;
  }

  /** The entries of the records directory, made if missing; leftover temp files removed where the disk allows. */
  private async listDirectory(): Promise<string[]> {
    makeDirectory(this.location);
    const entries = (await readdir(this.location)).sort();
    // A temp file is a write that never got its rename, so it was never acknowledged.
    // On a read-only disk they stay (and are skipped) until a later start.
    await Promise.all(entries.filter((entry) => entry.startsWith(TEMP_PREFIX)).map((entry) => unlink(join(this.location, entry)).catch(() => undefined)));
    return entries;
  }

  private readRecords(entries: string[], check: RecordCheck): LoadResult<T> {
    const files = entries.filter((entry) => !entry.startsWith(TEMP_PREFIX) && entry.endsWith(RECORD_SUFFIX));
    const records: T[] = [];
    const unreadable: UnreadableRecord[] = [];
    // Read synchronously: loading runs before anything is served, and one
    // blocking read costs a fifth of a trip through the thread pool (100,000 files: 1 s, not 8).
    const buffer = Buffer.allocUnsafe(READ_BUFFER_SIZE);
    for (const entry of files) {
      const result = readRecordFile<T>(join(this.location, entry), entry.slice(0, -RECORD_SUFFIX.length), check, buffer);
      if ('record' in result) records.push(result.record);
      else unreadable.push(result.unreadable);
    }
    return { records, unreadable };
  }

  /** Stops retrying (seamark stops). */
  stop(): void {
    this.retry.stop();
  }

  /** One try at getting out of a fault: load the records if they never were, then see whether a write goes through. */
  private async recover(): Promise<boolean> {
    if (this.unloaded !== undefined) {
      const { check, onLoaded } = this.unloaded;
      let entries: string[];
      try {
        entries = await this.listDirectory();
      } catch (error) {
        this.reportFault(diskFaultOf(error, this.location) ?? otherFault(error, this.location));
        return false;
      }
      this.unloaded = undefined;
      onLoaded(this.readRecords(entries, check));
    }
    return this.probe();
  }

  /** Writes, syncs and removes a small temp file: true when the disk takes writes (and the fault, if any, is over). */
  private async probe(): Promise<boolean> {
    try {
      const temp = await this.writeTemp('probe', PROBE_BODY);
      await unlink(temp);
      await this.syncDirectory();
    } catch (error) {
      this.reportFault(diskFaultOf(error, this.location) ?? otherFault(error, this.location));
      return false;
    }
    this.reportWritable();
    return true;
  }

  private reportFault(fault: DiskFault): void {
    const changed = this.fault?.code !== fault.code;
    this.fault = { ...fault, path: this.location };
    this.retry.start();
    if (changed) this.faultListener?.(`cannot write records in ${describeDiskFault(this.fault)}`);
  }

  private reportWritable(): void {
    if (this.fault === undefined || this.unloaded !== undefined) return;
    this.fault = undefined;
    this.retry.stop();
    this.faultListener?.(undefined);
  }

  put(record: T): Promise<void> {
    return this.enqueue(record.id, JSON.stringify({ version: FORMAT_VERSION, record } satisfies RecordFile) + '\n');
  }

  remove(id: string): Promise<void> {
    return this.enqueue(id, undefined);
  }

  private enqueue(id: string, body: string | undefined): Promise<void> {
    if (this.unloaded !== undefined && this.fault !== undefined) {
      // The stored records were never read: writing now could overwrite one unseen. Refused, and the disk tried again at once.
      this.retry.soon();
      return Promise.reject(unavailableError(this.fault.code, this.fault.reason));
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ id, body, done: (error) => (error === undefined ? resolve() : reject(error)) });
      if (!this.committing) void this.commitPending();
    });
  }

  /**
   * Commits whatever is pending as one group, again and again until nothing is. Never rejects: a group that
   * fails unexpectedly fails its own writes (a write already answered keeps its answer), and later writes still commit.
   */
  private async commitPending(): Promise<void> {
    this.committing = true;
    try {
      while (this.pending.length > 0) {
        const group = this.pending;
        this.pending = [];
        try {
          await this.commitGroup(group);
        } catch (error) {
          for (const write of group) write.done(error as Error);
        }
      }
    } finally {
      this.committing = false;
    }
  }

  private async commitGroup(group: PendingWrite[]): Promise<void> {
    const failed = new Map<PendingWrite, Error>();
    let fault: DiskFault | undefined;
    const fail = (write: PendingWrite, error: unknown) => {
      fault ??= diskFaultOf(error, this.location);
      failed.set(write, unavailable(error));
    };
    const temps = await Promise.all(
      group.map(async (write) => {
        if (write.body === undefined) return undefined;
        try {
          return await this.writeTemp(write.id, write.body);
        } catch (error) {
          fail(write, error);
          return undefined;
        }
      }),
    );
    // Renames and unlinks in arrival order, so the last write to an id wins.
    let changed = false;
    for (const [i, write] of group.entries()) {
      if (failed.has(write)) continue;
      try {
        const temp = temps[i];
        if (temp !== undefined) await rename(temp, this.fileOf(write.id));
        else await unlinkIfPresent(this.fileOf(write.id));
        changed = true;
      } catch (error) {
        fail(write, error);
      }
    }
    let syncError: Error | undefined;
    if (changed) {
      try {
        await this.syncDirectory();
      } catch (error) {
        fault ??= diskFaultOf(error, this.location);
        syncError = unavailable(error);
      }
    }
    // A write is the quickest test of the disk: a fault starts the retries, a durable write ends them.
    if (fault !== undefined) this.reportFault(fault);
    else if (changed) this.reportWritable();
    for (const write of group) write.done(failed.get(write) ?? syncError);
  }

  private async writeTemp(id: string, body: string): Promise<string> {
    const temp = join(this.location, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${id}`);
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(body);
      await handle.sync();
    } catch (error) {
      await handle.close();
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    await handle.close();
    return temp;
  }

  private fileOf(id: string): string {
    return join(this.location, id + RECORD_SUFFIX);
  }

  /** A rename or unlink is durable only once the directory itself is synced. */
  private async syncDirectory(): Promise<void> {
    const handle = await open(this.location, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

async function unlinkIfPresent(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** A disk fault becomes StoreUnavailableError (StoreFullError for a full disk) saying what happened, with no path; anything else stays as it is. */
function unavailable(error: unknown): Error {
  const fault = diskFaultOf(error, '');
  return fault === undefined ? (error as Error) : unavailableError(fault.code, fault.reason);
}

function unavailableError(code: string, reason: string): StoreUnavailableError {
  const message = `the record store cannot write right now (${code}: ${reason}); nothing was changed, try again later`;
  return FULL_DISK_CODES.has(code) ? new StoreFullError(message) : new StoreUnavailableError(message);
}

/** An error that is no known disk fault, described as one for the log and /readyz. */
function otherFault(error: unknown, path: string): DiskFault {
  return { code: (error as NodeJS.ErrnoException).code ?? 'error', reason: (error as Error).message, path };
}

/** Record files are a few hundred bytes: one buffer reads them all, with no fstat and no buffer per file (a fifth faster than readFileSync). */
const READ_BUFFER_SIZE = 64 * 1024;

function readSmallFile(file: string, buffer: Buffer): string {
  const fd = openSync(file, 'r');
  let length: number;
  try {
    length = readSync(fd, buffer, 0, buffer.length, 0);
  } finally {
    closeSync(fd);
  }
  // As large as the buffer: there may be more, so read it whole.
  return length < buffer.length ? buffer.toString('utf8', 0, length) : readFileSync(file, 'utf8');
}

function readRecordFile<T extends StoredRecord>(file: string, id: string, check: RecordCheck, buffer: Buffer): { record: T } | { unreadable: UnreadableRecord } {
  const problem = (reason: string) => ({ unreadable: { id, location: file, reason } });
  let text: string;
  try {
    text = readSmallFile(file, buffer);
  } catch (error) {
    return problem((error as Error).message);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return problem(`not valid JSON: ${(error as Error).message}`);
  }
  const wrapper = parsed as Partial<RecordFile> | null;
  if (wrapper === null || typeof wrapper !== 'object' || wrapper.version !== FORMAT_VERSION) {
    return problem(`expected {"version": ${FORMAT_VERSION}, "record": {...}}`);
  }
  const invalid = check(wrapper.record);
  if (invalid !== undefined) return problem(invalid);
  const record = wrapper.record as T;
  if (record.id !== id) return problem(`holds id "${record.id}" but is named for "${id}"`);
  return { record };
}
