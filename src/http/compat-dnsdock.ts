// DNSDock's HTTP API with its JSON shape, mapped onto manual records: a
// service {name, image} answers at <name>.<image>.<zone> and <image>.<zone>,
// plus each alias (relative to the zone, or fully qualified inside it).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import {
  fieldsOf,
  RecordIdSchema,
  RecordInputError,
  type DnsdockOrigin,
  type ManualRecord,
  type ManualRecordView,
  type ManualSource,
  type RecordChange,
  type RecordFields,
} from '../sources/manual/index.js';
import { requireToken } from './auth.js';
import { jsonParser } from './body.js';
import { ErrorSchema, errorBody } from './errors.js';

export interface DnsdockRoutesOptions {
  manual: ManualSource;
  token: string | undefined;
}

const ServiceSchema = Type.Object({
  name: Type.String(),
  image: Type.String(),
  ips: Type.Array(Type.String()),
  ttl: Type.Integer({ description: '-1: the default TTL' }),
  aliases: Type.Array(Type.String()),
});
type Service = Static<typeof ServiceSchema>;

const label = { maxLength: 63 };
/** What DNSDock accepts: all optional, keys in any case; `ip` is DNSDock's older single-address field. */
const ServiceInputSchema = Type.Object(
  {
    name: Type.Optional(Type.String(label)),
    image: Type.Optional(Type.String(label)),
    ips: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 64 })),
    ip: Type.Optional(Type.String({ minLength: 1 })),
    ttl: Type.Optional(Type.Integer({ minimum: -1, maximum: 2147483647 })),
    aliases: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 64 })),
  },
  { additionalProperties: false },
);
type ServiceInput = Static<typeof ServiceInputSchema>;

const IdParams = Type.Object({ id: RecordIdSchema });
const NotFound = (id: string) => errorBody(404, `no service with id "${id}"`);

export const dnsdockRoutes: FastifyPluginAsyncTypebox<DnsdockRoutesOptions> = async (app, { manual, token }) => {
  app.addHook('onRequest', requireToken(token));
  // DNSDock's documented calls use `curl --data-ascii`, which sends JSON as form data.
  app.addContentTypeParser(['application/x-www-form-urlencoded', 'text/plain'], { parseAs: 'string' }, jsonParser);
  // DNSDock (Go's encoding/json) matches keys case-insensitively.
  app.addHook('preValidation', async (request: FastifyRequest) => {
    const body = request.body;
    if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
      request.body = Object.fromEntries(Object.entries(body).map(([key, value]) => [key.toLowerCase(), value]));
    }
  });
  const tags = ['dnsdock'];

  app.get(
    '/services',
    { schema: { tags, summary: 'DNSDock: every manual record as a service, by id', response: { 200: Type.Record(Type.String(), ServiceSchema) } } },
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
      const fields: RecordFields = { names: serviceNames(origin), addresses: requireAddresses(service.ips), srv: [], ...(service.ttl >= 0 ? { ttl: service.ttl } : {}) };
      const { record } = await manual.put(request.params.id, fields, origin);
      return serviceOf(record);
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
      const record = await manual.update(request.params.id, (current) => patchedService(current, request.body));
      return record === undefined ? reply.code(404).send(NotFound(request.params.id)) : serviceOf(record);
    },
  );

  app.delete(
    '/services/:id',
    { schema: { tags, summary: 'DNSDock: remove a service', params: IdParams, response: { 200: Type.Object({}), 404: ErrorSchema } } },
    async (request, reply) => ((await manual.remove(request.params.id)) ? {} : reply.code(404).send(NotFound(request.params.id))),
  );

  app.put(
    '/set/ttl',
    {
      schema: {
        tags,
        summary: 'DNSDock: the TTL of DNSDock services that set none (in memory, as in DNSDock)',
        body: Type.Integer({ minimum: 0, maximum: 2147483647 }),
        response: { 200: Type.Object({}) },
      },
    },
    async (request) => {
      manual.setDnsdockTtl(request.body);
      return {};
    },
  );
};

function completeService(input: ServiceInput): Service {
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
  const names = [
    ...(origin.name !== '' && origin.image !== '' ? [`${origin.name}.${origin.image}`] : []),
    ...(origin.image !== '' ? [origin.image] : origin.name !== '' ? [origin.name] : []),
    ...origin.aliases,
  ];
  if (names.length === 0) throw new RecordInputError('name', 'give a name, an image or an alias: the service needs a DNS name');
  return names;
}

function requireAddresses(ips: string[]): string[] {
  if (ips.length === 0) throw new RecordInputError('ips', 'give at least one address');
  return ips;
}

/** A record in DNSDock's shape; records made elsewhere show their id as name and their names as aliases. */
function serviceOf(record: ManualRecordView): Service {
  const origin = record.dnsdock;
  return {
    name: origin?.name ?? record.id,
    image: origin?.image ?? '',
    ips: record.addresses,
    ttl: record.ttl ?? -1,
    aliases: origin?.aliases ?? record.names,
  };
}
