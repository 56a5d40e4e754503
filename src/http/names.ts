// /v1/names: every name served, from every source, with its health — what an
// operator reads when something does not resolve. Built and serialised once
// per registry generation; filters and pages read the built list.
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { SchemaType } from '../lib/json-schema.js';
import { isIPv4 } from 'node:net';
import { canonicalName, type Instance } from '../registry/instance.js';
import { isWildcard, qualifyName } from '../registry/names.js';
import { srvName, type Registry } from '../registry/registry.js';
import { requireToken, type ApiToken } from './auth.js';
import { nodeOfOwner, OWNER_FORMS, recordOfOwner } from '../registry/owners.js';
import { jsonBytes, perGeneration, sendJsonBytes } from './per-generation.js';

export const NameEntrySchema = {
  type: 'object',
  required: ['name', 'type', 'addresses', 'source', 'owner', 'healthy'],
  properties: {
    name: { type: 'string', description: 'Fully qualified, without the trailing dot' },
    type: {
      anyOf: [
        { type: 'string', const: 'A' },
        { type: 'string', const: 'AAAA' },
        { type: 'string', const: 'SRV' },
        { type: 'string', const: 'CNAME' },
        { type: 'string', const: 'TXT' },
      ],
    },
    addresses: { type: 'array', items: { type: 'string' }, description: 'A/AAAA: the addresses; SRV: those of the target; CNAME, TXT: none' },
    cname: { type: 'string', description: 'CNAME: the name this one is an alias of' },
    txt: { type: 'array', items: { type: 'string' }, description: 'TXT: the strings, one record each' },
    srv: {
      type: 'object',
      required: ['target', 'port', 'priority', 'weight'],
      properties: { target: { type: 'string' }, port: { type: 'integer' }, priority: { type: 'integer' }, weight: { type: 'integer' } },
    },
    ttl: { type: 'integer' },
    source: { type: 'string', description: 'config, manual or docker' },
    owner: { type: 'string', description: OWNER_FORMS },
    record: { type: 'string', description: 'Hand-made records: the record id (for /v1/records/{id})' },
    healthy: { type: 'boolean' },
    node: { type: 'string', description: 'Cluster mode: the node the instance comes from' },
  },
} as const;
type NameEntry = SchemaType<typeof NameEntrySchema>;

export interface NamesRoutesOptions {
  registry: Registry;
  zones: readonly string[];
  token: ApiToken;
  /** Cluster mode: this node's name, shown on its own instances. */
  node?: string;
}

const NamesQuery = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 254, description: 'Only this name' },
    source: { type: 'string', minLength: 1, maxLength: 64, description: 'Only names from this source: config, manual or docker' },
    after: { type: 'string', minLength: 1, maxLength: 254, description: 'Only names that sort after this one (the cursor of the next page)' },
    // A string: the API does not coerce types, and a query string holds only strings.
    limit: {
      type: 'string',
      pattern: '^[1-9][0-9]{0,5}$',
      description: 'At most this many entries, 1-999999 (a page never splits a name); a `Link: rel="next"` header points to the next page',
    },
  },
  additionalProperties: false,
} as const;

export const namesRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: NamesRoutesOptions }> = async (app, { registry, zones, token, node }) => {
  app.addHook('onRequest', requireToken(token));
  const entries = perGeneration(registry, () => [...registry.all()].flatMap((instance) => entriesOf(instance, node)).sort(byNameThenType));
  const everyEntryJson = perGeneration(registry, () => jsonBytes(entries()));

  app.get(
    '/',
    {
      schema: {
        tags: ['names'],
        summary: 'Every name served (A, AAAA, SRV, CNAME, TXT; wildcards as *.name) with its addresses, source, owner and health; filter by name or source, page with limit and after',
        querystring: NamesQuery,
        response: { 200: { type: 'array', items: NameEntrySchema } },
      },
    },
    async (request, reply) => {
      const { name, source, after } = request.query;
      const limit = request.query.limit === undefined ? undefined : Number(request.query.limit);
      if (name === undefined && source === undefined && after === undefined && limit === undefined) {
        return sendJsonBytes(reply, everyEntryJson());
      }
      const wanted = name === undefined ? undefined : qualifyName(name, zones);
      const from = after === undefined ? 0 : firstAfter(entries(), qualifyName(after, zones));
      const page: NameEntry[] = [];
      const all = entries();
      let i = from;
      for (; i < all.length; i++) {
        const entry = all[i] as NameEntry;
        if (limit !== undefined && page.length >= limit && entry.name !== page[page.length - 1]?.name) break;
        if ((wanted === undefined || entry.name === wanted) && (source === undefined || entry.source === source)) page.push(entry);
      }
      const last = page[page.length - 1];
      if (i < all.length && last !== undefined) {
        const next = new URLSearchParams({ ...(source === undefined ? {} : { source }), ...(name === undefined ? {} : { name }), after: last.name, limit: String(limit) });
        reply.header('link', `</v1/names?${next.toString()}>; rel="next"`);
      }
      return page;
    },
  );
};

/** Index of the first entry whose name sorts after `name` (binary search over the sorted list). */
function firstAfter(entries: readonly NameEntry[], name: string): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((entries[middle] as NameEntry).name <= name) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Plain code-unit order: stable across locales and far cheaper than localeCompare. */
function byNameThenType(a: NameEntry, b: NameEntry): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.type < b.type ? -1 : a.type > b.type ? 1 : 0;
}

function entriesOf(instance: Instance, localNode: string | undefined): NameEntry[] {
  const node = localNode === undefined ? undefined : (nodeOfOwner(instance.owner) ?? localNode);
  const record = recordOfOwner(instance.owner);
  const common = {
    source: instance.source,
    owner: instance.owner,
    ...(record === undefined ? {} : { record }),
    healthy: instance.healthy,
    ...(instance.ttl === undefined ? {} : { ttl: instance.ttl }),
    ...(node === undefined ? {} : { node }),
  };
  const v4 = instance.addresses.filter((address) => isIPv4(address));
  const v6 = instance.addresses.filter((address) => !isIPv4(address));
  const entries: NameEntry[] = [];
  const target = canonicalName(instance);
  for (const name of instance.names) {
    if (instance.cname !== undefined) entries.push({ name, type: 'CNAME', addresses: [], cname: instance.cname, ...common });
    if (v4.length > 0) entries.push({ name, type: 'A', addresses: v4, ...common });
    if (v6.length > 0) entries.push({ name, type: 'AAAA', addresses: v6, ...common });
    if (instance.txt !== undefined && instance.txt.length > 0) entries.push({ name, type: 'TXT', addresses: [], txt: instance.txt, ...common });
    if (target === undefined || isWildcard(name)) continue;
    for (const srv of instance.srv) {
      const owner = srvName(srv, name);
      if (owner === undefined) continue;
      entries.push({
        name: owner,
        type: 'SRV',
        addresses: instance.addresses,
        srv: { target, port: srv.port, priority: srv.priority, weight: srv.weight },
        ...common,
      });
    }
  }
  return entries;
}
