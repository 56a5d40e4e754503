// The SkyDNS/CoreDNS etcd projection (`--etcd-skydns`): every instance this
// node publishes, also as `/skydns/<name labels reversed>/<node>-<id>` =
// {"host", "port", "ttl"} (CoreDNS's msg.Service), on the node lease, so the
// CoreDNS `etcd` plugin or any SkyDNS reader serves seamark's containers.
import type { Instance } from '../registry/instance.js';

export const SKYDNS_PREFIX = '/skydns/';

/** The directory of a name: `web.prod.docker` → `/skydns/docker/prod/web/`. */
export function skydnsDirectory(name: string): string {
  return `${SKYDNS_PREFIX}${name.split('.').reverse().join('/')}/`;
}

/** One entry per name, address and SRV port (SkyDNS has one port per entry). */
export function skydnsKeys(node: string, published: ReadonlyMap<string, Instance>): Map<string, string> {
  const keys = new Map<string, string>();
  for (const [owner, instance] of published) {
    const id = owner.slice(owner.indexOf(':') + 1);
    const ports: (number | undefined)[] = instance.srv.length > 0 ? [...new Set(instance.srv.map((s) => s.port))] : [undefined];
    for (const name of instance.names) {
      instance.addresses.forEach((host, a) => {
        ports.forEach((port, p) => {
          const suffix = instance.addresses.length * ports.length > 1 ? `-${a * ports.length + p}` : '';
          const value = { host, ...(port === undefined ? {} : { port }), ...(instance.ttl === undefined ? {} : { ttl: instance.ttl }) };
          keys.set(`${skydnsDirectory(name)}${node}-${id}${suffix}`, JSON.stringify(value));
        });
      });
    }
  }
  return keys;
}
