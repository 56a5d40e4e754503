// What a hand-made record is: the JSON schemas every route and the store
// loader share, and the normalisation that turns client input into the one
// stored form. Nothing reaches the store without passing `recordProblem`.
import { isIPv4, isIPv6 } from 'node:net';
import { SrvSchema } from '../../config/schema.js';
import { describeIssue, pickIssue, validatorOf, type SchemaType } from '../../lib/json-schema.js';
import { InputError } from '../../lib/input-error.js';
import { canonicalAddress, isInZone, isWildcard, nameProblem, normalizeName, qualifyName, reservedNameProblem, servedNameProblem } from '../../registry/names.js';
import { MAX_TXT_OCTETS } from '../../registry/instance.js';
import { srvNameProblem } from '../../registry/registry.js';

/** A year, leap years included: deadlines wait in one timer queue that re-arms past Node's 24.8-day timer limit. */
export const MAX_LEASE_SECONDS = 366 * 86400;
export const MAX_RECORD_ID_LENGTH = 128;
/** The most names, addresses or SRV entries one record holds, whichever route made it. */
export const MAX_ITEMS = 64;
/** The most TXT octets one record holds, all strings together: its TXT answer stays well inside a DNS message. */
export const MAX_TXT_TOTAL_OCTETS = 16384;
const DEFAULT_CHECK_INTERVAL = 10;
const DEFAULT_CHECK_TIMEOUT = 2;
/** HAProxy's defaults: one good or bad answer alone does not flip a host. */
export const DEFAULT_CHECK_RISE = 2;
export const DEFAULT_CHECK_FALL = 3;
const Strict = { additionalProperties: false } as const;

export const RecordIdSchema = {
  type: 'string',
  pattern: `^[A-Za-z0-9][A-Za-z0-9_.-]{0,${MAX_RECORD_ID_LENGTH - 1}}$`,
  description: `Letters, digits, "_", "." and "-", starting with a letter or digit, at most ${MAX_RECORD_ID_LENGTH} characters; a new id that differs from an existing one only by case is refused (409)`,
} as const;

export const HealthCheckSchema = {
  type: 'object',
  properties: {
    http: { type: 'string', minLength: 1, description: 'URL that answers 2xx or 3xx while the host is healthy' },
    tcp: { type: 'string', minLength: 1, description: '`host:port` that accepts a TCP connection while the host is healthy' },
    // Defaults are filled in by normalizeFields: JSON-schema defaults inside PATCH's anyOf would be ignored.
    interval: { type: 'number', minimum: 0.2, maximum: 86400, description: `Seconds between checks [${DEFAULT_CHECK_INTERVAL}]` },
    timeout: { type: 'number', minimum: 0.05, maximum: 60, description: `Seconds one check may take [${DEFAULT_CHECK_TIMEOUT}, or the interval when shorter]` },
    rise: { type: 'integer', minimum: 1, maximum: 100, description: `Passing checks in a row that make an unhealthy host healthy [${DEFAULT_CHECK_RISE}]` },
    fall: { type: 'integer', minimum: 1, maximum: 100, description: `Failing checks in a row that make a healthy host unhealthy [${DEFAULT_CHECK_FALL}]` },
  },
  ...Strict,
} as const;
export type HealthCheck = SchemaType<typeof HealthCheckSchema> & { interval: number; timeout: number };

const recordFields = {
  names: {
    type: 'array',
    items: { type: 'string', minLength: 1, maxLength: 254 },
    minItems: 1,
    maxItems: MAX_ITEMS,
    description:
      'Host names, relative to the first zone or fully qualified inside a served zone; the first that is not a wildcard is canonical. ' +
      '`*.app` is a wildcard (RFC 4592): it answers every name below `app` that does not exist',
  },
  addresses: {
    type: 'array',
    items: { type: 'string', minLength: 1, maxLength: 64 },
    maxItems: MAX_ITEMS,
    description: 'IPv4 and IPv6 addresses; at least one unless the record is a `cname` or carries `txt`',
  },
  ttl: { type: 'integer', minimum: 0, maximum: 2147483647, description: 'Answer TTL, seconds; the server default when absent' },
  srv: { type: 'array', items: SrvSchema, default: [], maxItems: MAX_ITEMS, description: 'SRV entries: _<service>._<protocol>.<name>' },
  check: HealthCheckSchema,
  lease: { type: 'integer', minimum: 1, maximum: MAX_LEASE_SECONDS, description: 'Seconds the record lives unless renewed with POST /v1/records/{id}/renew' },
  cname: {
    type: 'string',
    minLength: 1,
    maxLength: 254,
    description:
      'The names are an alias of this name (a CNAME, RFC 1034 §3.6.2): no addresses, srv or txt with it, and no other record at its names. ' +
      'A name in a served zone or a single label (relative to the first zone) is followed in the same answer; a name with dots outside the zones is taken as fully qualified',
  },
  txt: {
    type: 'array',
    items: { type: 'string', maxLength: MAX_TXT_OCTETS },
    maxItems: MAX_ITEMS,
    description: `TXT strings, one TXT record each; a string longer than 255 octets is sent as several 255-octet character-strings of one record (at most ${MAX_TXT_OCTETS} octets a string, ${MAX_TXT_TOTAL_OCTETS} a record)`,
  },
} as const;
const REQUIRED_RECORD_FIELDS = ['names', 'addresses', 'srv'] as const;

/** What a client sends to create or replace a record. */
export const RecordFieldsSchema = {
  type: 'object',
  required: ['names', 'srv'],
  properties: { ...recordFields, addresses: { ...recordFields.addresses, default: [] } },
  ...Strict,
} as const;
export type RecordFields = SchemaType<typeof RecordFieldsSchema>;

/** A partial update: fields present replace, `null` removes an optional field. */
export const RecordPatchSchema = {
  type: 'object',
  properties: {
    names: recordFields.names,
    addresses: recordFields.addresses,
    ttl: { anyOf: [recordFields.ttl, { type: 'null' }] },
    srv: { type: 'array', items: SrvSchema, maxItems: MAX_ITEMS },
    check: { anyOf: [HealthCheckSchema, { type: 'null' }] },
    lease: { anyOf: [recordFields.lease, { type: 'null' }] },
    cname: { anyOf: [recordFields.cname, { type: 'null' }] },
    txt: { anyOf: [recordFields.txt, { type: 'null' }] },
  },
  ...Strict,
  minProperties: 1,
} as const;
export type RecordPatch = SchemaType<typeof RecordPatchSchema>;

/** How a record made through the DNSDock API looked there, so it reads back the same. */
export const DnsdockOriginSchema = {
  type: 'object',
  required: ['name', 'image', 'aliases'],
  properties: { name: { type: 'string' }, image: { type: 'string' }, aliases: { type: 'array', items: { type: 'string' }, maxItems: MAX_ITEMS } },
  ...Strict,
} as const;
export type DnsdockOrigin = SchemaType<typeof DnsdockOriginSchema>;

const serverFields = {
  id: RecordIdSchema,
  ...recordFields,
  createdAt: { type: 'string', description: 'ISO 8601' },
  updatedAt: { type: 'string', description: 'ISO 8601' },
  expiresAt: { type: 'string', description: 'ISO 8601; when the lease lapses unless renewed' },
} as const;
const REQUIRED_SERVER_FIELDS = ['id', ...REQUIRED_RECORD_FIELDS, 'createdAt', 'updatedAt'] as const;

/** A record as stored: normalised fields plus what the server adds. */
export const ManualRecordSchema = {
  type: 'object',
  required: REQUIRED_SERVER_FIELDS,
  properties: { ...serverFields, dnsdock: DnsdockOriginSchema },
  ...Strict,
} as const;
export type ManualRecord = SchemaType<typeof ManualRecordSchema>;

export const CheckCountsSchema = {
  type: 'object',
  required: ['passing', 'failing'],
  properties: {
    passing: { type: 'integer', description: 'Checks passed in a row, up to the last one' },
    failing: { type: 'integer', description: 'Checks failed in a row, up to the last one' },
  },
  description: 'With a check, once it has run: the current run of results',
} as const;
export type CheckCounts = SchemaType<typeof CheckCountsSchema>;

/** A record as the API answers it: names fully qualified, addresses canonical, and its current health. */
export const RecordViewSchema = {
  type: 'object',
  required: [...REQUIRED_SERVER_FIELDS, 'healthy'],
  properties: {
    ...serverFields,
    healthy: { type: 'boolean', description: 'false once check.fall checks failed in a row, until check.rise pass in a row' },
    checkCounts: CheckCountsSchema,
  },
} as const;
export type ManualRecordView = ManualRecord & { healthy: boolean; checkCounts?: CheckCounts };

// Compiled on the first record loaded or written.
const validStoredRecord = validatorOf<ManualRecord>(ManualRecordSchema);

/**
 * Why a value is not a record the store may hold, or undefined when it is. The
 * loader checks every stored record with it and every write checks the record
 * it is about to store, so whatever a route acknowledges loads again.
 */
export function recordProblem(value: unknown): { field: string; reason: string } | undefined {
  const validate = validStoredRecord();
  if (validate(value)) return undefined;
  const { field, reason } = describeIssue(pickIssue(validate.errors));
  return { field: field === '' ? 'record' : field, reason };
}

/** Qualifies names, canonicalises addresses and checks what a JSON schema cannot; throws InputError. */
export function normalizeFields(fields: RecordFields, zones: readonly string[]): RecordFields {
  const names = fields.names.map((name, i) => qualifiedRecordName(name, `names[${i}]`, zones));
  const given = fields.addresses ?? [];
  const cname = fields.cname === undefined ? undefined : aliasTarget(fields.cname, zones);
  const txt = fields.txt === undefined ? undefined : textStrings(fields.txt);
  if (cname !== undefined) {
    const others = (['addresses', 'srv', 'txt'] as const).filter((field) => (fields[field] ?? []).length > 0);
    if (others.length > 0) {
      throw new InputError('cname', `a CNAME owner has no other data (RFC 1034 §3.6.2): leave out ${others.join(', ')}, or make it a record of its own under another name`);
    }
  } else if (given.length === 0 && (txt === undefined || txt.length === 0)) {
    throw new InputError('addresses', 'at least one address is required, unless the record is a "cname" or carries "txt"');
  }
  const addresses = given.map((address, i) => {
    const canonical = recordAddress(address);
    if (canonical === undefined) throw new InputError(`addresses[${i}]`, `"${address}" is not an IPv4 or IPv6 address`);
    return canonical;
  });
  (fields.srv ?? []).forEach((srv, i) => {
    if (names.every(isWildcard)) throw new InputError(`srv[${i}]`, 'SRV records need a name that is not a wildcard: their target is the canonical name');
    for (const name of names) {
      const problem = srvNameProblem(srv, name);
      if (problem !== undefined) throw new InputError(`srv[${i}]`, `${problem}; shorten the service or the name`);
    }
  });
  const check = fields.check === undefined ? undefined : normalizeCheck(fields.check);
  return {
    names: [...new Set(names)],
    addresses: [...new Set(addresses)],
    ...(fields.ttl === undefined ? {} : { ttl: fields.ttl }),
    srv: uniqueSrv(fields.srv ?? []),
    ...(check === undefined ? {} : { check }),
    ...(fields.lease === undefined ? {} : { lease: fields.lease }),
    ...(cname === undefined ? {} : { cname }),
    ...(txt === undefined || txt.length === 0 ? {} : { txt }),
  };
}

/**
 * The fully qualified target of a `cname`: a name in a served zone (with or without the trailing dot) or a single
 * label (under the first zone) as for names; any other name with dots is taken as fully qualified.
 */
function aliasTarget(target: string, zones: readonly string[]): string {
  const problem = nameProblem(target);
  if (problem !== undefined) throw new InputError('cname', `"${target}" is not a valid DNS name: it ${problem}`);
  const normal = normalizeName(target);
  const qualified = zones.some((zone) => isInZone(normal, zone)) || normal.includes('.') ? normal : `${normal}.${zones[0] ?? ''}`;
  const longProblem = nameProblem(qualified);
  if (longProblem !== undefined) throw new InputError('cname', `"${qualified}" (qualified) ${longProblem}`);
  return qualified;
}

/** TXT strings as given, each at most MAX_TXT_OCTETS and all together MAX_TXT_TOTAL_OCTETS in UTF-8, each distinct one once. */
function textStrings(strings: readonly string[]): string[] {
  let total = 0;
  strings.forEach((text, i) => {
    const octets = Buffer.byteLength(text, 'utf8');
    if (octets > MAX_TXT_OCTETS) throw new InputError(`txt[${i}]`, `is ${octets} octets long in UTF-8 (at most ${MAX_TXT_OCTETS}); split it into several strings`);
    total += octets;
  });
  if (total > MAX_TXT_TOTAL_OCTETS) throw new InputError('txt', `holds ${total} octets in all (at most ${MAX_TXT_TOTAL_OCTETS} a record)`);
  return [...new Set(strings)];
}

/** Applies a /v1/records PATCH to a stored record's fields: present fields replace, null removes. */
export function mergePatch(previous: ManualRecord, patch: RecordPatch): RecordFields {
  const merged: RecordFields = {
    names: patch.names ?? previous.names,
    addresses: patch.addresses ?? previous.addresses,
    srv: patch.srv ?? previous.srv,
  };
  const ttl = patch.ttl === undefined ? previous.ttl : patch.ttl;
  const check = patch.check === undefined ? previous.check : patch.check;
  const lease = patch.lease === undefined ? previous.lease : patch.lease;
  const cname = patch.cname === undefined ? previous.cname : patch.cname;
  const txt = patch.txt === undefined ? previous.txt : patch.txt;
  if (ttl !== null && ttl !== undefined) merged.ttl = ttl;
  if (check !== null && check !== undefined) merged.check = check;
  if (lease !== null && lease !== undefined) merged.lease = lease;
  if (cname !== null && cname !== undefined) merged.cname = cname;
  if (txt !== null && txt !== undefined) merged.txt = txt;
  return merged;
}

/** The fields a record was made from, as a client would send them again. */
export function fieldsOf(record: ManualRecord): RecordFields {
  const { names, addresses, ttl, srv, check, lease, cname, txt } = record;
  return {
    names,
    addresses,
    srv,
    ...(ttl === undefined ? {} : { ttl }),
    ...(check === undefined ? {} : { check }),
    ...(lease === undefined ? {} : { lease }),
    ...(cname === undefined ? {} : { cname }),
    ...(txt === undefined ? {} : { txt }),
  };
}

function qualifiedRecordName(name: string, field: string, zones: readonly string[]): string {
  const problem = servedNameProblem(name);
  if (problem !== undefined) throw new InputError(field, `"${name}" is not a valid DNS name: it ${problem}`);
  const qualified = qualifyName(name, zones);
  if (!zones.some((zone) => isInZone(qualified, zone))) {
    throw new InputError(field, `"${name}" is outside the served zones (${zones.join(', ')})`);
  }
  if (zones.includes(qualified)) throw new InputError(field, `"${name}" is the zone apex itself; name a host inside it`);
  const reserved = reservedNameProblem(qualified, zones);
  if (reserved !== undefined) throw new InputError(field, `"${name}" is ${reserved}; choose another name`);
  const longProblem = servedNameProblem(qualified);
  if (longProblem !== undefined) throw new InputError(field, `"${qualified}" (qualified) ${longProblem}`);
  return qualified;
}

/** Canonical text of an address; an IPv4-mapped IPv6 address (::ffff:1.2.3.4) is the IPv4 address it carries. */
function recordAddress(address: string): string | undefined {
  const canonical = canonicalAddress(address);
  const mapped = canonical === undefined ? null : /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (mapped === null) return canonical;
  const high = parseInt(mapped[1] ?? '0', 16);
  const low = parseInt(mapped[2] ?? '0', 16);
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/** SRV entries with service and protocol in lower case, each distinct entry once, in first-seen order. */
function uniqueSrv(entries: RecordFields['srv']): RecordFields['srv'] {
  const unique = new Map<string, RecordFields['srv'][number]>();
  for (const srv of entries) {
    const entry = { ...srv, service: srv.service.toLowerCase(), protocol: srv.protocol.toLowerCase() };
    const key = `${entry.service}/${entry.protocol}/${entry.port}/${entry.priority}/${entry.weight}`;
    if (!unique.has(key)) unique.set(key, entry);
  }
  return [...unique.values()];
}

function normalizeCheck(given: SchemaType<typeof HealthCheckSchema>): HealthCheck {
  const interval = given.interval ?? DEFAULT_CHECK_INTERVAL;
  // A client that sets only a short interval has not asked for a timeout longer than it.
  const check = {
    ...given,
    interval,
    timeout: given.timeout ?? Math.min(DEFAULT_CHECK_TIMEOUT, interval),
    rise: given.rise ?? DEFAULT_CHECK_RISE,
    fall: given.fall ?? DEFAULT_CHECK_FALL,
  };
  if ((check.http === undefined) === (check.tcp === undefined)) {
    throw new InputError('check', 'give exactly one of "http" (a URL) or "tcp" (host:port)');
  }
  if (check.http !== undefined) httpCheckProblem(check.http);
  if (check.tcp !== undefined && parseHostPort(check.tcp) === undefined) {
    throw new InputError('check.tcp', `"${check.tcp}" is not host:port (a host name, an IPv4 address, or an IPv6 address in brackets; port 1-65535)`);
  }
  if (check.timeout > check.interval) throw new InputError('check.timeout', `${check.timeout} s is longer than the interval (${check.interval} s)`);
  return check;
}

function httpCheckProblem(text: string): void {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new InputError('check.http', `"${text}" is not an http:// or https:// URL`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new InputError('check.http', 'a URL with a user name or password is not supported: the check sends no credentials; check an endpoint that needs none');
  }
}

/** `host:port` with a host name, an IPv4 address or a bracketed IPv6 address; undefined when it is none of those. */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (match === null || !(port >= 1 && port <= 65535)) return undefined;
  if (match[1] !== undefined) return isIPv6(match[1]) ? { host: match[1], port } : undefined;
  const host = match[2] ?? '';
  const valid = isIPv4(host) || (!/^[\d.]+$/.test(host) && nameProblem(host.replace(/\.$/, '')) === undefined);
  return valid ? { host, port } : undefined;
}
