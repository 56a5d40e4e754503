// Hand-made records in etcd (cluster mode): `records/<id>` keys without a
// lease. A write resolves once etcd committed it (quorum); while etcd cannot
// be reached it rejects with StoreUnavailableError and nothing is written.
// Changes by other nodes arrive through the cluster subscriber's watch.
import type { Logger } from 'pino';
import { EtcdUnavailableError, type EtcdClient, type KeyValue, type WatchEvent } from './client.js';
import type { KeyLayout } from './keys.js';
import type { RecordSink } from './subscriber.js';
import { StoreUnavailableError, type LoadResult, type RecordCheck, type RecordStore, type StoredRecord, type UnreadableRecord } from '../store/store.js';

/** How long start-up waits for etcd before it goes on with no records (they arrive once etcd answers). */
const LOAD_WAIT_MS = 5000;

interface Known<T> {
  revision: number;
  record: T | undefined;
}

export class EtcdStore<T extends StoredRecord> implements RecordStore<T>, RecordSink {
  readonly location: string;
  /** The newest state of each record this node knows, from its own writes and from the watch. */
  private readonly known = new Map<string, Known<T>>();
  private check: RecordCheck = () => undefined;
  private onChange: ((id: string, record: T | undefined) => void) | undefined;
  /** Revisions of what load() returned, to hand over whatever changed before watch() was called. */
  private loaded = new Map<string, number>();
  /** Keys whose value is not a valid record, by key: reported at load, never served. */
  private readonly unreadable = new Map<string, UnreadableRecord>();

  constructor(
    private readonly client: EtcdClient,
    private readonly layout: KeyLayout,
    private readonly firstSync: () => Promise<void>,
    private readonly log: Logger,
  ) {
    this.location = `etcd ${layout.records()}`;
  }

  async load(check: RecordCheck): Promise<LoadResult<T>> {
    this.check = check;
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      this.firstSync().then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), LOAD_WAIT_MS))),
    ]);
    clearTimeout(timer);
    if (!waited) this.log.warn({ store: this.location }, 'etcd did not answer at start: hand-made records will be served once it does');
    const records: T[] = [];
    for (const [id, known] of this.known) {
      if (known.record === undefined) continue;
      records.push(known.record);
      this.loaded.set(id, known.revision);
    }
    return { records, unreadable: [...this.unreadable.values()] };
  }

  async put(record: T): Promise<void> {
    const revision = await this.write(() => this.client.write([{ put: this.layout.record(record.id), value: JSON.stringify(record) }]));
    this.settle(record.id, revision, record);
  }

  async remove(id: string): Promise<void> {
    const revision = await this.write(() => this.client.write([{ remove: this.layout.record(id) }]));
    this.settle(id, revision, undefined);
  }

  watch(onChange: (id: string, record: T | undefined) => void): void {
    this.onChange = onChange;
    for (const [id, known] of this.known) {
      if (this.loaded.get(id) !== known.revision) onChange(id, known.record);
    }
    for (const id of this.loaded.keys()) {
      if (!this.known.has(id)) onChange(id, undefined);
    }
    this.loaded.clear();
  }

  replaceAll(entries: KeyValue[], revision: number): void {
    const present = new Set<string>();
    for (const entry of entries) {
      const id = this.idOf(entry.key);
      if (id === undefined) continue;
      present.add(id);
      this.learn(id, entry.modRevision, this.decode(entry));
    }
    for (const [id, known] of this.known) {
      // Gone from etcd by that read's revision (a write of ours after it is newer and stays).
      if (!present.has(id) && known.record !== undefined) this.learn(id, revision, undefined);
    }
  }

  apply(event: WatchEvent): void {
    const id = this.idOf(event.key);
    if (id !== undefined) this.learn(id, event.modRevision, event.kind === 'delete' ? undefined : this.decode(event));
  }

  /** A state read from etcd: kept and reported if it is newer than what this node knows. */
  private learn(id: string, revision: number, record: T | undefined): void {
    const known = this.known.get(id);
    if (known !== undefined && known.revision >= revision) return;
    this.known.set(id, { revision, record });
    this.onChange?.(id, record);
  }

  /**
   * Our own write, committed at `revision`. The caller applies it right after;
   * if a newer state arrived meanwhile, it is reported again once that is done.
   */
  private settle(id: string, revision: number, record: T | undefined): void {
    const known = this.known.get(id);
    if (known !== undefined && known.revision > revision) {
      setImmediate(() => this.onChange?.(id, known.record));
      return;
    }
    this.known.set(id, { revision, record });
  }

  private async write(work: () => Promise<number>): Promise<number> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof EtcdUnavailableError) {
        throw new StoreUnavailableError('the record store (etcd) is unreachable, nothing was written; try again once etcd answers', { cause: error });
      }
      throw error;
    }
  }

  private idOf(key: string): string | undefined {
    const parsed = this.layout.parse(key);
    return parsed?.kind === 'record' ? parsed.id : undefined;
  }

  /** The record a key holds; undefined (served as absent, with an error logged) when it is unreadable. */
  private decode(entry: KeyValue): T | undefined {
    let value: unknown;
    try {
      value = JSON.parse(entry.value);
    } catch {
      value = undefined;
    }
    const problem = value === undefined ? 'not JSON' : this.check(value);
    if (problem === undefined && (value as StoredRecord).id === this.idOf(entry.key)) {
      this.unreadable.delete(entry.key);
      return value as T;
    }
    this.unreadable.set(entry.key, { id: this.idOf(entry.key), location: entry.key, reason: problem ?? 'its id differs from its key' });
    this.log.error({ key: entry.key, problem: problem ?? 'its id differs from its key' }, 'unreadable hand-made record in etcd: not served; rewrite it with PUT /v1/records/{id}');
    return undefined;
  }
}
