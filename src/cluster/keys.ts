// The key layout under the cluster prefix and the JSON of each value: the
// one place that knows how seamark's data looks inside etcd.
import type { Instance } from '../registry/instance.js';
import { remoteOwner } from '../registry/owners.js';
import { describeIssue, pickIssue, validatorOf, type SchemaIssue, type SchemaType } from '../lib/json-schema.js';

export class KeyLayout {
  constructor(readonly prefix: string) {}

  nodes(): string {
    return `${this.prefix}nodes/`;
  }
  node(name: string): string {
    return `${this.prefix}nodes/${name}`;
  }
  instances(): string {
    return `${this.prefix}instances/`;
  }
  instancesOf(node: string): string {
    return `${this.prefix}instances/${node}/`;
  }
  instance(node: string, owner: string): string {
    return `${this.prefix}instances/${node}/${owner}`;
  }
  records(): string {
    return `${this.prefix}records/`;
  }
  record(id: string): string {
    return `${this.prefix}records/${id}`;
  }

  /** What a key under the prefix is: a node, an instance of a node, a hand-made record, or something else. */
  parse(key: string): { kind: 'node'; node: string } | { kind: 'instance'; node: string; owner: string } | { kind: 'record'; id: string } | undefined {
    if (!key.startsWith(this.prefix)) return undefined;
    const rest = key.slice(this.prefix.length);
    if (rest.startsWith('nodes/')) return { kind: 'node', node: rest.slice('nodes/'.length) };
    if (rest.startsWith('records/')) return { kind: 'record', id: rest.slice('records/'.length) };
    if (rest.startsWith('instances/')) {
      const slash = rest.indexOf('/', 'instances/'.length);
      if (slash < 0) return undefined;
      return { kind: 'instance', node: rest.slice('instances/'.length, slash), owner: rest.slice(slash + 1) };
    }
    return undefined;
  }
}

const SrvValue = {
  type: 'object',
  required: ['service', 'protocol', 'port', 'priority', 'weight'],
  properties: {
    service: { type: 'string', minLength: 1 },
    protocol: { type: 'string', minLength: 1 },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    priority: { type: 'integer', minimum: 0, maximum: 65535 },
    weight: { type: 'integer', minimum: 0, maximum: 65535 },
  },
} as const;

/** `instances/<node>/<owner>`: the instance as other nodes serve it (addresses already chosen by its node). */
export const InstanceValueSchema = {
  type: 'object',
  required: ['source', 'names', 'addresses', 'srv', 'healthy'],
  properties: {
    source: { anyOf: [{ type: 'string', const: 'docker' }, { type: 'string', const: 'manual' }, { type: 'string', const: 'config' }] },
    names: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
    addresses: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
    ttl: { type: 'integer', minimum: 0 },
    srv: { type: 'array', items: SrvValue },
    healthy: { type: 'boolean' },
    /** The container's name on its node, for readers (the operator page, /v1/lookup). */
    container: { type: 'string' },
    /** An alias (CNAME) and TXT strings, as the registry's Instance has them. */
    cname: { type: 'string', minLength: 1 },
    txt: { type: 'array', items: { type: 'string' } },
  },
} as const;
export type InstanceValue = SchemaType<typeof InstanceValueSchema>;

/** `nodes/<node>`: who the node is, on its lease (`ttl` and `leaving` are absent in keys of older seamarks). */
export const NodeValueSchema = {
  type: 'object',
  required: ['name', 'advertiseAddress', 'dns', 'version', 'startedAt', 'lease'],
  properties: {
    name: { type: 'string' },
    advertiseAddress: { type: 'string' },
    /** The DNS listeners of the node, as configured. */
    dns: { type: 'array', items: { type: 'string' } },
    version: { type: 'string' },
    startedAt: { type: 'string' },
    lease: { type: 'string' },
    /** The node's --node-ttl: how long other nodes keep its instances after its lease lapses depends on it. */
    ttl: { type: 'integer', minimum: 1 },
    /** Written just before the node revokes its lease on a clean stop: other nodes drop its instances at once. */
    leaving: { type: 'boolean' },
  },
} as const;
export type NodeValue = SchemaType<typeof NodeValueSchema>;

// Compiled on the first value read: only cluster mode reads them.
const validInstanceValue = validatorOf<InstanceValue>(InstanceValueSchema);
const validNodeValue = validatorOf<NodeValue>(NodeValueSchema);

export function encodeInstance(instance: Instance): string {
  const value: InstanceValue = {
    source: instance.source,
    names: instance.names,
    addresses: instance.addresses,
    ...(instance.ttl === undefined ? {} : { ttl: instance.ttl }),
    srv: instance.srv.map(({ service, protocol, port, priority, weight }) => ({ service, protocol, port, priority, weight })),
    healthy: instance.healthy,
    ...(instance.origin?.container === undefined ? {} : { container: instance.origin.container }),
    ...(instance.cname === undefined ? {} : { cname: instance.cname }),
    ...(instance.txt === undefined ? {} : { txt: instance.txt }),
  };
  return JSON.stringify(value);
}

/** The instance a remote key stands for; a string naming the problem when the value is unreadable. */
export function decodeInstance(node: string, owner: string, text: string): Instance | string {
  const value = parseJson(text);
  const validate = validInstanceValue();
  if (!validate(value)) return describe(validate, value);
  const { container, ...served } = value;
  return { owner: remoteOwner(node, owner), ...served, origin: container === undefined ? { node } : { node, container } };
}

export function decodeNode(text: string): NodeValue | string {
  const value = parseJson(text);
  const validate = validNodeValue();
  return validate(value) ? value : describe(validate, value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** What is wrong with a value the last check refused: `names[0] must NOT have fewer than 1 characters`. */
function describe(validate: { errors?: SchemaIssue[] | null }, value: unknown): string {
  if (value === undefined) return 'not JSON';
  const { field, reason } = describeIssue(pickIssue(validate.errors));
  return `${field || 'top level'} ${reason}`;
}
