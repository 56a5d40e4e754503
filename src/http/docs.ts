// The OpenAPI documentation at /docs. @fastify/swagger collects the document
// from every route's schema at start; the Swagger UI and the static files it
// serves are loaded only on the first request for them, into an app of their
// own (never listening) that these routes forward to: a host whose API nobody
// browses never pays for them (2.3 MB resident, `npm run bench`).
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { requireCommonJs } from '../commonjs.js';
import { requireToken } from './auth.js';

export interface DocsRoutesOptions {
  token: string | undefined;
}

/** Headers of the inner reply that belong to its own connection, not to the one it is relayed on. */
const NOT_RELAYED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date']);

export const docsRoutes: FastifyPluginAsync<DocsRoutesOptions> = async (app, { token }) => {
  // The documentation is a read like any other: beyond loopback it needs the token.
  app.addHook('onRequest', requireToken(token));
  let ui: Promise<FastifyInstance> | undefined;
  const forward = async (request: FastifyRequest, reply: FastifyReply) => {
    ui ??= startUi(app.swagger()).catch((error: unknown) => {
      ui = undefined;
      throw error;
    });
    const response = await (await ui).inject({ method: request.method === 'HEAD' ? 'HEAD' : 'GET', url: request.url, headers: { accept: request.headers.accept ?? '*/*' } });
    if (response.statusCode === 404) return reply.callNotFound();
    reply.code(response.statusCode);
    for (const [name, value] of Object.entries(response.headers)) if (value !== undefined && !NOT_RELAYED.has(name)) reply.header(name, value);
    return reply.send(response.rawPayload.length > 0 ? response.rawPayload : undefined);
  };
  app.get('/docs', { schema: { hide: true } }, forward);
  app.get('/docs/*', { schema: { hide: true } }, forward);
};

async function startUi(document: unknown): Promise<FastifyInstance> {
  const { fastify } = requireCommonJs('fastify') as typeof import('fastify');
  const { fastifySwagger } = requireCommonJs('@fastify/swagger') as typeof import('@fastify/swagger');
  const { fastifySwaggerUi } = requireCommonJs('@fastify/swagger-ui') as typeof import('@fastify/swagger-ui');
  const ui = fastify({ logger: false });
  await ui.register(fastifySwagger, { mode: 'static', specification: { document: document as never } });
  await ui.register(fastifySwaggerUi, { routePrefix: '/docs' });
  await ui.ready();
  return ui;
}
