// One error shape for every route: {statusCode, error, message, field?}. 400s
// name the field and the reason; 5xx never reveal paths or internals.
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { NoLeaseError, RecordInputError, RecordUnreadableError } from '../sources/manual/index.js';
import { StoreFullError, StoreUnavailableError } from '../store/store.js';
import { pathToKey } from '../config/load.js';

export const ErrorSchema = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String({ description: 'The offending field, e.g. names[0]' })),
});

/** Seconds a client should wait before retrying a 503. */
const RETRY_AFTER_SECONDS = 5;

interface ValidationIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

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
      const issue = pickIssue(error.validation as ValidationIssue[]);
      const { field, reason } = describeIssue(issue, error.validationContext ?? 'body');
      return reply.code(400).send(errorBody(400, `${field}: ${reason}`, field));
    }
    if (error instanceof RecordInputError) return reply.code(400).send(errorBody(400, error.message, error.field));
    if (error instanceof HttpError) return reply.code(error.statusCode).send(errorBody(error.statusCode, error.message, error.field));
    if (error instanceof NoLeaseError || error instanceof RecordUnreadableError) return reply.code(409).send(errorBody(409, error.message));
    if (error instanceof StoreUnavailableError) {
      request.log.warn({ err: error }, 'write refused: the record store is unavailable');
      const status = error instanceof StoreFullError ? 507 : 503;
      return reply.code(status).header('retry-after', String(RETRY_AFTER_SECONDS)).send(errorBody(status, error.message));
    }
    const status = error.statusCode ?? 500;
    if (status < 500) return reply.code(status).send(errorBody(status, error.message, fieldOfFastifyError(error)));
    request.log.error({ err: error }, 'HTTP request failed');
    return reply.code(500).send(errorBody(500, 'internal error; the server log has the details'));
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send(errorBody(404, `no route ${request.method} ${request.url}; see /docs`)));
}

/** The part of the request fastify's own 4xx errors are about. */
function fieldOfFastifyError(error: FastifyError): string | undefined {
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || error.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') return 'content-type';
  if (error.code?.startsWith('FST_ERR_CTP_') === true || error instanceof SyntaxError) return 'body';
  return undefined;
}

/** Unknown fields first (the commonest mistake), else the first issue that is not an anyOf summary. */
function pickIssue(issues: ValidationIssue[]): ValidationIssue | undefined {
  return issues.find((i) => i.keyword === 'additionalProperties') ?? issues.find((i) => i.keyword !== 'anyOf') ?? issues[0];
}

function describeIssue(issue: ValidationIssue | undefined, context: string): { field: string; reason: string } {
  if (issue === undefined) return { field: context, reason: 'is invalid' };
  const base = pathToKey(issue.instancePath);
  const join = (child: string) => (base === '' ? child : `${base}.${child}`);
  if (issue.keyword === 'additionalProperties') {
    return { field: join(String(issue.params.additionalProperty)), reason: 'is not a known field' };
  }
  if (issue.keyword === 'required') return { field: join(String(issue.params.missingProperty)), reason: 'is required' };
  return { field: base === '' ? context : base, reason: issue.message ?? 'is invalid' };
}
