// The operator page at / and /ui/: the files of dist/src/ui (the ES modules
// tsc compiled from src/ui, and the HTML, stylesheet and icon the build
// copies beside them), read once at start-up and served with a
// Content-Security-Policy that allows nothing but this origin.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

/** Scripts, styles and API calls from this origin only; no inline code, no frames, no plugins. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  type: string;
  body: Buffer;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** Every file of the page by its URL name (`index.html`, `app.js`, …): `npm run build` puts them all in dist/src/ui. */
export function loadUiAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const dir = fileURLToPath(new URL('../ui/', import.meta.url));
  if (!existsSync(dir)) return assets;
  for (const file of readdirSync(dir)) {
    const type = TYPES[file.slice(file.lastIndexOf('.'))];
    if (type !== undefined) assets.set(file, { type, body: readFileSync(dir + file) });
  }
  return assets;
}

export const uiRoutes: FastifyPluginAsync = async (app) => {
  const assets = loadUiAssets();
  const serve = (reply: FastifyReply, file: string) => {
    const asset = assets.get(file);
    if (asset === undefined) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `the page has no file ${file}` });
    return reply
      .type(asset.type)
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .send(asset.body);
  };
  // The page reads nothing without the API, which checks the token itself: the files are open.
  app.get('/', { schema: { hide: true } }, async (_request, reply) => serve(reply, 'index.html'));
  app.get('/ui', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/ui/'));
  app.get('/ui/', { schema: { hide: true } }, async (_request, reply) => serve(reply, 'index.html'));
  app.get<{ Params: { file: string } }>('/ui/:file', { schema: { hide: true } }, async (request, reply) => serve(reply, request.params.file));
};
