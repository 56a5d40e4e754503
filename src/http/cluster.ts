// /v1/cluster (cluster mode only): the nodes sharing this picture through etcd, and this node's link to it.
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { Cluster } from '../cluster/index.js';
import { requireToken, type ApiToken } from './auth.js';

export interface ClusterRoutesOptions {
  cluster: Cluster;
  token: ApiToken;
}

const NodeSchema = {
  type: 'object',
  required: ['name', 'advertiseAddress', 'dns', 'version', 'startedAt', 'instances', 'self'],
  properties: {
    name: { type: 'string' },
    advertiseAddress: { type: 'string', description: 'The address other hosts reach the node at' },
    dns: { type: 'array', items: { type: 'string' }, description: 'Its DNS listeners' },
    version: { type: 'string' },
    startedAt: { type: 'string', description: 'ISO 8601' },
    lastSeen: { type: 'string', description: 'ISO 8601: its last lease renewal; absent while etcd cannot be asked' },
    instances: { type: 'integer', description: 'Instances it publishes' },
    self: { type: 'boolean', description: 'true for the node answering this request' },
  },
} as const;

const ClusterSchema = {
  type: 'object',
  required: ['node', 'connected', 'synced', 'revision', 'nodes'],
  properties: {
    node: { type: 'string', description: 'This node' },
    connected: { type: 'boolean', description: 'etcd answers this node' },
    synced: { type: 'boolean', description: 'The cluster was read at least once' },
    revision: { type: 'integer', description: 'The etcd revision the watch resumes from' },
    member: { type: 'string', description: 'The etcd endpoint this node reads and watches through (the next one is tried when it fails or falls silent)' },
    downSince: { type: 'string' },
    error: { type: 'string' },
    nodes: { type: 'array', items: NodeSchema },
  },
} as const;

export const clusterRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: ClusterRoutesOptions }> = async (app, { cluster, token }) => {
  app.addHook('onRequest', requireToken(token));
  app.get(
    '/',
    { schema: { tags: ['cluster'], summary: 'The nodes of the cluster (name, DNS addresses, last seen, instance count) and this node\'s etcd link', response: { 200: ClusterSchema } } },
    async () => ({ ...cluster.status(), nodes: await cluster.nodes() }),
  );
};
