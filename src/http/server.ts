// The HTTP API: one fastify app with a plugin per route group, every route
// schema-validated and documented at /docs.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Endpoint } from '../config/addresses.js';
import type { Config, StaticHost } from '../config/schema.js';
import { tokenProblem } from '../config/token.js';
import type { Metrics } from '../ops/metrics.js';
import type { Readiness } from '../ops/readiness.js';
import type { Registry } from '../registry/registry.js';
import type { ManualSource } from '../sources/manual/index.js';
import type { ZoneSettings } from '../zone/view.js';
import type { Cluster } from '../cluster/index.js';
import { clusterRoutes } from './cluster.js';
import { isLoopback, requireToken, currentToken, type ApiToken } from './auth.js';
import { dnsdockRoutes } from './compat-dnsdock.js';
import { docsRoutes, noteRoutes } from './docs.js';
import { mesosRoutes } from './compat-mesos.js';
import { installJsonParser } from './body.js';
import { installErrorHandler } from './errors.js';
import { eventsRoutes } from './events.js';
import { healthRoutes } from './health.js';
import { lookupRoutes } from './lookup.js';
import { namesRoutes } from './names.js';
import { recordsRoutes } from './records.js';
import { refuseCrossSiteWrites, requireKnownHost } from './trust.js';
import { uiRoutes } from './ui.js';
import { requireCommonJs } from '../lib/commonjs.js';

const { fastify: Fastify, LogController } = requireCommonJs('fastify') as typeof import('fastify');

export interface HttpApiOptions {
  /** The settings; `hosts` is empty: the configured hosts come from `configuredHosts`. */
  config: Config;
  configuredHosts: () => StaticHost[];
  /** Bearer token for writes (and for reads beyond loopback); undefined: auth off. */
  token: ApiToken;
  manual: ManualSource;
  registry: Registry;
  zone: ZoneSettings;
  readiness: Readiness;
  metrics: Metrics;
  version: string;
  log: Logger;
  /** Cluster mode: the etcd node, for /v1/cluster and the node of each name. */
  cluster?: Cluster;
  /** Awaited before a write's reply is sent: with DNS workers, until every one of them serves the change. */
  afterWrite?: () => Promise<void>;
}

/** Longest path parameter: a fully qualified name with its trailing dot, percent-encoded at worst 3 bytes a character. */
const MAX_PARAM_LENGTH = 3 * 254;

export async function buildHttpApi(options: HttpApiOptions): Promise<FastifyInstance> {
  const timeoutMs = options.config.httpTimeout * 1000;
  const tls = readTlsFiles(options.config);
  const app = Fastify({
    // fastify types an HTTPS instance apart; the routes do not depend on the transport.
    ...((tls === undefined ? {} : { https: tls }) as object),
    loggerInstance: options.log.child({ component: 'http' }) as FastifyBaseLogger,
    // Request lines would be noise at info; failures are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 256 * 1024,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // A slow or idle client gets at most httpTimeout for its request, and an idle socket is closed after it.
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    keepAliveTimeout: Math.min(5000, timeoutMs),
    http: { headersTimeout: timeoutMs, connectionsCheckingInterval: Math.min(1000, timeoutMs) },
    ajv: {
      // Unknown fields are an error, not silently dropped; a body's "30" is not the number 30.
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false },
    },
  }).withTypeProvider<JsonSchemaToTsProvider>();
  // Beyond the cap new connections are closed at once, so idle clients cannot use up the file descriptors DNS and the store need.
  app.server.maxConnections = options.config.httpMaxConnections;

  installErrorHandler(app);
  installJsonParser(app);
  // Before every route and every plugin's own hooks (the token's among them): cheap header checks, nothing read or parsed yet.
  app.addHook('onRequest', requireKnownHost(options.config.httpHosts));
  app.addHook('onRequest', refuseCrossSiteWrites());
  const { afterWrite } = options;
  if (afterWrite !== undefined) {
    app.addHook('onSend', async (request) => {
      if (request.method !== 'GET' && request.method !== 'HEAD') await afterWrite();
    });
  }
  app.addHook('onResponse', async (request, reply) => {
    options.metrics.onHttpRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode);
  });

  const documentation = noteRoutes(app, {
    info: { title: 'seamark HTTP API', version: options.version, description: 'Hand-made DNS records, read views, DNSDock and Mesos-DNS compatibility, operations' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
  });
  const { manual, registry, zone, token, config } = options;
  await app.register(docsRoutes, { token, documentation });

  await app.register(recordsRoutes, { prefix: '/v1/records', manual, zones: zone.zones, token });
  await app.register(namesRoutes, { prefix: '/v1/names', registry, zones: zone.zones, token, node: options.cluster?.nodeName });
  if (options.cluster !== undefined) await app.register(clusterRoutes, { prefix: '/v1/cluster', cluster: options.cluster, token });
  await app.register(mesosRoutes, { prefix: '/v1', registry, zone, config, configuredHosts: options.configuredHosts, version: options.version, token });
  await app.register(dnsdockRoutes, { manual, token });
  await app.register(healthRoutes, { readiness: options.readiness, metrics: options.metrics, problems: () => manual.problems() });
  // Event streams never hold more than half the connections: the rest stay for /healthz, /readyz and writes.
  const maxStreams = Math.min(config.eventsMaxStreams, Math.floor(config.httpMaxConnections / 2));
  await app.register(eventsRoutes, { prefix: '/v1/events', registry, token, settings: { maxStreams, maxStreamsPerClient: config.eventsMaxStreamsPerClient } });
  await app.register(lookupRoutes, { prefix: '/v1/lookup', registry, zone, forwardAllow: config.forwardAllow, token });
  await app.register(uiRoutes);
  return app;
}

/**
 * The HTTP API's certificate and key when configured, read and checked at start,
 * so that a missing, unreadable or mismatched file stops seamark naming the file
 * and what is wrong with it, not with OpenSSL's words ("key values mismatch").
 */
function readTlsFiles(config: Pick<Config, 'httpTlsCert' | 'httpTlsKey'>): { cert: Buffer; key: Buffer } | undefined {
  const { httpTlsCert: certFile, httpTlsKey: keyFile } = config;
  if (certFile === undefined || keyFile === undefined) return undefined;
  const read = (key: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new Error(`cannot read ${key} ${file}: ${(error as Error).message}`);
    }
  };
  const cert = read('httpTlsCert', certFile);
  const key = read('httpTlsKey', keyFile);
  const swapped = ' (are httpTlsCert and httpTlsKey swapped?)';
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    const hint = /PRIVATE KEY-----/.test(cert.toString('latin1')) ? `: it holds a private key${swapped}` : '';
    throw new Error(`httpTlsCert ${certFile} is not a PEM certificate (-----BEGIN CERTIFICATE-----)${hint}`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    const text = key.toString('latin1');
    const hint = /ENCRYPTED/.test(text) || /passphrase/i.test((error as Error).message)
      ? ': it is encrypted; give seamark the key without a passphrase (openssl pkey -in <file> -out <new file>)'
      : /BEGIN CERTIFICATE-----/.test(text) ? `: it holds a certificate${swapped}` : '';
    throw new Error(`httpTlsKey ${keyFile} is not a PEM private key (-----BEGIN PRIVATE KEY-----)${hint}`);
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new Error(
      `httpTlsKey ${keyFile} is not the private key of the certificate in httpTlsCert ${certFile} (${certificate.subject.replace(/\n/g, ', ')}): ` +
        'give the key the certificate was made for, or the certificate of this key',
    );
  }
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new Error(`the HTTP API's TLS files httpTlsCert ${certFile} and httpTlsKey ${keyFile} are refused by OpenSSL: ${(error as Error).message}`);
  }
  return { cert, key };
}

/** Refuses, with the fix in the message, to serve writes beyond loopback without a token. */
export function checkListenerSafety(endpoint: Endpoint, token: string | undefined): void {
  if (token !== undefined || isLoopback(endpoint.address)) return;
  throw new Error(
    `refusing to listen for HTTP on ${endpoint.address}:${endpoint.port} without a token: anyone on the network could change DNS answers. ` +
      'Set one with SEAMARK_TOKEN=<secret>, or put it in a file and pass --token-file <file> (SEAMARK_TOKEN_FILE), or listen on 127.0.0.1',
  );
}

export async function startHttpApi(options: HttpApiOptions, endpoint: Endpoint): Promise<FastifyInstance> {
  checkListenerSafety(endpoint, currentToken(options.token));
  const app = await buildHttpApi(options);
  await app.listen({ host: endpoint.address, port: endpoint.port });
  options.log.info(
    { http: `${endpoint.family === 6 ? `[${endpoint.address}]` : endpoint.address}:${endpoint.port}`, auth: currentToken(options.token) !== undefined, tls: options.config.httpTlsCert !== undefined },
    'HTTP API listening',
  );
  return app;
}

/** The API token: `token` (checked, and trimmed, with the configuration), else the first line of `tokenFile`, trimmed; undefined when neither is set. Never logged. */
export function readToken(config: Pick<Config, 'token' | 'tokenFile'>): string | undefined {
  if (config.token !== undefined) return config.token;
  if (config.tokenFile === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(config.tokenFile, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the HTTP API token file ${config.tokenFile}: ${(error as Error).message}`);
  }
  const token = text.split('\n')[0]?.trim() ?? '';
  if (token === '') throw new Error(`the HTTP API token file ${config.tokenFile} is empty; write the token on its first line`);
  const problem = tokenProblem(token);
  if (problem !== undefined) throw new Error(`the HTTP API token in ${config.tokenFile} ${problem}`);
  return token;
}

/** seamark's version, from package.json (two folders above dist/src). */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}
