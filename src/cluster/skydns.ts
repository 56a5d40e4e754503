// The SkyDNS/CoreDNS etcd projection (`--etcd-skydns`): every instance this
// node publishes, also as `/skydns/<name labels reversed>/<node label>-<short id>`
// = {"host", "port", "ttl"} (CoreDNS's msg.Service), on the node lease, so the
// CoreDNS `etcd` plugin or any SkyDNS reader serves seamark's containers.
//
// CoreDNS's rules, from its plugin/etcd source: a name is read as the prefix of
// its reversed labels, so every key below it answers it; the SRV target of an
// entry whose host is an address is the key itself read back as a name
// (msg.Domain), so the last segment is a DNS label and must fit 63 octets, and
// the whole name 253; `ttl` absent means 300 s unless the key's lease is
// shorter (then at least 30 s), so seamark always writes the TTL it serves.
import { createHash } from 'node:crypto';
import type { Instance } from '../registry/instance.js';

export const SKYDNS_PREFIX = '/skydns/';

/** Octets of a DNS label, and of a name in text form without its final dot. */
const MAX_LABEL = 63;
const MAX_NAME = 253;
/** Hex digits of a container id in a key (Docker's short id). */
const SHORT_ID = 12;
/** Room kept for the `-<n>` of an instance with several addresses or ports. */
const INDEX_ROOM = 5;
/** The longest node label: `<node label>-<short id><-n>` fits one label. */
export const MAX_NODE_LABEL = MAX_LABEL - 1 - SHORT_ID - INDEX_ROOM;

/** The directory of a name: `web.prod.docker` → `/skydns/docker/prod/web/`. */
export function skydnsDirectory(name: string): string {
  return `${SKYDNS_PREFIX}${name.split('.').reverse().join('/')}/`;
}

/**
 * The node's name as one DNS label of at most MAX_NODE_LABEL octets: lower case, anything but letters, digits and
 * `-` made `-`; a longer name is cut and ends in 8 hex digits of its hash, so two long names stay apart.
 */
export function skydnsNodeLabel(node: string): string {
  const label = node.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  return label.length <= MAX_NODE_LABEL ? label : `${label.slice(0, MAX_NODE_LABEL - 9)}-${hash(node).slice(0, 8)}`;
}

/** One entry per name, address and SRV port (SkyDNS has one port per entry); names too long to take the entry label are left out. */
export function skydnsKeys(node: string, published: ReadonlyMap<string, Instance>, defaultTtl: number): Map<string, string> {
  const keys = new Map<string, string>();
  const nodeLabel = skydnsNodeLabel(node);
  for (const [owner, instance] of published) {
    const id = owner.slice(owner.indexOf(':') + 1);
    const shortId = /^[0-9a-f]{12,}$/.test(id) ? id.slice(0, SHORT_ID) : hash(id).slice(0, SHORT_ID);
    const ports: (number | undefined)[] = instance.srv.length > 0 ? [...new Set(instance.srv.map((s) => s.port))] : [undefined];
    const ttl = instance.ttl ?? defaultTtl;
    for (const name of instance.names) {
      const entries = instance.addresses.length * ports.length;
      if (name.length + 1 + nodeLabel.length + 1 + SHORT_ID + (entries > 1 ? 1 + String(entries - 1).length : 0) > MAX_NAME) continue;
      instance.addresses.forEach((host, a) => {
        ports.forEach((port, p) => {
          const suffix = entries > 1 ? `-${a * ports.length + p}` : '';
          keys.set(`${skydnsDirectory(name)}${nodeLabel}-${shortId}${suffix}`, JSON.stringify({ host, ...(port === undefined ? {} : { port }), ttl }));
        });
      });
    }
  }
  return keys;
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
