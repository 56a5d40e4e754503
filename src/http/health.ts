// /healthz, /readyz and /metrics: open to every client, for probes and Prometheus.
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { Metrics } from '../ops/metrics.js';
import type { Readiness } from '../ops/readiness.js';
import { requireCommonJs } from '../lib/commonjs.js';

const { Gauge } = requireCommonJs('prom-client') as typeof import('prom-client');

export interface HealthRoutesOptions {
  readiness: Readiness;
  metrics: Metrics;
  /** What is wrong but does not stop serving (an unreadable stored record): reported on /readyz and as a metric. */
  problems: () => string[];
}

const ReadySchema = {
  type: 'object',
  required: ['ready', 'pending', 'problems'],
  properties: {
    ready: { type: 'boolean' },
    pending: { type: 'array', items: { type: 'string' }, description: 'Parts not ready yet' },
    cluster: { description: 'Cluster mode: the etcd link (connected, synced, revision, member, downSince, error)' },
    problems: {
      type: 'array',
      items: { type: 'string' },
      description: 'What needs an operator although everything else is served, e.g. a stored record that cannot be read',
    },
    degraded: {
      type: 'object',
      patternProperties: { '^.*$': { type: 'string' } },
      description: 'Parts serving a picture that may be stale, with why (still ready); absent when none',
    },
  },
} as const;

export const healthRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: HealthRoutesOptions }> = async (app, { readiness, metrics, problems }) => {
  const tags = ['operations'];
  new Gauge({
    name: 'seamark_store_unreadable_records',
    help: 'Stored records that could not be read at start-up: left untouched and not served (see /readyz)',
    registers: [metrics.registry],
    collect() {
      this.set(problems().length);
    },
  });

  app.get(
    '/healthz',
    { schema: { tags, summary: 'The process is alive', response: { 200: { type: 'object', required: ['status'], properties: { status: { type: 'string', const: 'ok' } } } } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags,
        summary: 'Ready once the store is loaded and every enabled source has synced; 503 names what is pending. `problems` lists what needs an operator',
        response: { 200: ReadySchema, 503: ReadySchema },
      },
    },
    async (_request, reply) => {
      const pending = readiness.pending();
      const degraded = readiness.degraded();
      const body = { ready: pending.length === 0, pending, problems: problems(), ...(Object.keys(degraded).length > 0 ? { degraded } : {}), ...readiness.details() };
      return reply.code(pending.length === 0 ? 200 : 503).send(body);
    },
  );

  app.get('/metrics', { schema: { tags, summary: 'Prometheus metrics (text format)' } }, async (_request, reply) => {
    const body = await metrics.text();
    return reply.type(metrics.contentType).send(body);
  });
};
