// Bearer-token auth, added as a hook by each plugin that needs it: writes
// always need the token when one is set; reads need it only from clients
// beyond loopback.
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Methods that change nothing: open on loopback without the token, and never refused for their Origin. */
export const READ_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isLoopback(address: string): boolean {
  const bare = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1';
}

/** The API token, or a holder of it whose `current` a reload replaces; undefined means auth is off (only allowed on a loopback listener). */
export type ApiToken = string | undefined | { readonly current: string | undefined };

export function currentToken(token: ApiToken): string | undefined {
  return typeof token === 'object' ? token.current : token;
}

/** An onRequest hook checking the bearer token (the one of the moment, after a reload too). */
export function requireToken(token: ApiToken) {
  let expectedOf: string | undefined;
  let expected: Buffer | undefined;
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const now = currentToken(token);
    if (now === undefined) return;
    if (now !== expectedOf) [expectedOf, expected] = [now, Buffer.from(now)];
    if (expected === undefined) return;
    if (READ_METHODS.has(request.method) && isLoopback(request.socket.remoteAddress ?? '')) return;
    const header = request.headers.authorization ?? '';
    // The scheme name is case-insensitive (RFC 7235 section 2.1).
    const scheme = /^bearer +/i.exec(header);
    const given = Buffer.from(scheme === null ? '' : header.slice(scheme[0].length).trim());
    if (given.length === expected.length && timingSafeEqual(given, expected)) return;
    const message =
      header === '' ? 'this request needs "Authorization: Bearer <token>" (the token seamark was started with)' : 'the bearer token is wrong';
    return reply.code(401).header('www-authenticate', 'Bearer').send({ statusCode: 401, error: 'Unauthorized', message });
  };
}
