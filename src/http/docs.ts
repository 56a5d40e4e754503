// The OpenAPI documentation at /docs. Nothing of it is loaded at start: the
// routes are noted as they are registered (references to their schemas, which
// the API holds anyway), and on the first request for /docs an app of their
// own (never listening) is built with @fastify/swagger, the same routes and
// the Swagger UI; these routes forward to it. A host whose API nobody browses
// never pays for the document, the UI and their packages (3.8 MB resident,
// `npm run bench`).
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, FastifySchema, HTTPMethods, RouteOptions } from 'fastify';
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { requireCommonJs } from '../lib/commonjs.js';
import { requireToken, type ApiToken } from './auth.js';

interface NotedRoute {
  method: HTTPMethods | HTTPMethods[];
  url: string;
  schema: FastifySchema | undefined;
}

export interface Documentation {
  openapi: FastifyDynamicSwaggerOptions['openapi'];
  routes: NotedRoute[];
}

/** Notes every route registered on `app` from now on, for the document. */
export function noteRoutes(app: FastifyInstance, openapi: Documentation['openapi']): Documentation {
  const documentation: Documentation = { openapi, routes: [] };
  app.addHook('onRoute', (route: RouteOptions) => {
    // HEAD routes are made again from their GET routes; hidden ones (these) are not in the document.
    const hidden = (route.schema as { hide?: boolean } | undefined)?.hide === true;
    if (route.method !== 'HEAD' && !hidden) documentation.routes.push({ method: route.method, url: route.url, schema: route.schema });
  });
  return documentation;
}

export interface DocsRoutesOptions {
  token: ApiToken;
  documentation: Documentation;
}

/** Headers of the inner reply that belong to its own connection, not to the one it is relayed on. */
const NOT_RELAYED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date']);

export const docsRoutes: FastifyPluginAsync<DocsRoutesOptions> = async (app, { token, documentation }) => {
  // The documentation is a read like any other: beyond loopback it needs the token.
  app.addHook('onRequest', requireToken(token));
  let ui: Promise<FastifyInstance> | undefined;
  const forward = async (request: FastifyRequest, reply: FastifyReply) => {
    ui ??= startUi(documentation).catch((error: unknown) => {
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

async function startUi({ openapi, routes }: Documentation): Promise<FastifyInstance> {
  const { fastify } = requireCommonJs('fastify') as typeof import('fastify');
  const { fastifySwagger } = requireCommonJs('@fastify/swagger') as typeof import('@fastify/swagger');
  const { fastifySwaggerUi } = requireCommonJs('@fastify/swagger-ui') as typeof import('@fastify/swagger-ui');
  const ui = fastify({ logger: false });
  // The routes are here for their schemas only: nothing is validated or answered by them.
  ui.setValidatorCompiler(() => () => true);
  ui.setSerializerCompiler(() => (data) => JSON.stringify(data));
  // Registered in one go and loaded by ready(), which rejects with a plugin's error instead of throwing it.
  void ui.register(fastifySwagger, { openapi });
  void ui.register(async (documented) => {
    for (const { method, url, schema } of routes) documented.route({ method, url, ...(schema === undefined ? {} : { schema }), handler: async () => undefined });
  });
  void ui.register(fastifySwaggerUi, { routePrefix: '/docs' });
  await ui.ready();
  return ui;
}
