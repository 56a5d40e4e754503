// /v1/names: every name served, from every source, with its health — what an
// operator reads when something does not resolve.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { isIPv4 } from 'node:net';
import { Type, type Static } from 'typebox';
import type { Instance } from '../registry/instance.js';
import { qualifyName } from '../registry/names.js';
import { srvName, type Registry } from '../registry/registry.js';
import { requireToken } from './auth.js';
import { nodeOfOwner } from '../cluster/keys.js';

export const NameEntrySchema = Type.Object({
  name: Type.String({ description: 'Fully qualified, without the trailing dot' }),
  type: Type.Union([Type.Literal('A'), Type.Literal('AAAA'), Type.Literal('SRV')]),
  addresses: Type.Array(Type.String(), { description: 'A/AAAA: the addresses; SRV: those of the target' }),
  srv: Type.Optional(Type.Object({ target: Type.String(), port: Type.Integer(), priority: Type.Integer(), weight: Type.Integer() })),
  ttl: Type.Optional(Type.Integer()),
  source: Type.String({ description: 'config, manual or docker' }),
  owner: Type.String({ description: 'config:<name>, manual:<id>, docker:<container id>' }),
  healthy: Type.Boolean(),
  node: Type.Optional(Type.String({ description: 'Cluster mode: the node the instance comes from' })),
});
type NameEntry = Static<typeof NameEntrySchema>;

export interface NamesRoutesOptions {
  registry: Registry;
  zones: readonly string[];
  token: string | undefined;
  /** Cluster mode: this node's name, shown on its own instances. */
  node?: string;
}

export const namesRoutes: FastifyPluginAsyncTypebox<NamesRoutesOptions> = async (app, { registry, zones, token, node }) => {
  app.addHook('onRequest', requireToken(token));
  app.get(
    '/',
    {
      schema: {
        tags: ['names'],
        summary: 'Every name served (A, AAAA, SRV) with its addresses, source, owner and health',
        querystring: Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })) }, { additionalProperties: false }),
        response: { 200: Type.Array(NameEntrySchema) },
      },
    },
    async (request) => {
      const entries = [...registry.all()].flatMap((instance) => entriesOf(instance, node)).sort((a, b) => a.name.localeCompare(b.name) || a.type.localeCompare(b.type));
      if (request.query.name === undefined) return entries;
      const name = qualifyName(request.query.name, zones);
      return entries.filter((entry) => entry.name === name);
    },
  );
};

function entriesOf(instance: Instance, localNode: string | undefined): NameEntry[] {
  const node = localNode === undefined ? undefined : (nodeOfOwner(instance.owner) ?? localNode);
  const common = {
    source: instance.source,
    owner: instance.owner,
    healthy: instance.healthy,
    ...(instance.ttl === undefined ? {} : { ttl: instance.ttl }),
    ...(node === undefined ? {} : { node }),
  };
  const v4 = instance.addresses.filter((address) => isIPv4(address));
  const v6 = instance.addresses.filter((address) => !isIPv4(address));
  const entries: NameEntry[] = [];
  for (const name of instance.names) {
    if (v4.length > 0) entries.push({ name, type: 'A', addresses: v4, ...common });
    if (v6.length > 0) entries.push({ name, type: 'AAAA', addresses: v6, ...common });
    for (const srv of instance.srv) {
      const target = instance.names[0] ?? name;
      entries.push({
        name: srvName(srv, name),
        type: 'SRV',
        addresses: instance.addresses,
        srv: { target, port: srv.port, priority: srv.priority, weight: srv.weight },
        ...common,
      });
    }
  }
  return entries;
}
