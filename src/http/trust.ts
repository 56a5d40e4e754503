// Who the HTTP API answers: requests addressed to a Host seamark is known by
// (so a web page cannot reach it under a name it rebinds to 127.0.0.1), and,
// for writes from a browser, only pages of seamark's own origin (so a page of
// another site cannot change DNS with a request the browser sends unasked).
import { isIP } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { READ_METHODS } from './auth.js';
import { errorBody } from './errors.js';

/** Probes send whatever Host their platform gives them (a pod IP, a service name); these say only whether seamark runs. */
const PROBE_PATHS = new Set(['/healthz', '/readyz']);

/** A Host header's name part: lower case, without port, brackets or trailing dot (`[::1]:8080` → `::1`). */
function hostName(host: string): string {
  let name = host.trim().toLowerCase();
  const bracketed = /^\[([^\]]*)\](?::\d*)?$/.exec(name);
  if (bracketed !== null) name = bracketed[1] ?? '';
  else if (isIP(name) !== 6) name = name.replace(/:\d*$/, '');
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/**
 * Whether a request to this Host name may be answered. An IP literal cannot be
 * rebound (the page's origin is then that very address), and `localhost` never
 * leaves the machine's resolver; any other name must be configured.
 */
function isKnownHost(name: string, configured: ReadonlySet<string>): boolean {
  if (configured.has('*') || configured.has(name)) return true;
  if (isIP(name) !== 0) return true;
  return name === 'localhost' || name.endsWith('.localhost');
}

/** The configured `httpHosts` in the form `hostName` gives: lower case, no trailing dot or brackets. */
function knownHosts(configured: readonly string[]): Set<string> {
  return new Set(configured.map((entry) => hostName(entry)));
}

/**
 * An onRequest hook, added before every route: a request whose Host seamark is
 * not known by gets 421 (Misdirected Request) naming the Host and the setting
 * that allows it. A request without Host (HTTP/1.0; no browser sends one) passes.
 */
export function requireKnownHost(configured: readonly string[]) {
  const allowed = knownHosts(configured);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const host = request.headers.host;
    if (host === undefined || host === '') return;
    if (isKnownHost(hostName(host), allowed)) return;
    if (READ_METHODS.has(request.method) && PROBE_PATHS.has(request.url.split('?')[0] ?? '')) return;
    const message =
      `this seamark does not answer to the Host "${host}": a web page under a name that resolves to seamark could otherwise read and change DNS (DNS rebinding). ` +
      `If that is a name you reach seamark by (a DNS name, a reverse proxy), add it with --http-host ${hostName(host)} (SEAMARK_HTTP_HOSTS, or httpHosts in the configuration file)`;
    return reply.code(421).send(errorBody(421, message, 'host'));
  };
}

/**
 * An onRequest hook: a write whose Origin header is present and is not the
 * origin the request was sent to gets 403. Browsers send Origin with every
 * request that is not GET or HEAD, so no page of another site (nor a sandboxed
 * one, whose Origin is "null") can write, even with a request that needs no
 * CORS preflight, such as a bodiless POST .../renew; curl, the CLI and scripts
 * send no Origin and are not concerned.
 */
export function refuseCrossSiteWrites() {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (READ_METHODS.has(request.method)) return;
    const origin = request.headers.origin;
    if (origin === undefined || isOwnOrigin(origin, request.headers.host)) return;
    const message =
      `a write sent by a web page of ${origin === 'null' ? 'an opaque origin (Origin: null)' : origin} is refused: only seamark's own page ` +
      `(${request.headers.host ?? 'this server'}) may change records from a browser. ` +
      'Scripts and curl send no Origin header and are not concerned';
    return reply.code(403).send(errorBody(403, message, 'origin'));
  };
}

/** Whether `origin` (`http://localhost:8080`) is the origin a request with this Host was sent to; the scheme's default port may be left out of either. */
function isOwnOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  const defaultPort = url.protocol === 'https:' ? ':443' : ':80';
  let given = host.trim().toLowerCase();
  if (given.endsWith(defaultPort)) given = given.slice(0, -defaultPort.length);
  return url.host === given;
}
