// /v1/records: create, read, list, replace, patch, delete and renew hand-made records.
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { qualifyName } from '../registry/names.js';
import { RecordFieldsSchema, RecordIdSchema, RecordPatchSchema, RecordViewSchema, type ManualSource } from '../sources/manual/index.js';
import { requireToken, type ApiToken } from './auth.js';
import { ErrorSchema, errorBody } from './errors.js';

export interface RecordsRoutesOptions {
  manual: ManualSource;
  zones: readonly string[];
  token: ApiToken;
}

const IdParams = { type: 'object', required: ['id'], properties: { id: RecordIdSchema } } as const;
const NotFound = (id: string) => errorBody(404, `no record with id "${id}"`);

export const recordsRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: RecordsRoutesOptions }> = async (app, { manual, zones, token }) => {
  app.addHook('onRequest', requireToken(token));
  const tags = ['records'];

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'List records, optionally only those serving one name',
        querystring: { type: 'object', properties: { name: { type: 'string', minLength: 1, maxLength: 254 } }, additionalProperties: false },
        response: { 200: { type: 'array', items: RecordViewSchema } },
      },
    },
    async (request) => {
      const records = manual.list();
      if (request.query.name === undefined) return records;
      const name = qualifyName(request.query.name, zones);
      return records.filter((record) => record.names.includes(name));
    },
  );

  app.post(
    '/',
    {
      schema: { tags, summary: 'Create a record with a server-generated id', body: RecordFieldsSchema, response: { 201: RecordViewSchema, 400: ErrorSchema, 503: ErrorSchema } },
    },
    async (request, reply) => {
      const record = await manual.create(request.body);
      return reply.code(201).header('location', `/v1/records/${record.id}`).send(record);
    },
  );

  app.get(
    '/:id',
    { schema: { tags, summary: 'Read one record', params: IdParams, response: { 200: RecordViewSchema, 404: ErrorSchema } } },
    async (request, reply) => manual.get(request.params.id) ?? reply.code(404).send(NotFound(request.params.id)),
  );

  app.put(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Create or replace the record with this id (idempotent); with If-None-Match: * create only (412 when it exists)',
        params: IdParams,
        headers: { type: 'object', properties: { 'if-none-match': { type: 'string' } } },
        body: RecordFieldsSchema,
        response: { 200: RecordViewSchema, 201: RecordViewSchema, 400: ErrorSchema, 409: ErrorSchema, 412: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request, reply) => {
      // RFC 9110 §13.1.2: "*" matches any current representation; seamark has no entity tags, so no other value can match.
      const onlyIfAbsent = request.headers['if-none-match']?.trim() === '*';
      const { record, created } = await manual.put(request.params.id, request.body, { onlyIfAbsent });
      return reply.code(created ? 201 : 200).send(record);
    },
  );

  app.patch(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Change some fields of a record; null removes ttl, check or lease',
        params: IdParams,
        body: RecordPatchSchema,
        response: { 200: RecordViewSchema, 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request, reply) => (await manual.patch(request.params.id, request.body)) ?? reply.code(404).send(NotFound(request.params.id)),
  );

  app.delete(
    '/:id',
    { schema: { tags, summary: 'Delete a record', params: IdParams, response: { 204: { type: 'null' }, 404: ErrorSchema, 409: ErrorSchema, 503: ErrorSchema } } },
    async (request, reply) => {
      if (!(await manual.remove(request.params.id))) return reply.code(404).send(NotFound(request.params.id));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/:id/renew',
    {
      schema: {
        tags,
        summary: "Extend a record's lease by its length from now",
        params: IdParams,
        response: { 200: RecordViewSchema, 404: ErrorSchema, 409: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request, reply) => (await manual.renew(request.params.id)) ?? reply.code(404).send(NotFound(request.params.id)),
  );
};
