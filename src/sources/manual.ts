// Hand-made records (VMs, bare-metal hosts): validated, kept in a durable
// store, published as `manual:<id>` instances, expired when their lease
// lapses and taken out of the answers while their health check fails.
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import type { Logger } from 'pino';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { SrvSchema } from '../config/schema.js';
import type { Instance } from '../registry/instance.js';
import { canonicalAddress, isInZone, nameProblem, qualifyName } from '../registry/names.js';
import type { Registry } from '../registry/registry.js';
import type { RecordStore } from '../store/store.js';

export const MANUAL_OWNER_PREFIX = 'manual:';
/** Leases are timers, and Node timers reach at most 2^31-1 ms; 20 days stays well inside. */
export const MAX_LEASE_SECONDS = 20 * 86400;
const Strict = { additionalProperties: false } as const;

export const RecordIdSchema = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$',
  description: 'Letters, digits, "_", "." and "-", starting with a letter or digit, at most 128 characters',
});

export const HealthCheckSchema = Type.Object(
  {
    http: Type.Optional(Type.String({ minLength: 1, description: 'URL that answers 2xx or 3xx while the host is healthy' })),
    tcp: Type.Optional(Type.String({ minLength: 1, description: '`host:port` that accepts a TCP connection while the host is healthy' })),
    // Defaults are filled in by normalizeFields: JSON-schema defaults inside PATCH's anyOf would be ignored.
    interval: Type.Optional(Type.Number({ minimum: 0.2, maximum: 86400, description: 'Seconds between checks [10]' })),
    timeout: Type.Optional(Type.Number({ minimum: 0.05, maximum: 60, description: 'Seconds one check may take [2]' })),
  },
  Strict,
);

const recordFields = {
  names: Type.Array(Type.String({ minLength: 1, maxLength: 254 }), {
    minItems: 1,
    maxItems: 64,
    description: 'Host names, relative to the first zone or fully qualified inside a served zone; the first is canonical',
  }),
  addresses: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 64, description: 'IPv4 and IPv6 addresses' }),
  ttl: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647, description: 'Answer TTL, seconds; the server default when absent' })),
  srv: Type.Array(SrvSchema, { default: [], maxItems: 64, description: 'SRV entries: _<service>._<protocol>.<name>' }),
  check: Type.Optional(HealthCheckSchema),
  lease: Type.Optional(
    Type.Integer({ minimum: 1, maximum: MAX_LEASE_SECONDS, description: 'Seconds the record lives unless renewed with POST /v1/records/{id}/renew' }),
  ),
};

/** What a client sends to create or replace a record. */
export const RecordFieldsSchema = Type.Object(recordFields, Strict);
export type RecordFields = Static<typeof RecordFieldsSchema>;

/** A partial update: fields present replace, `null` removes an optional field. */
export const RecordPatchSchema = Type.Object(
  {
    names: Type.Optional(recordFields.names),
    addresses: Type.Optional(recordFields.addresses),
    ttl: Type.Optional(Type.Union([recordFields.ttl, Type.Null()])),
    srv: Type.Optional(Type.Array(SrvSchema, { maxItems: 64 })),
    check: Type.Optional(Type.Union([HealthCheckSchema, Type.Null()])),
    lease: Type.Optional(Type.Union([recordFields.lease, Type.Null()])),
  },
  { ...Strict, minProperties: 1 },
);
export type RecordPatch = Static<typeof RecordPatchSchema>;

/** How a record made through the DNSDock API looked there, so it reads back the same. */
export const DnsdockOriginSchema = Type.Object(
  { name: Type.String(), image: Type.String(), aliases: Type.Array(Type.String()) },
  Strict,
);

const serverFields = {
  id: RecordIdSchema,
  ...recordFields,
  createdAt: Type.String({ description: 'ISO 8601' }),
  updatedAt: Type.String({ description: 'ISO 8601' }),
  expiresAt: Type.Optional(Type.String({ description: 'ISO 8601; when the lease lapses unless renewed' })),
};

/** A record as stored: normalised fields plus what the server adds. */
export const ManualRecordSchema = Type.Object({ ...serverFields, dnsdock: Type.Optional(DnsdockOriginSchema) }, Strict);

/** A record as the API answers it: names fully qualified, addresses canonical, and its current health. */
export const RecordViewSchema = Type.Object({
  ...serverFields,
  healthy: Type.Boolean({ description: 'false while the health check fails' }),
});
export type ManualRecord = Static<typeof ManualRecordSchema>;

/** A record as read back: what is stored plus its current health. */
export type ManualRecordView = ManualRecord & { healthy: boolean };

/** Input that is well-formed JSON but wrong in meaning: which field, and why. */
export class RecordInputError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

export class NoLeaseError extends Error {}

export interface ManualSourceOptions {
  store: RecordStore<ManualRecord>;
  registry: Registry;
  zones: readonly string[];
  log: Logger;
}

export class ManualSource {
  private readonly records = new Map<string, ManualRecord>();
  private readonly health = new Map<string, boolean>();
  private readonly leaseTimers = new Map<string, NodeJS.Timeout>();
  private readonly healthChecks = new Map<string, () => void>();
  /** Writes run one at a time, so each is stored and applied before the next reads the state. */
  private writes: Promise<unknown> = Promise.resolve();
  /** TTL that DNSDock's `PUT /set/ttl` gives to DNSDock records without their own. */
  private dnsdockTtl: number | undefined;
  private stopped = false;

  constructor(private readonly options: ManualSourceOptions) {}

  /** Loads every stored record and publishes it; expired leases are dropped here. */
  async start(): Promise<void> {
    const loaded = await this.options.store.load((value) => describeStoredProblem(value));
    const now = Date.now();
    for (const record of loaded) {
      if (record.expiresAt !== undefined && Date.parse(record.expiresAt) <= now) {
        await this.options.store.remove(record.id);
        this.options.log.info({ id: record.id }, 'manual record lease lapsed while seamark was down: removed');
        continue;
      }
      this.records.set(record.id, record);
    }
    this.options.registry.replaceByPrefix(MANUAL_OWNER_PREFIX, [...this.records.values()].map((record) => this.instanceOf(record)));
    for (const record of this.records.values()) this.arm(record);
    this.options.store.watch?.((id, record) => this.applyStoredChange(id, record));
    this.options.log.info({ records: this.records.size, store: this.options.store.location }, 'manual records loaded');
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.leaseTimers.values()) clearTimeout(timer);
    for (const stopCheck of this.healthChecks.values()) stopCheck();
    this.leaseTimers.clear();
    this.healthChecks.clear();
  }

  list(): ManualRecordView[] {
    return [...this.records.values()].map((record) => this.view(record));
  }

  get(id: string): ManualRecordView | undefined {
    const record = this.records.get(id);
    return record === undefined ? undefined : this.view(record);
  }

  /** Creates a record with a fresh id. */
  create(fields: RecordFields, dnsdock?: ManualRecord['dnsdock']): Promise<ManualRecordView> {
    return this.put(randomUUID(), fields, dnsdock).then(({ record }) => record);
  }

  /** Creates or replaces the record with this id; `created` says which. */
  put(id: string, fields: RecordFields, dnsdock?: ManualRecord['dnsdock']): Promise<{ record: ManualRecordView; created: boolean }> {
    const normal = normalizeFields(fields, this.options.zones);
    return this.exclusive(async () => {
      const previous = this.records.get(id);
      const now = new Date();
      const record: ManualRecord = {
        id,
        ...normal,
        createdAt: previous?.createdAt ?? now.toISOString(),
        updatedAt: now.toISOString(),
        ...(normal.lease === undefined ? {} : { expiresAt: new Date(now.getTime() + normal.lease * 1000).toISOString() }),
        ...(dnsdock === undefined ? {} : { dnsdock }),
      };
      await this.commit(record);
      return { record: this.view(record), created: previous === undefined };
    });
  }

  /** Applies a partial update; undefined when there is no such record. */
  patch(id: string, patch: RecordPatch, dnsdock?: ManualRecord['dnsdock']): Promise<ManualRecordView | undefined> {
    return this.exclusive(async () => {
      const previous = this.records.get(id);
      if (previous === undefined) return undefined;
      const merged = mergePatch(previous, patch);
      const normal = normalizeFields(merged, this.options.zones);
      const now = new Date();
      const leaseChanged = normal.lease !== previous.lease;
      const record: ManualRecord = {
        id,
        ...normal,
        createdAt: previous.createdAt,
        updatedAt: now.toISOString(),
        ...(normal.lease === undefined
          ? {}
          : { expiresAt: leaseChanged || previous.expiresAt === undefined ? new Date(now.getTime() + normal.lease * 1000).toISOString() : previous.expiresAt }),
        ...(dnsdock ?? previous.dnsdock ? { dnsdock: dnsdock ?? previous.dnsdock } : {}),
      };
      await this.commit(record);
      return this.view(record);
    });
  }

  /** Deletes a record; false when there was none. */
  remove(id: string): Promise<boolean> {
    return this.exclusive(async () => {
      if (!this.records.has(id)) return false;
      await this.options.store.remove(id);
      this.forget(id);
      return true;
    });
  }

  /** Extends the lease by its length from now; undefined when there is no such record. */
  renew(id: string): Promise<ManualRecordView | undefined> {
    return this.exclusive(async () => {
      const previous = this.records.get(id);
      if (previous === undefined) return undefined;
      if (previous.lease === undefined) throw new NoLeaseError(`record ${id} has no lease to renew; set "lease" (seconds) with PATCH first`);
      const now = new Date();
      const record: ManualRecord = { ...previous, updatedAt: now.toISOString(), expiresAt: new Date(now.getTime() + previous.lease * 1000).toISOString() };
      await this.commit(record);
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

  /** A change another node made in a shared store: applied as it is, never written back. */
  applyStoredChange(id: string, record: ManualRecord | undefined): void {
    if (this.stopped) return;
    if (record === undefined) {
      if (this.records.has(id)) this.forget(id);
    } else if (JSON.stringify(this.records.get(id)) !== JSON.stringify(record)) this.applyRecord(record);
  }

  /** Stores the record, then applies it: the registry changes only once the write is durable. */
  private async commit(record: ManualRecord): Promise<void> {
    await this.options.store.put(record);
    this.applyRecord(record);
  }

  private applyRecord(record: ManualRecord): void {
    const previous = this.records.get(record.id);
    this.records.set(record.id, record);
    if (previous === undefined || JSON.stringify(previous.check) !== JSON.stringify(record.check)) {
      this.stopHealthCheck(record.id);
      this.health.delete(record.id);
    }
    this.options.registry.upsert(this.instanceOf(record));
    this.arm(record);
  }

  private forget(id: string): void {
    this.records.delete(id);
    this.health.delete(id);
    this.stopHealthCheck(id);
    clearTimeout(this.leaseTimers.get(id));
    this.leaseTimers.delete(id);
    this.options.registry.remove(MANUAL_OWNER_PREFIX + id);
  }

  private exclusive<R>(work: () => Promise<R>): Promise<R> {
    const result = this.writes.then(work);
    this.writes = result.catch(() => undefined);
    return result;
  }

  private view(record: ManualRecord): ManualRecordView {
    return { ...record, healthy: this.health.get(record.id) ?? true };
  }

  private instanceOf(record: ManualRecord): Instance {
    const ttl = record.ttl ?? (record.dnsdock !== undefined ? this.dnsdockTtl : undefined);
    return {
      owner: MANUAL_OWNER_PREFIX + record.id,
      source: 'manual',
      names: record.names,
      addresses: record.addresses,
      ...(ttl === undefined ? {} : { ttl }),
      srv: record.srv,
      healthy: this.health.get(record.id) ?? true,
    };
  }

  /** Sets the lease timer and starts the health check of a record, as it now stands. */
  private arm(record: ManualRecord): void {
    clearTimeout(this.leaseTimers.get(record.id));
    this.leaseTimers.delete(record.id);
    if (record.expiresAt !== undefined) this.armLease(record.id, record.expiresAt);
    if (record.check !== undefined && !this.healthChecks.has(record.id)) {
      const check = { ...record.check, interval: record.check.interval ?? 10, timeout: record.check.timeout ?? 2 };
      this.healthChecks.set(record.id, runHealthCheck(check, (healthy) => this.setHealth(record.id, healthy)));
    }
  }

  private armLease(id: string, expiresAt: string): void {
    const wait = Math.max(0, Date.parse(expiresAt) - Date.now());
    const timer = setTimeout(() => void this.expire(id, expiresAt), Math.min(wait, 2 ** 31 - 1));
    timer.unref();
    this.leaseTimers.set(id, timer);
  }

  private async expire(id: string, expiresAt: string): Promise<void> {
    try {
      await this.exclusive(async () => {
        const record = this.records.get(id);
        // Renewed (or replaced) since this timer was set: nothing to do.
        if (record === undefined || record.expiresAt !== expiresAt || this.stopped) return;
        await this.options.store.remove(id);
        this.forget(id);
        this.options.log.info({ id, names: record.names }, 'manual record lease lapsed: removed');
      });
    } catch (error) {
      this.options.log.error({ err: error, id }, 'could not remove a manual record whose lease lapsed; retrying in 5 s');
      const timer = setTimeout(() => void this.expire(id, expiresAt), 5000);
      timer.unref();
      this.leaseTimers.set(id, timer);
    }
  }

  private setHealth(id: string, healthy: boolean): void {
    const record = this.records.get(id);
    if (record === undefined || this.stopped || (this.health.get(id) ?? true) === healthy) {
      if (record !== undefined) this.health.set(id, healthy);
      return;
    }
    this.health.set(id, healthy);
    this.options.log.info({ id, names: record.names, healthy }, healthy ? 'manual record passes its health check again' : 'manual record fails its health check');
    this.options.registry.upsert(this.instanceOf(record));
  }

  private stopHealthCheck(id: string): void {
    this.healthChecks.get(id)?.();
    this.healthChecks.delete(id);
  }
}

/** Qualifies names, canonicalises addresses and checks what a JSON schema cannot; throws RecordInputError. */
export function normalizeFields(fields: RecordFields, zones: readonly string[]): RecordFields {
  const names = fields.names.map((name, i) => {
    const field = `names[${i}]`;
    const problem = nameProblem(name);
    if (problem !== undefined) throw new RecordInputError(field, `"${name}" is not a valid DNS name: it ${problem}`);
    const qualified = qualifyName(name, zones);
    if (!zones.some((zone) => isInZone(qualified, zone))) {
      throw new RecordInputError(field, `"${name}" is outside the served zones (${zones.join(', ')})`);
    }
    if (zones.includes(qualified)) throw new RecordInputError(field, `"${name}" is the zone apex itself; name a host inside it`);
    const longProblem = nameProblem(qualified);
    if (longProblem !== undefined) throw new RecordInputError(field, `"${qualified}" (qualified) ${longProblem}`);
    return qualified;
  });
  const addresses = fields.addresses.map((address, i) => {
    const canonical = canonicalAddress(address);
    if (canonical === undefined) throw new RecordInputError(`addresses[${i}]`, `"${address}" is not an IPv4 or IPv6 address`);
    return canonical;
  });
  const check = fields.check === undefined ? undefined : { ...fields.check, interval: fields.check.interval ?? 10, timeout: fields.check.timeout ?? 2 };
  if (check !== undefined) checkHealthCheck(check);
  return {
    names: [...new Set(names)],
    addresses: [...new Set(addresses)],
    ...(fields.ttl === undefined ? {} : { ttl: fields.ttl }),
    srv: (fields.srv ?? []).map((srv) => ({ ...srv, service: srv.service.toLowerCase(), protocol: srv.protocol.toLowerCase() })),
    ...(check === undefined ? {} : { check }),
    ...(fields.lease === undefined ? {} : { lease: fields.lease }),
  };
}

type HealthCheck = Required<Pick<Static<typeof HealthCheckSchema>, 'interval' | 'timeout'>> & Static<typeof HealthCheckSchema>;

function checkHealthCheck(check: HealthCheck): void {
  if ((check.http === undefined) === (check.tcp === undefined)) {
    throw new RecordInputError('check', 'give exactly one of "http" (a URL) or "tcp" (host:port)');
  }
  if (check.http !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(check.http);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new RecordInputError('check.http', `"${check.http}" is not an http:// or https:// URL`);
    }
  }
  if (check.tcp !== undefined && parseHostPort(check.tcp) === undefined) {
    throw new RecordInputError('check.tcp', `"${check.tcp}" is not host:port (IPv6 in brackets, port 1-65535)`);
  }
  if (check.timeout > check.interval) throw new RecordInputError('check.timeout', `${check.timeout} s is longer than the interval (${check.interval} s)`);
}

function mergePatch(previous: ManualRecord, patch: RecordPatch): RecordFields {
  const merged: RecordFields = {
    names: patch.names ?? previous.names,
    addresses: patch.addresses ?? previous.addresses,
    srv: patch.srv ?? previous.srv,
  };
  const ttl = patch.ttl === undefined ? previous.ttl : patch.ttl;
  const check = patch.check === undefined ? previous.check : patch.check;
  const lease = patch.lease === undefined ? previous.lease : patch.lease;
  if (ttl !== null && ttl !== undefined) merged.ttl = ttl;
  if (check !== null && check !== undefined) merged.check = check;
  if (lease !== null && lease !== undefined) merged.lease = lease;
  return merged;
}

function describeStoredProblem(value: unknown): string | undefined {
  if (Value.Check(ManualRecordSchema, value)) return undefined;
  const [first] = Value.Errors(ManualRecordSchema, value);
  return `not a valid record: ${first?.instancePath || 'top level'} ${first?.message ?? 'is invalid'}`;
}

function parseHostPort(text: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (match === null || !(port >= 1 && port <= 65535)) return undefined;
  return { host: match[1] ?? match[2] ?? '', port };
}

/** Probes a check now and then every interval, reporting each result; returns a function that stops it. */
function runHealthCheck(check: HealthCheck, report: (healthy: boolean) => void): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const round = async () => {
    const healthy = await probe(check);
    if (stopped) return;
    report(healthy);
    timer = setTimeout(() => void round(), check.interval * 1000);
    timer.unref();
  };
  void round();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

async function probe(check: HealthCheck): Promise<boolean> {
  const timeoutMs = check.timeout * 1000;
  if (check.http !== undefined) {
    try {
      const response = await fetch(check.http, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
      await response.body?.cancel();
      return response.status >= 200 && response.status < 400;
    } catch {
      return false;
    }
  }
  const target = parseHostPort(check.tcp ?? '');
  if (target === undefined) return false;
  return new Promise<boolean>((resolve) => {
    const socket = connect({ host: target.host, port: target.port });
    const finish = (healthy: boolean) => {
      socket.destroy();
      resolve(healthy);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}
