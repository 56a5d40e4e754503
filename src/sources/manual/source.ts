// The manual source: keeps hand-made records in a RecordStore, publishes each
// as a `manual:<id>` instance, expires it when its lease lapses and leaves it
// out of the answers while its health check fails. It knows the store only by
// the RecordStore contract: a local directory or etcd alike.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { NO_SRV, type Instance } from '../../registry/instance.js';
import { MANUAL_OWNER_PREFIX, manualOwner } from '../../registry/owners.js';
import type { Registry } from '../../registry/registry.js';
import { describeUnreadable, StoreUnavailableError, type LoadResult, type RecordStore, type UnreadableRecord } from '../../store/store.js';
import { InputError } from '../../lib/input-error.js';
import { checkAliases } from './aliases.js';
import { runHealthCheck, type HealthState } from './health.js';
import { LeaseDeadlines, systemClock, type LeaseClock } from './leases.js';
import {
  mergePatch,
  normalizeFields,
  recordProblem,
  type DnsdockOrigin,
  type HealthCheck,
  type ManualRecord,
  type ManualRecordView,
  type RecordFields,
  type RecordPatch,
} from './record.js';

/** A renew of a record without a lease. */
export class NoLeaseError extends Error {}

/** A write to an id whose stored entry could not be read at start-up: writing would overwrite it. */
export class RecordUnreadableError extends Error {}

/** A new id that differs from an existing record's only by case: on a case-insensitive file system both would be one file. */
export class RecordIdCaseError extends Error {}

/** A create-only write (HTTP `If-None-Match: *`) to an id that has a record. */
export class RecordExistsError extends Error {}

/** The form of an id in which ids that differ only by case are equal. */
const foldCase = (id: string) => id.toLowerCase();

/** What a change computes from the record as it stands: its new fields, and its DNSDock shape if it keeps one. */
export interface RecordChange {
  fields: RecordFields;
  dnsdock?: DnsdockOrigin;
}

export interface ManualSourceOptions {
  store: RecordStore<ManualRecord>;
  registry: Registry;
  zones: readonly string[];
  log: Logger;
  /** Told when the store starts failing writes (why) and when it writes again (undefined). */
  onStoreFault?: (fault: string | undefined) => void;
  /** The time leases run on: the system's unless a test drives its own. */
  clock?: LeaseClock;
}

export class ManualSource {
  private readonly records = new Map<string, ManualRecord>();
  private readonly health = new Map<string, HealthState>();
  private readonly healthChecks = new Map<string, () => void>();
  private readonly leases: LeaseDeadlines;
  /**
   * Ids with upper-case letters by their lower-case form: with `records` itself (for ids already in lower
   * case, most of them) this finds a record whose id differs from a new one by case only, at no cost per
   * lower-case id.
   */
  private readonly mixedCaseIds = new Map<string, string>();
  /** The last write queued per case-folded id: writes to one id (in any case) run one after another, writes to different ids overlap. */
  private readonly writesById = new Map<string, Promise<unknown>>();
  private readonly unreadable = new Map<string, UnreadableRecord>();
  /** TTL that DNSDock's `PUT /set/ttl` gives to DNSDock records without their own. */
  private dnsdockTtl: number | undefined;
  private currentStoreFault: string | undefined;
  private stopped = false;

  private readonly clock: LeaseClock;

  constructor(private readonly options: ManualSourceOptions) {
    this.clock = options.clock ?? systemClock;
    // expire() catches everything it runs.
    this.leases = new LeaseDeadlines((id, deadline) => void this.expire(id, deadline), this.clock);
  }

  /**
   * Loads every stored record and publishes it; expired leases are dropped here, unreadable entries reported and left alone.
   * A store that cannot write (a full or read-only disk) or even read (a data directory it cannot make) does not stop this:
   * what loads is served, the fault is logged and reported until it clears, and records that could not be read yet are published once they can.
   */
  async start(): Promise<void> {
    this.options.store.onFault?.((fault) => this.reportStoreFault(fault));
    const loaded = await this.options.store.load(
      (value) => {
        const problem = recordProblem(value);
        return problem === undefined ? undefined : `not a valid record: ${problem.field} ${problem.reason}`;
      },
      (late) =>
        void this.publishLoaded(late).then(
          () => this.options.log.warn({ records: this.records.size, store: this.options.store.location }, 'manual records loaded, late: the store can be read again'),
          (error: unknown) => this.options.log.error({ err: error, store: this.options.store.location }, 'manual records read late could not all be published; those left are published at the next start'),
        ),
    );
    await this.publishLoaded(loaded);
    this.options.store.watch?.((id, record) => this.applyStoredChange(id, record));
    this.options.log.info({ records: this.records.size, unreadable: loaded.unreadable.length, store: this.options.store.location }, 'manual records loaded');
  }

  /** Why the store cannot write now (for /readyz and the page), or undefined while it can. */
  get storeFault(): string | undefined {
    return this.currentStoreFault;
  }

  private reportStoreFault(fault: string | undefined): void {
    this.currentStoreFault = fault;
    if (fault === undefined) this.options.log.warn({ store: this.options.store.location }, 'record store can write again: writes to hand-made records are taken again');
    else {
      this.options.log.error(
        { store: this.options.store.location, fault },
        `the record store ${fault}: DNS serves every record loaded, writes to hand-made records are refused (507 or 503) until the disk recovers; retrying`,
      );
    }
    this.options.onStoreFault?.(fault);
  }

  /** Publishes the records of a load (at start, or late once the store could be read). */
  private async publishLoaded({ records, unreadable }: LoadResult<ManualRecord>): Promise<void> {
    for (const entry of unreadable) {
      this.unreadable.set(entry.id ?? entry.location, entry);
      this.options.log.error({ location: entry.location }, describeUnreadable(entry));
    }
    const now = this.clock.now();
    for (const record of records) {
      if (record.expiresAt !== undefined && Date.parse(record.expiresAt) <= now && !this.options.store.expiresLeases) {
        try {
          await this.options.store.remove(record.id);
          this.options.log.info({ id: record.id }, 'manual record lease lapsed while seamark was down: removed');
        } catch (error) {
          if (!(error instanceof StoreUnavailableError)) throw error;
          // Not served either way; its file goes at a later start, when the disk takes the removal.
          this.options.log.warn({ id: record.id }, 'manual record lease lapsed while seamark was down: not served, but its file stays until the store can write');
        }
        continue;
      }
      this.records.set(record.id, record);
      this.noteCase(record.id);
    }
    this.options.registry.replaceByPrefix(MANUAL_OWNER_PREFIX, [...this.records.values()].map((record) => this.instanceOf(record)));
    for (const record of this.records.values()) this.arm(record);
  }

  stop(): void {
    this.stopped = true;
    this.options.store.stop?.();
    this.leases.stop();
    for (const stopCheck of this.healthChecks.values()) stopCheck();
    this.healthChecks.clear();
  }

  /** Stored entries that could not be read at start-up, as messages: what /readyz and the metrics report. */
  problems(): string[] {
    return [...this.unreadable.values()].map(describeUnreadable);
  }

  list(): ManualRecordView[] {
    return [...this.records.values()].map((record) => this.view(record));
  }

  get(id: string): ManualRecordView | undefined {
    const record = this.records.get(id);
    return record === undefined ? undefined : this.view(record);
  }

  /** Creates a record with a fresh id. */
  async create(fields: RecordFields, dnsdock?: DnsdockOrigin): Promise<ManualRecordView> {
    return (await this.put(randomUUID(), fields, { dnsdock })).record;
  }

  /**
   * Creates or replaces the record with this id; `created` says which. A replaced lease starts again from now.
   * With `onlyIfAbsent` an existing record is left as it is and RecordExistsError thrown.
   */
  put(id: string, fields: RecordFields, options: { dnsdock?: DnsdockOrigin | undefined; onlyIfAbsent?: boolean } = {}): Promise<{ record: ManualRecordView; created: boolean }> {
    const { dnsdock, onlyIfAbsent = false } = options;
    const normal = normalizeFields(fields, this.options.zones);
    return this.exclusive(id, async () => {
      const previous = this.records.get(id);
      if (onlyIfAbsent && previous !== undefined) throw new RecordExistsError(`record "${id}" exists; leave out If-None-Match: * to replace it, or PATCH it`);
      const existing = previous === undefined ? this.sameIdInOtherCase(id) : undefined;
      if (existing !== undefined) {
        throw new RecordIdCaseError(
          `record id "${id}" differs from the existing record "${existing}" only by case; ids that differ only by case are refused, ` +
            `as they would be one file on a case-insensitive file system: use "${existing}" to change that record, or another id`,
        );
      }
      const record = await this.commit(id, previous, { fields: normal, ...(dnsdock === undefined ? {} : { dnsdock }) }, true);
      return { record: this.view(record), created: previous === undefined };
    });
  }

  /** A /v1/records PATCH; undefined when there is no such record. New names leave the DNSDock shape behind. */
  patch(id: string, patch: RecordPatch): Promise<ManualRecordView | undefined> {
    return this.update(id, (current) => ({
      fields: mergePatch(current, patch),
      ...(patch.names === undefined && current.dnsdock !== undefined ? { dnsdock: current.dnsdock } : {}),
    }));
  }

  /**
   * Read-modify-write under the id's write lock: `change` sees the record as it
   * stands and returns its new fields. Undefined when there is no such record (nothing is created).
   * The lease keeps its deadline unless the change sets a different length.
   */
  update(id: string, change: (current: ManualRecord) => RecordChange): Promise<ManualRecordView | undefined> {
    return this.exclusive(id, async () => {
      const previous = this.records.get(id);
      if (previous === undefined) return undefined;
      const next = change(previous);
      const record = await this.commit(id, previous, { ...next, fields: normalizeFields(next.fields, this.options.zones) }, false);
      return this.view(record);
    });
  }

  /** Deletes a record; false when there was none. */
  remove(id: string): Promise<boolean> {
    return this.exclusive(id, async () => {
      if (!this.records.has(id)) return false;
      await this.options.store.remove(id);
      this.forget(id);
      return true;
    });
  }

  /** Extends the lease by its length from now; undefined when there is no such record. */
  renew(id: string): Promise<ManualRecordView | undefined> {
    return this.exclusive(id, async () => {
      const previous = this.records.get(id);
      if (previous === undefined) return undefined;
      if (previous.lease === undefined) throw new NoLeaseError(`record ${id} has no lease to renew; set "lease" (seconds) with PATCH first`);
      const now = new Date(this.clock.now());
      const record: ManualRecord = { ...previous, updatedAt: now.toISOString(), expiresAt: new Date(now.getTime() + previous.lease * 1000).toISOString() };
      await this.store(record);
      return this.view(record);
    });
  }

  /** DNSDock's default TTL for its services without one (kept in memory, as DNSDock does). */
  setDnsdockTtl(ttl: number): void {
    this.dnsdockTtl = ttl;
    for (const record of this.records.values()) {
      if (record.dnsdock !== undefined && record.ttl === undefined) this.options.registry.upsert(this.instanceOf(record));
    }
  }

  /** Builds the record a write leads to, checks it as the loader will, stores it, then applies it. */
  private async commit(id: string, previous: ManualRecord | undefined, change: RecordChange, restartLease: boolean): Promise<ManualRecord> {
    const { fields, dnsdock } = change;
    const now = new Date(this.clock.now());
    const keepDeadline = !restartLease && previous?.expiresAt !== undefined && previous.lease === fields.lease;
    const expiresAt =
      fields.lease === undefined ? undefined : keepDeadline ? previous?.expiresAt : new Date(now.getTime() + fields.lease * 1000).toISOString();
    const record: ManualRecord = {
      id,
      ...fields,
      createdAt: previous?.createdAt ?? now.toISOString(),
      updatedAt: now.toISOString(),
      ...(expiresAt === undefined ? {} : { expiresAt }),
      ...(dnsdock === undefined ? {} : { dnsdock }),
    };
    const problem = recordProblem(record);
    if (problem !== undefined) throw new InputError(problem.field, `${problem.reason} (in the record as it would be stored)`);
    checkAliases(this.options.registry, this.options.zones, this.instanceOf(record));
    await this.store(record);
    return record;
  }

  /** A change another node made in a shared store (cluster mode): applied as it is, never written back. */
  applyStoredChange(id: string, record: ManualRecord | undefined): void {
    if (this.stopped) return;
    if (record === undefined) {
      if (this.records.has(id)) this.forget(id);
    } else if (JSON.stringify(this.records.get(id)) !== JSON.stringify(record)) this.applyRecord(record);
  }

  /** Stores the record, then applies it: the registry changes only once the write is durable. */
  private async store(record: ManualRecord): Promise<void> {
    await this.options.store.put(record);
    this.applyRecord(record);
  }

  private applyRecord(record: ManualRecord): void {
    const previous = this.records.get(record.id);
    this.records.set(record.id, record);
    this.noteCase(record.id);
    if (previous === undefined || JSON.stringify(previous.check) !== JSON.stringify(record.check)) {
      this.stopHealthCheck(record.id);
      this.health.delete(record.id);
    }
    this.options.registry.upsert(this.instanceOf(record));
    this.arm(record);
  }

  private forget(id: string): void {
    this.records.delete(id);
    if (this.mixedCaseIds.get(foldCase(id)) === id) this.mixedCaseIds.delete(foldCase(id));
    this.health.delete(id);
    this.stopHealthCheck(id);
    this.leases.clear(id);
    this.options.registry.remove(manualOwner(id));
  }

  private noteCase(id: string): void {
    const folded = foldCase(id);
    if (folded !== id && !this.records.has(this.mixedCaseIds.get(folded) ?? '')) this.mixedCaseIds.set(folded, id);
  }

  /** The id of a record (or of an unreadable stored entry) that differs from `id` by case only; undefined when there is none. */
  private sameIdInOtherCase(id: string): string | undefined {
    const folded = foldCase(id);
    if (folded !== id && (this.records.has(folded) || this.unreadable.has(folded))) return folded;
    const mixed = this.mixedCaseIds.get(folded);
    if (mixed !== undefined && mixed !== id && this.records.has(mixed)) return mixed;
    // Unreadable entries are few (each is an operator's problem): a scan is fine.
    return [...this.unreadable.keys()].find((other) => other !== id && foldCase(other) === folded);
  }

  private exclusive<R>(id: string, work: () => Promise<R>): Promise<R> {
    const unreadable = this.unreadable.get(id);
    if (unreadable !== undefined) {
      return Promise.reject(new RecordUnreadableError(`${describeUnreadable(unreadable)}; until then seamark refuses to change record "${id}"`));
    }
    const key = foldCase(id);
    const result = (this.writesById.get(key) ?? Promise.resolve()).then(work);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.writesById.set(key, settled);
    void settled.then(() => {
      if (this.writesById.get(key) === settled) this.writesById.delete(key);
    });
    return result;
  }

  private view(record: ManualRecord): ManualRecordView {
    const health = this.health.get(record.id);
    return { ...record, healthy: health?.healthy ?? true, ...(health === undefined ? {} : { checkCounts: { passing: health.passing, failing: health.failing } }) };
  }

  private instanceOf(record: ManualRecord): Instance {
    const ttl = record.ttl ?? (record.dnsdock !== undefined ? this.dnsdockTtl : undefined);
    return {
      owner: manualOwner(record.id),
      source: 'manual',
      names: record.names,
      addresses: record.addresses,
      ...(ttl === undefined ? {} : { ttl }),
      srv: record.srv.length === 0 ? NO_SRV : record.srv,
      healthy: this.health.get(record.id)?.healthy ?? true,
      ...(record.cname === undefined ? {} : { cname: record.cname }),
      ...(record.txt === undefined ? {} : { txt: record.txt }),
    };
  }

  /** Sets the lease deadline and starts the health check of a record, as it now stands. */
  private arm(record: ManualRecord): void {
    // A store that expires leases itself (etcd) is the only judge: this node's clock may be wrong.
    if (record.expiresAt !== undefined && !this.options.store.expiresLeases) this.leases.set(record.id, Date.parse(record.expiresAt));
    else this.leases.clear(record.id);
    if (record.check !== undefined && !this.healthChecks.has(record.id)) {
      const stop = runHealthCheck(
        record.check as HealthCheck,
        (state) => this.setHealth(record.id, state),
        (error) => this.options.log.error({ err: error, id: record.id }, 'health check round of a manual record failed; checking again at the next interval'),
      );
      this.healthChecks.set(record.id, stop);
    }
  }

  private async expire(id: string, deadline: number): Promise<void> {
    try {
      await this.exclusive(id, async () => {
        const record = this.records.get(id);
        // Renewed, replaced or removed since: a later deadline (if any) is already set.
        if (record?.expiresAt === undefined || Date.parse(record.expiresAt) > this.clock.now() || this.stopped) return;
        await this.options.store.remove(id);
        this.forget(id);
        this.options.log.info({ id, names: record.names }, 'manual record lease lapsed: removed');
      });
    } catch (error) {
      if (this.stopped) return;
      this.options.log.error({ err: error, id }, 'could not remove a manual record whose lease lapsed; retrying in 5 s');
      this.leases.set(id, Math.max(deadline, this.clock.now() + 5000));
    }
  }

  private setHealth(id: string, state: HealthState): void {
    const record = this.records.get(id);
    if (record === undefined || this.stopped) return;
    const { healthy } = state;
    const flipped = (this.health.get(id)?.healthy ?? true) !== healthy;
    this.health.set(id, state);
    if (!flipped) return;
    this.options.log.info({ id, names: record.names, healthy }, healthy ? 'manual record passes its health check again' : 'manual record fails its health check');
    this.options.registry.upsert(this.instanceOf(record));
  }

  private stopHealthCheck(id: string): void {
    this.healthChecks.get(id)?.();
    this.healthChecks.delete(id);
  }
}
