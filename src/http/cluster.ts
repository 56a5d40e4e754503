// /v1/cluster (cluster mode only): the nodes sharing this picture through etcd, and this node's link to it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Cluster } from '../cluster/index.js';
import { requireToken } from './auth.js';

export interface ClusterRoutesOptions {
  cluster: Cluster;
  token: string | undefined;
}

const NodeSchema = Type.Object({
  name: Type.String(),
  advertiseAddress: Type.String({ description: 'The address other hosts reach the node at' }),
  dns: Type.Array(Type.String(), { description: 'Its DNS listeners' }),
  version: Type.String(),
  startedAt: Type.String({ description: 'ISO 8601' }),
  lastSeen: Type.Optional(Type.String({ description: 'ISO 8601: its last lease renewal; absent while etcd cannot be asked' })),
  instances: Type.Integer({ description: 'Instances it publishes' }),
  self: Type.Boolean({ description: 'true for the node answering this request' }),
});

const ClusterSchema = Type.Object({
  node: Type.String({ description: 'This node' }),
  connected: Type.Boolean({ description: 'etcd answers this node' }),
  synced: Type.Boolean({ description: 'The cluster was read at least once' }),
  revision: Type.Integer({ description: 'The etcd revision the watch resumes from' }),
  downSince: Type.Optional(Type.String()),
  error: Type.Optional(Type.String()),
  nodes: Type.Array(NodeSchema),
});

export const clusterRoutes: FastifyPluginAsyncTypebox<ClusterRoutesOptions> = async (app, { cluster, token }) => {
  app.addHook('onRequest', requireToken(token));
  app.get(
    '/',
    { schema: { tags: ['cluster'], summary: 'The nodes of the cluster (name, DNS addresses, last seen, instance count) and this node\'s etcd link', response: { 200: ClusterSchema } } },
    async () => ({ ...cluster.status(), nodes: await cluster.nodes() }),
  );
};
