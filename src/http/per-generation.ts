// Read views computed once per registry generation: many readers of an
// unchanged picture cost one computation, not one each, on the thread that
// may also be answering DNS.
import type { FastifyReply } from 'fastify';
import type { Registry } from '../registry/registry.js';

/** A getter that recomputes `build()` only when the registry has changed since the last call. */
export function perGeneration<T>(registry: Registry, build: () => T): () => T {
  let builtFor = -1;
  let value: T | undefined;
  return () => {
    if (value === undefined || builtFor !== registry.generation) {
      value = build();
      builtFor = registry.generation;
    }
    return value;
  };
}

/** JSON encoded once, to send many times: no serialising or UTF-8 encoding per request. */
export function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** Sends bytes made by jsonBytes as they are. */
export function sendJsonBytes(reply: FastifyReply, json: Buffer): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json);
}
