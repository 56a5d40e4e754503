// GET /v1/lookup: what the DNS server answers a question, from the same zone
// view function it calls, and for each record the instances it comes from.
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { SchemaType } from '../lib/json-schema.js';
import { isIP } from 'node:net';
import { isAllowed, parseAllowList } from '../config/addresses.js';
import { canonicalName, type Instance } from '../registry/instance.js';
import { addressFromReverseName, canonicalAddress, normalizeName, qualifyName, reverseName, servedNameProblem } from '../registry/names.js';
import { OWNER_FORMS, shortOwner } from '../registry/owners.js';
import { srvName, type Registry } from '../registry/registry.js';
import { RELAYED, RRType, Rcode, type ResourceRecord } from '../zone/records.js';
import { dataSourceOf, lookup, type ZoneSettings } from '../zone/view.js';
import { clientView } from '../zone/client-view.js';
import { InputError } from '../lib/input-error.js';
import { requireToken, type ApiToken } from './auth.js';
import { ErrorSchema } from './errors.js';

/** Type mnemonics besides the ones the zone view produces, so `MX` or `TXT` can be asked (they get NODATA in a zone). */
const OTHER_TYPES: Record<string, number> = { CAA: 257, SVCB: 64, HTTPS: 65, DNSKEY: 48 };
const typeCodes = new Map<string, number>([...Object.entries(RRType).filter(([name]) => name !== 'OPT'), ...Object.entries(OTHER_TYPES)]);
const typeNames = new Map<number, string>([...typeCodes].map(([name, code]) => [code, name]));
const rcodeNames = new Map<number, string>(Object.entries(Rcode).map(([name, code]) => [code, name]));

const OriginSchema = {
  type: 'object',
  required: ['owner', 'source', 'healthy', 'names'],
  properties: {
    owner: { type: 'string', description: `The instance: ${OWNER_FORMS}` },
    source: { type: 'string', description: 'docker, manual or config' },
    healthy: { type: 'boolean' },
    names: { type: 'array', items: { type: 'string' } },
    origin: {
      type: 'object',
      properties: {
        container: { type: 'string' },
        networks: { type: 'array', items: { type: 'string' } },
        node: { type: 'string' },
      },
      description: 'Docker: the container and its networks; cluster mode: the node',
    },
  },
} as const;

const RecordSchema = {
  type: 'object',
  required: ['name', 'ttl', 'class', 'type', 'data', 'text', 'from'],
  properties: {
    name: { type: 'string', description: 'Owner name, fully qualified with the trailing dot' },
    ttl: { type: 'integer' },
    class: { type: 'string', const: 'IN' },
    type: { type: 'string' },
    data: { type: 'string', description: 'The record data in zone-file form' },
    text: { type: 'string', description: 'The whole record as dig prints it' },
    from: { type: 'array', items: OriginSchema, description: 'The instances the record comes from; empty for the zone’s own SOA and NS' },
  },
} as const;

export const LookupSchema = {
  type: 'object',
  required: ['question', 'forwarded', 'flags', 'answer', 'authority', 'additional', 'generation', 'text'],
  properties: {
    question: { type: 'object', required: ['name', 'type'], properties: { name: { type: 'string' }, type: { type: 'string' } } },
    forwarded: { type: 'boolean', description: 'The name is outside seamark’s zones: the DNS server passes it to the upstream resolvers, and their answer is not shown here' },
    rcode: { type: 'string', description: 'NOERROR, NXDOMAIN, REFUSED…; absent when forwarded' },
    flags: { type: 'array', items: { type: 'string' }, description: 'Header flags of the reply to a query with RD set from this client: qr, aa, rd, ra' },
    answer: { type: 'array', items: RecordSchema },
    authority: { type: 'array', items: RecordSchema },
    additional: { type: 'array', items: RecordSchema },
    leavesZonesAt: {
      type: 'string',
      description: 'The answer’s CNAME chain leaves seamark’s zones at this name: for a client allowed to forward, the DNS server appends the upstream answer for it (not shown here)',
    },
    generation: { type: 'integer', description: 'The registry generation the answer was read at' },
    client: {
      type: 'object',
      required: ['address', 'networks'],
      description: 'Who the answer is for: the asking address, and the Docker networks of the container at that address (null: not a container seamark knows)',
      properties: { address: { type: 'string' }, networks: { type: ['array', 'null'], items: { type: 'string' } } },
    },
    text: { type: 'string', description: 'The answer laid out as dig prints it, each record followed by the instances it comes from' },
  },
} as const;
type LookupResult = SchemaType<typeof LookupSchema>;
type RecordEntry = SchemaType<typeof RecordSchema>;

export interface LookupRoutesOptions {
  registry: Registry;
  zone: ZoneSettings;
  /** Who may have names outside the zones forwarded: decides REFUSED and the ra flag, as in DNS. */
  forwardAllow: readonly string[];
  token: ApiToken;
}

export const lookupRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: LookupRoutesOptions }> = async (app, { registry, zone, forwardAllow, token }) => {
  const allowList = parseAllowList(forwardAllow);
  app.addHook('onRequest', requireToken(token));
  app.get(
    '/',
    {
      schema: {
        tags: ['live'],
        summary: 'What seamark’s DNS server answers a question, and which instance each record comes from',
        description:
          'A relative name is taken under the first zone (`web` → `web.docker.`), as record names are; end it with a dot to ask it as is. ' +
          'An IP address asks its PTR. `type` is a mnemonic (A, AAAA, SRV, PTR, SOA, NS, ANY, TXT, MX…), `TYPE<n>` or a number; default A (PTR for an address). ' +
          '`from` is the address the question is asked from (default: this request’s): a container seamark knows gets its targets’ addresses on the networks they share (README “Networks”).',
        querystring: {
          type: 'object',
          required: ['name'],
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 254 },
            type: { type: 'string', minLength: 1, maxLength: 12 },
            from: { type: 'string', minLength: 1, maxLength: 64 },
          },
          additionalProperties: false,
        },
        response: { 200: LookupSchema, 400: ErrorSchema },
      },
    },
    async (request) => {
      const asked = request.query.name.trim();
      const address = isIP(asked) === 0 ? undefined : asked;
      const name = address === undefined ? qualifyName(asked, zone.zones) : reverseName(address);
      const problem = servedNameProblem(name);
      if (problem !== undefined) throw new InputError('name', `"${asked}" ${problem}`);
      const type = request.query.type === undefined ? (address === undefined ? RRType.A : RRType.PTR) : parseType(request.query.type);
      if (type === undefined) {
        throw new InputError('type', `"${request.query.type}" is not a record type: use A, AAAA, SRV, PTR, SOA, NS, ANY, TXT, MX…, TYPE<n> or a number`);
      }
      const from = request.query.from?.trim() ?? request.ip;
      if (isIP(from) === 0) throw new InputError('from', `"${from}" is not an IP address: give the address of the client to ask as`);
      const result = answerLookup(registry, zone, normalizeName(name), type, isAllowed(allowList, from), from);
      return { ...result, text: digText(result) };
    },
  );
};

/**
 * The zone view's answer to one question, as the DNS server sends it (rotation 0) to a client at `from`, with the
 * origin of every record.
 */
export function answerLookup(registry: Registry, zone: ZoneSettings, name: string, type: number, mayForward: boolean, from?: string): Omit<LookupResult, 'text'> {
  const generation = registry.generation;
  const question = { name: `${name}.`, type: typeName(type) };
  const view = from === undefined ? undefined : clientView(registry, canonicalAddress(from) ?? from);
  const client = from === undefined ? {} : { client: { address: from, networks: view === undefined ? null : [...view].sort() } };
  const response = lookup(registry, zone, name, type, 0, view);
  if (response === undefined) {
    const empty = { answer: [], authority: [], additional: [], generation, question, ...client };
    // The DNS server forwards only for allowed clients and refuses everyone else.
    if (mayForward) return { ...empty, forwarded: true, flags: ['qr', 'rd', 'ra'] };
    return { ...empty, forwarded: false, rcode: 'REFUSED', flags: ['qr', 'rd'] };
  }
  return {
    question,
    ...client,
    forwarded: false,
    rcode: rcodeNames.get(response.rcode) ?? String(response.rcode),
    flags: mayForward ? ['qr', 'aa', 'rd', 'ra'] : ['qr', 'aa', 'rd'],
    answer: response.answers.map((record) => describe(registry, zone, record)),
    authority: response.authority.map((record) => describe(registry, zone, record)),
    additional: response.additional.map((record) => describe(registry, zone, record)),
    ...(response.leavesZonesAt === undefined ? {} : { leavesZonesAt: `${response.leavesZonesAt}.` }),
    generation,
  };
}

/** The answer as `dig` lays it out, with the origin of each record as a comment. */
export function digText(result: Omit<LookupResult, 'text'>): string {
  const lines: string[] = [];
  if (result.forwarded) {
    lines.push(`;; ${result.question.name} is outside seamark's zones: the DNS server forwards it to the upstream resolvers, whose answer this is not`);
  } else {
    lines.push(`;; ->>HEADER<<- opcode: QUERY, status: ${result.rcode ?? '?'}`);
    lines.push(`;; flags: ${result.flags.join(' ')}; QUERY: 1, ANSWER: ${result.answer.length}, AUTHORITY: ${result.authority.length}, ADDITIONAL: ${result.additional.length}`);
  }
  if (result.client !== undefined) {
    const networks = result.client.networks;
    lines.push(`;; asked from ${result.client.address}: ${networks === null ? 'not a container seamark knows' : `a container on ${networks.join(', ')}`}`);
  }
  lines.push('', ';; QUESTION SECTION:', `;${result.question.name}\t\tIN\t${result.question.type}`);
  for (const [title, records] of [['ANSWER', result.answer], ['AUTHORITY', result.authority], ['ADDITIONAL', result.additional]] as const) {
    if (records.length === 0) continue;
    lines.push('', `;; ${title} SECTION:`);
    for (const record of records) lines.push(record.from.length === 0 ? record.text : `${record.text}\t; ${record.from.map(originText).join('; ')}`);
  }
  if (result.leavesZonesAt !== undefined) {
    lines.push('', `;; the CNAME chain leaves seamark's zones at ${result.leavesZonesAt}: a client allowed to forward gets the upstream answer for it appended`);
  }
  return lines.join('\n');
}

function originText(from: RecordEntry['from'][number]): string {
  const parts = [shortOwner(from.owner)];
  if (from.origin?.container !== undefined) parts.push(`container ${from.origin.container}`);
  if (from.origin?.networks !== undefined && from.origin.networks.length > 0) parts.push(`on ${from.origin.networks.join(', ')}`);
  if (from.origin?.node !== undefined) parts.push(`node ${from.origin.node}`);
  if (!from.healthy) parts.push('unhealthy');
  return parts.join(' ');
}

function parseType(text: string): number | undefined {
  const upper = text.trim().toUpperCase();
  const named = typeCodes.get(upper);
  if (named !== undefined) return named;
  const numeric = /^(?:TYPE)?(\d{1,5})$/.exec(upper);
  const code = numeric === null ? NaN : Number(numeric[1]);
  return code >= 1 && code <= 65535 && code !== RRType.OPT ? code : undefined;
}

function typeName(type: number): string {
  return typeNames.get(type) ?? `TYPE${type}`;
}

function describe(registry: Registry, zone: ZoneSettings, record: ResourceRecord): RecordEntry {
  const name = `${record.name}.`;
  const data = recordData(record);
  const type = typeName(record.type === RELAYED ? record.wireType : record.type);
  return {
    name,
    ttl: record.ttl,
    class: 'IN',
    type,
    data,
    text: `${name}\t${record.ttl}\tIN\t${type}\t${data}`,
    from: originsOf(registry, zone, record).map(({ owner, source, healthy, names, origin }) => ({ owner, source, healthy, names, ...(origin === undefined ? {} : { origin }) })),
  };
}

function recordData(record: ResourceRecord): string {
  switch (record.type) {
    case RRType.A:
    case RRType.AAAA:
      return record.address;
    case RRType.PTR:
    case RRType.NS:
    case RRType.CNAME:
      return `${record.target}.`;
    case RRType.SRV:
      return `${record.priority} ${record.weight} ${record.port} ${record.target}.`;
    case RRType.SOA:
      return `${record.mname}. ${record.rname}. ${record.serial} ${record.refresh} ${record.retry} ${record.expire} ${record.minimum}`;
    case RRType.TXT:
      return JSON.stringify(record.text);
    case RELAYED:
      // RFC 3597's form for data of any type.
      return `\\# ${record.rdata.length} ${record.rdata.toString('hex')}`;
  }
}

/**
 * The instances behind a record: those holding the address, the alias, the TXT string, the SRV port or the PTR
 * target (at the record's name, or at the wildcard that answers it); none for SOA and NS.
 */
function originsOf(registry: Registry, zone: ZoneSettings, record: ResourceRecord): Instance[] {
  const atNode = () => registry.byName(dataSourceOf(registry, zone, record.name) ?? record.name);
  switch (record.type) {
    case RRType.A:
    case RRType.AAAA:
      return atNode().filter((instance) => instance.addresses.includes(record.address));
    case RRType.CNAME:
      return atNode().filter((instance) => instance.cname === record.target);
    case RRType.TXT:
      return atNode().filter((instance) => instance.txt?.includes(record.text) === true);
    case RRType.SRV:
      return registry
        .bySrvName(record.name)
        .filter((instance) => canonicalName(instance) === record.target && instance.srv.some((srv) => srv.port === record.port && instance.names.some((host) => srvName(srv, host) === record.name)));
    case RRType.PTR: {
      const address = addressFromReverseName(record.name);
      return address === undefined ? [] : registry.byAddress(address).filter((instance) => canonicalName(instance) === record.target);
    }
    default:
      return [];
  }
}
