// Hand-made records in etcd (cluster mode): `records/<id>` keys without a
// lease. A write resolves once etcd committed it (quorum); while etcd cannot
// be reached it rejects with StoreUnavailableError and nothing is written.
// Changes by other nodes arrive through the cluster subscriber's watch.
import type { Logger } from 'pino';
import { EtcdUnavailableError, WriteConflictError, type EtcdClient, type KeyValue, type WatchEvent } from './client.js';
import type { KeyLayout } from './keys.js';
import type { RecordSink } from './subscriber.js';
import { StoreConflictError, StoreUnavailableError, type LoadResult, type RecordCheck, type RecordStore, type StoredRecord, type UnreadableRecord } from '../store/store.js';

/**
 * How long start-up waits at most for the first read of etcd (a request's whole deadline), which moves to the next
 * member after 1 s on a frozen one: one frozen member costs about 1 s; after this, start goes on without the records
 * (served once a read goes through).
 */
const LOAD_WAIT_MS = 3000;

interface Known<T> {
  revision: number;
  record: T | undefined;
  /** The etcd lease the record's key lives on (a leased record), as last read or written. */
  lease?: string | undefined;
  /** The key is in etcd (a record, or a value that does not read as one). */
  exists: boolean;
}

export class EtcdStore<T extends StoredRecord> implements RecordStore<T>, RecordSink {
  readonly location: string;
  /** A leased record lives on an etcd lease of its own: etcd deletes it when it lapses, on no node's clock. */
  readonly expiresLeases = true;
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
    /** The first read of the cluster: true once it went through, false when etcd did not answer it. */
    private readonly firstRead: () => Promise<boolean>,
    private readonly log: Logger,
  ) {
    this.location = `etcd ${layout.records()}`;
  }

  async load(check: RecordCheck): Promise<LoadResult<T>> {
    this.check = check;
    let timer: NodeJS.Timeout | undefined;
    // Start-up (and the API's listening) waits for the records while etcd answers, not while it is down.
    const read = await Promise.race([this.firstRead(), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), LOAD_WAIT_MS)))]);
    clearTimeout(timer);
    if (!read) this.log.warn({ store: this.location }, 'etcd did not answer at start: hand-made records will be served once it does');
    const records: T[] = [];
    for (const [id, known] of this.known) {
      if (known.record === undefined) continue;
      records.push(known.record);
      this.loaded.set(id, known.revision);
    }
    return { records, unreadable: [...this.unreadable.values()] };
  }

  /**
   * Writes a record over the state this node knows of it (a transaction on its mod revision: another node's change
   * meanwhile is a StoreConflictError, nothing written). A leased record keeps its etcd lease while its deadline
   * stays; a new or renewed deadline takes a new lease of the record's length, and the old one is revoked.
   */
  async put(record: T): Promise<void> {
    const known = this.known.get(record.id);
    const key = this.layout.record(record.id);
    const keepsLease = record.lease !== undefined && known?.lease !== undefined && known.lease !== '0' && known.record?.expiresAt === record.expiresAt;
    const lease = record.lease === undefined ? undefined : keepsLease ? known?.lease : await this.write(() => this.client.grantLease(record.lease as number));
    const revision = await this.write(() =>
      this.client.write([{ put: key, value: JSON.stringify(record), ...(lease === undefined ? {} : { lease }) }], { key, modRevision: known?.exists === true ? known.revision : 0 }),
    ).catch((error: unknown) => {
      if (lease !== undefined && !keepsLease) void this.client.revokeLease(lease).catch(() => undefined);
      throw error;
    });
    this.settle(record.id, revision, record, lease);
    if (known?.lease !== undefined && known.lease !== '0' && known.lease !== lease) void this.client.revokeLease(known.lease).catch(() => undefined);
  }

  async remove(id: string): Promise<void> {
    const lease = this.known.get(id)?.lease;
    const revision = await this.write(() => this.client.write([{ remove: this.layout.record(id) }]));
    this.settle(id, revision, undefined);
    if (lease !== undefined && lease !== '0') void this.client.revokeLease(lease).catch(() => undefined);
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
      this.learn(id, entry.modRevision, this.decode(entry), entry.lease, true);
    }
    for (const [id, known] of this.known) {
      // Gone from etcd by that read's revision (a write of ours after it is newer and stays).
      if (!present.has(id) && known.exists) this.learn(id, revision, undefined, undefined, false);
    }
  }

  apply(event: WatchEvent): void {
    const id = this.idOf(event.key);
    if (id !== undefined) this.learn(id, event.modRevision, event.kind === 'delete' ? undefined : this.decode(event), event.lease, event.kind !== 'delete');
  }

  /** A state read from etcd: kept and reported if it is newer than what this node knows. */
  private learn(id: string, revision: number, record: T | undefined, lease: string | undefined, exists: boolean): void {
    const known = this.known.get(id);
    if (known !== undefined && known.revision >= revision) return;
    this.known.set(id, { revision, record, lease, exists });
    if (record?.lease !== undefined && lease === '0') {
      // Written by a seamark that judged leases by its own clock: etcd knows no lease of it, so nothing expires it.
      this.log.warn({ id, expiresAt: record.expiresAt }, 'hand-made record has a lease but no etcd lease (written by an older seamark): it does not expire until renewed (POST /v1/records/{id}/renew) or written again');
    }
    this.onChange?.(id, record);
  }

  /**
   * Our own write, committed at `revision`. The caller applies it right after;
   * if a newer state arrived meanwhile, it is reported again once that is done.
   */
  private settle(id: string, revision: number, record: T | undefined, lease?: string): void {
    const known = this.known.get(id);
    if (known !== undefined && known.revision > revision) {
      setImmediate(() => this.onChange?.(id, known.record));
      return;
    }
    this.known.set(id, { revision, record, lease, exists: record !== undefined });
  }

  private async write<R>(work: () => Promise<R>): Promise<R> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof WriteConflictError) {
        throw new StoreConflictError('the record was changed by another node meanwhile; nothing was written: read it again and retry', { cause: error });
      }
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
