// DNSDock's HTTP API with its JSON shape, mapped onto manual records: a
// service {name, image} answers at <name>.<image>.<zone> and <image>.<zone>,
// plus each alias (relative to the zone, or fully qualified inside it).
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { FastifyRequest } from 'fastify';
import { InputError } from '../lib/input-error.js';
import type { SchemaType } from '../lib/json-schema.js';
import {
  fieldsOf,
  RecordIdSchema,
  type DnsdockOrigin,
  type ManualRecord,
  type ManualRecordView,
  type ManualSource,
  type RecordChange,
  type RecordFields,
} from '../sources/manual/index.js';
import { requireToken, type ApiToken } from './auth.js';
import { jsonParser } from './body.js';
import { ErrorSchema, errorBody } from './errors.js';

export interface DnsdockRoutesOptions {
  manual: ManualSource;
  token: ApiToken;
}

/** A service as DNSDock's Go struct encodes it: exported field names as keys, a nil slice as null. */
const ServiceSchema = {
  type: 'object',
  required: ['Name', 'Image', 'IPs', 'TTL', 'Aliases'],
  properties: {
    Name: { type: 'string' },
    Image: { type: 'string' },
    IPs: { type: 'array', items: { type: 'string' } },
    TTL: { type: 'integer', description: '-1: the default TTL' },
    Aliases: { anyOf: [{ type: 'array', items: { type: 'string' } }, { type: 'null' }], description: 'null when there are none, as DNSDock writes it' },
  },
} as const;
type Service = SchemaType<typeof ServiceSchema>;
/** A service as the routes work with it, before it is written in DNSDock's shape. */
interface ServiceFields {
  name: string;
  image: string;
  ips: string[];
  ttl: number;
  aliases: string[];
}

const label = { type: 'string', maxLength: 63 } as const;
/** What DNSDock accepts: all optional, keys in any case; `ip` is DNSDock's older single-address field. */
const ServiceInputSchema = {
  type: 'object',
  properties: {
    name: label,
    image: label,
    ips: { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 64 },
    ip: { type: 'string', minLength: 1 },
    ttl: { type: 'integer', minimum: -1, maximum: 2147483647 },
    aliases: { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 64 },
  },
  additionalProperties: false,
} as const;
type ServiceInput = SchemaType<typeof ServiceInputSchema>;

const IdParams = { type: 'object', required: ['id'], properties: { id: RecordIdSchema } } as const;
const NotFound = (id: string) => errorBody(404, `no service with id "${id}"`);

export const dnsdockRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: DnsdockRoutesOptions }> = async (app, { manual, token }) => {
  app.addHook('onRequest', requireToken(token));
  // DNSDock's documented calls use `curl --data-ascii`, which sends JSON as form data.
  app.addContentTypeParser(['application/x-www-form-urlencoded', 'text/plain'], { parseAs: 'string' }, jsonParser);
  // DNSDock (Go's encoding/json) matches keys case-insensitively and reads null
  // as an empty list, so a client can send back the "Aliases":null it was given.
  app.addHook('preValidation', async (request: FastifyRequest) => {
    const body = request.body;
    if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
      request.body = Object.fromEntries(
        Object.entries(body).map(([key, value]) => {
          const field = key.toLowerCase();
          return [field, value === null && (field === 'ips' || field === 'aliases') ? [] : value];
        }),
      );
    }
  });
  const tags = ['dnsdock'];

  app.get(
    '/services',
    { schema: { tags, summary: 'DNSDock: every manual record as a service, by id', response: { 200: { type: 'object', patternProperties: { '^.*$': ServiceSchema } } } } },
    async () => Object.fromEntries(manual.list().map((record) => [record.id, serviceOf(record)])),
  );

  app.get(
    '/services/:id',
    { schema: { tags, summary: 'DNSDock: one service', params: IdParams, response: { 200: ServiceSchema, 404: ErrorSchema } } },
    async (request, reply) => {
      const record = manual.get(request.params.id);
      return record === undefined ? reply.code(404).send(NotFound(request.params.id)) : serviceOf(record);
    },
  );

  app.put(
    '/services/:id',
    {
      schema: {
        tags,
        summary: 'DNSDock: add or replace a service',
        params: IdParams,
        body: ServiceInputSchema,
        response: { 200: ServiceSchema, 400: ErrorSchema, 409: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request) => {
      const service = completeService(request.body);
      const origin = { name: service.name, image: service.image, aliases: service.aliases };
      try {
        const fields: RecordFields = { names: serviceNames(origin), addresses: requireAddresses(service.ips), srv: [], ...(service.ttl >= 0 ? { ttl: service.ttl } : {}) };
        const { record } = await manual.put(request.params.id, fields, { dnsdock: origin });
        return serviceOf(record);
      } catch (error) {
        throw inDnsdockTerms(error, origin, request.body);
      }
    },
  );

  app.patch(
    '/services/:id',
    {
      schema: {
        tags,
        summary: 'DNSDock: change the fields given, and only those',
        params: IdParams,
        body: ServiceInputSchema,
        response: { 200: ServiceSchema, 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request, reply) => {
      let origin: DnsdockOrigin | undefined;
      try {
        const record = await manual.update(request.params.id, (current) => {
          const change = patchedService(current, request.body);
          origin = change.dnsdock;
          return change;
        });
        return record === undefined ? reply.code(404).send(NotFound(request.params.id)) : serviceOf(record);
      } catch (error) {
        throw inDnsdockTerms(error, origin, request.body);
      }
    },
  );

  app.delete(
    '/services/:id',
    { schema: { tags, summary: 'DNSDock: remove a service', params: IdParams, response: { 200: { type: 'object', properties: {} }, 404: ErrorSchema } } },
    async (request, reply) => ((await manual.remove(request.params.id)) ? {} : reply.code(404).send(NotFound(request.params.id))),
  );

  app.put(
    '/set/ttl',
    {
      schema: {
        tags,
        summary: 'DNSDock: the TTL of DNSDock services that set none (in memory, as in DNSDock)',
        body: { type: 'integer', minimum: 0, maximum: 2147483647 },
        response: { 200: { type: 'object', properties: {} } },
      },
    },
    async (request) => {
      manual.setDnsdockTtl(request.body);
      return {};
    },
  );
};

function completeService(input: ServiceInput): ServiceFields {
  return {
    name: (input.name ?? '').toLowerCase(),
    image: (input.image ?? '').toLowerCase(),
    ips: [...(input.ips ?? []), ...(input.ip === undefined ? [] : [input.ip])],
    ttl: input.ttl ?? -1,
    aliases: input.aliases ?? [],
  };
}

/**
 * A DNSDock PATCH applied to the record as it stands: only the fields the body
 * names change. Name, image or aliases rebuild the DNS names from the service's
 * DNSDock shape (a record made elsewhere starts from its names as aliases);
 * ips/ip replace the addresses; ttl -1 removes the record's own TTL.
 */
function patchedService(current: ManualRecord, body: ServiceInput): RecordChange {
  const fields = fieldsOf(current);
  const renamed = body.name !== undefined || body.image !== undefined || body.aliases !== undefined;
  const before = current.dnsdock ?? { name: '', image: '', aliases: current.names };
  const origin = renamed
    ? { name: body.name?.toLowerCase() ?? before.name, image: body.image?.toLowerCase() ?? before.image, aliases: body.aliases ?? before.aliases }
    : current.dnsdock;
  if (renamed && origin !== undefined) fields.names = serviceNames(origin);
  if (body.ips !== undefined || body.ip !== undefined) fields.addresses = requireAddresses([...(body.ips ?? []), ...(body.ip === undefined ? [] : [body.ip])]);
  if (body.ttl !== undefined) {
    if (body.ttl >= 0) fields.ttl = body.ttl;
    else delete fields.ttl;
  }
  return { fields, ...(origin === undefined ? {} : { dnsdock: origin }) };
}

/** The DNS names a service gets: <name>.<image>, <image> (or <name> without an image), and each alias. */
function serviceNames(origin: DnsdockOrigin): string[] {
  const names = [...namesOfService(origin), ...origin.aliases];
  if (names.length === 0) throw new InputError('name', 'give a name, an image or an alias: the service needs a DNS name');
  return names;
}

/** The names a service's name and image give it, before its aliases. */
function namesOfService({ name, image }: DnsdockOrigin): string[] {
  return [...(name !== '' && image !== '' ? [`${name}.${image}`] : []), ...(image !== '' ? [image] : name !== '' ? [name] : [])];
}

function requireAddresses(ips: string[]): string[] {
  if (ips.length === 0) throw new InputError('ips', 'give at least one address');
  return ips;
}

/** A record in DNSDock's shape; records made elsewhere show their id as name and their names as aliases. */
function serviceOf(record: ManualRecordView): Service {
  const origin = record.dnsdock;
  const aliases = origin?.aliases ?? record.names;
  return {
    Name: origin?.name ?? record.id,
    Image: origin?.image ?? '',
    IPs: record.addresses,
    TTL: record.ttl ?? -1,
    Aliases: aliases.length === 0 ? null : aliases,
  };
}

/**
 * A record's input error in the fields the DNSDock client sent: addresses[i] is
 * ips[i] (or ip, which comes after them), and names[k] is the name, the image or
 * aliases[j] it was built from (see serviceNames).
 */
function inDnsdockTerms(error: unknown, origin: DnsdockOrigin | undefined, body: ServiceInput): unknown {
  if (!(error instanceof InputError)) return error;
  const index = /^(?:names|addresses)\[(\d+)\]$/.exec(error.field)?.[1];
  const at = index === undefined ? -1 : Number(index);
  let field = error.field;
  if (field === 'addresses') field = 'ips';
  else if (field === 'names' || field === 'dnsdock.aliases') field = 'aliases';
  else if (field.startsWith('addresses[')) {
    const given = body.ips?.length ?? 0;
    field = at < given || body.ip === undefined ? `ips[${at}]` : 'ip';
  } else if (field.startsWith('names[') && origin !== undefined) {
    const built = namesOfService(origin).length;
    if (at >= built) field = `aliases[${at - built}]`;
    else field = origin.image !== '' && (at === built - 1 || origin.name === '') ? 'image' : 'name';
  }
  return field === error.field ? error : new InputError(field, error.reason);
}
