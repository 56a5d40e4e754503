// The embedded store: one JSON file per record in <dataDir>/records, each
// written crash-safely (temp file, fsync, rename, fsync the directory), so a
// kill -9 at any moment leaves either the old or the new file, never half of one.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreCorruptError, type RecordCheck, type RecordStore, type StoredRecord } from './store.js';

const FORMAT_VERSION = 1;
const RECORD_SUFFIX = '.json';
/** Temp files start with a dot, which no record id may, so they never pass for records. */
const TEMP_PREFIX = '.tmp-';

interface RecordFile {
  version: number;
  record: unknown;
}

export class DiskStore<T extends StoredRecord> implements RecordStore<T> {
  readonly location: string;

  constructor(dataDir: string) {
    this.location = join(dataDir, 'records');
  }

  async load(check: RecordCheck): Promise<T[]> {
    await mkdir(this.location, { recursive: true });
    const records: T[] = [];
    for (const entry of (await readdir(this.location)).sort()) {
      const file = join(this.location, entry);
      // A temp file is a write that never got its rename, so it was never acknowledged.
      if (entry.startsWith(TEMP_PREFIX)) {
        await unlink(file);
        continue;
      }
      if (!entry.endsWith(RECORD_SUFFIX)) continue;
      records.push(await readRecordFile<T>(file, entry.slice(0, -RECORD_SUFFIX.length), check));
    }
    await this.syncDirectory();
    return records;
  }

  async put(record: T): Promise<void> {
    const body = JSON.stringify({ version: FORMAT_VERSION, record } satisfies RecordFile, null, 2) + '\n';
    const temp = join(this.location, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${record.id}`);
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, this.fileOf(record.id));
    await this.syncDirectory();
  }

  async remove(id: string): Promise<void> {
    try {
      await unlink(this.fileOf(id));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      return;
    }
    await this.syncDirectory();
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

async function readRecordFile<T extends StoredRecord>(file: string, id: string, check: RecordCheck): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new StoreCorruptError(file, (error as Error).message);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new StoreCorruptError(file, `not valid JSON: ${(error as Error).message}`);
  }
  const wrapper = parsed as Partial<RecordFile> | null;
  if (wrapper === null || typeof wrapper !== 'object' || wrapper.version !== FORMAT_VERSION) {
    throw new StoreCorruptError(file, `expected {"version": ${FORMAT_VERSION}, "record": {...}}`);
  }
  const problem = check(wrapper.record);
  if (problem !== undefined) throw new StoreCorruptError(file, problem);
  const record = wrapper.record as T;
  if (record.id !== id) throw new StoreCorruptError(file, `holds id "${record.id}" but is named for "${id}"`);
  return record;
}
