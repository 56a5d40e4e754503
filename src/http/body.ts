// Request bodies: JSON only, parsed one way for every route.
import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors.js';

/**
 * Replaces fastify's parsers with one for JSON: an empty body is no body (so
 * DELETE or renew with a JSON content type and nothing in it is fine), and any
 * other content type gets 415. Plugins may add their own (DNSDock's form data).
 */
export function installJsonParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, jsonParser);
}

/** A fastify content-type parser (parseAs: 'string') for JSON text, whatever the content type says. */
export function jsonParser(_request: unknown, body: string | Buffer, done: (error: Error | null, body?: unknown) => void): void {
  try {
    done(null, parseJsonBody(body.toString()));
  } catch (error) {
    done(error as Error, undefined);
  }
}

/** The body's JSON, undefined when empty; a "__proto__" key is an unknown field, never a prototype. Throws HttpError (400). */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text, rejectProtoKey);
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw new HttpError(400, `body: not valid JSON (${(error as Error).message})`, 'body');
  }
}

function rejectProtoKey(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new HttpError(400, '__proto__: is not a known field', '__proto__');
  return value;
}
