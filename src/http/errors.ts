// One error shape for every route: 400s name the field and the reason.
import type { FastifyError, FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { NoLeaseError, RecordInputError } from '../sources/manual.js';
import { pathToKey } from '../config/load.js';
import { StoreUnavailableError } from '../store/store.js';

export const ErrorSchema = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String({ description: 'The offending field, e.g. names[0]' })),
});

interface ValidationIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation !== undefined) {
      const issue = pickIssue(error.validation as ValidationIssue[]);
      const { field, reason } = describeIssue(issue, error.validationContext ?? 'body');
      return reply.code(400).send({ statusCode: 400, error: 'Bad Request', field, message: `${field}: ${reason}` });
    }
    if (error instanceof RecordInputError) {
      return reply.code(400).send({ statusCode: 400, error: 'Bad Request', field: error.field, message: error.message });
    }
    if (error instanceof StoreUnavailableError) return reply.code(503).send({ statusCode: 503, error: 'Service Unavailable', message: error.message });
    if (error instanceof NoLeaseError) return reply.code(409).send({ statusCode: 409, error: 'Conflict', message: error.message });
    const status = error.statusCode ?? 500;
    if (status < 500) return reply.code(status).send({ statusCode: status, error: error.name, message: error.message });
    request.log.error({ err: error }, 'HTTP request failed');
    return reply.code(500).send({ statusCode: 500, error: 'Internal Server Error', message: error.message });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no route ${request.method} ${request.url}; see /docs` }),
  );
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


