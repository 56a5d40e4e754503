// One error shape for every route: {statusCode, error, message, field?}. 400s
// name the field and the reason; 5xx never reveal paths or internals.
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance } from 'fastify';
import { InputError } from '../lib/input-error.js';
import { NoLeaseError, RecordExistsError, RecordIdCaseError, RecordUnreadableError } from '../sources/manual/index.js';
import { StoreConflictError, StoreFullError, StoreUnavailableError } from '../store/store.js';
import { describeIssue, pickIssue, type SchemaIssue } from '../lib/json-schema.js';

export const ErrorSchema = {
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string' },
    field: { type: 'string', description: 'The offending field, e.g. names[0]' },
  },
} as const;

/** Seconds a client should wait before retrying a 503. */
const RETRY_AFTER_SECONDS = 5;

/** An error body in the one shape, with the status's standard text as `error`. */
export function errorBody(statusCode: number, message: string, field?: string) {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message, ...(field === undefined ? {} : { field }) };
}

/** An error a route throws with the status and (optionally) field it should answer with. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation !== undefined) {
      const { field, reason } = describeIssue(pickIssue(error.validation as SchemaIssue[]));
      // An issue with the whole body, query or params names that part.
      const part = field === '' ? (error.validationContext ?? 'body') : field;
      return reply.code(400).send(errorBody(400, `${part}: ${reason}`, part));
    }
    if (error instanceof InputError) return reply.code(400).send(errorBody(400, error.message, error.field));
    if (error instanceof HttpError) return reply.code(error.statusCode).send(errorBody(error.statusCode, error.message, error.field));
    if (error instanceof RecordExistsError) return reply.code(412).send(errorBody(412, error.message));
    if (error instanceof NoLeaseError || error instanceof RecordUnreadableError || error instanceof RecordIdCaseError || error instanceof StoreConflictError) return reply.code(409).send(errorBody(409, error.message));
    if (error instanceof StoreUnavailableError) {
      request.log.warn({ err: error }, 'write refused: the record store is unavailable');
      const status = error instanceof StoreFullError ? 507 : 503;
      return reply.code(status).header('retry-after', String(RETRY_AFTER_SECONDS)).send(errorBody(status, error.message));
    }
    const status = error.statusCode ?? 500;
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.code(415).send(errorBody(415, unsupportedMediaType(request.headers['content-type']), 'content-type'));
    if (status < 500) return reply.code(status).send(errorBody(status, error.message, fieldOfFastifyError(error)));
    request.log.error({ err: error }, 'HTTP request failed');
    return reply.code(500).send(errorBody(500, 'internal error; the server log has the details'));
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send(errorBody(404, `no route ${request.method} ${request.url}; see /docs`)));
}

/** What a client that sent a body of another kind (`curl -d` sends form data) must do instead. */
function unsupportedMediaType(contentType: string | undefined): string {
  const sent = contentType === undefined || contentType === '' ? 'no Content-Type' : `Content-Type "${contentType}"`;
  return `the body is sent with ${sent}; send JSON with Content-Type: application/json (curl: -H 'content-type: application/json')`;
}

/** The part of the request fastify's own 4xx errors are about. */
function fieldOfFastifyError(error: FastifyError): string | undefined {
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || error.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') return 'content-type';
  if (error.code?.startsWith('FST_ERR_CTP_') === true || error instanceof SyntaxError) return 'body';
  return undefined;
}
