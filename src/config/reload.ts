// What a reload (SIGHUP, `systemctl reload`) changes while seamark runs, and what waits for a restart.
import type { Config } from './schema.js';

/** Settings a reload hands to the DNS server (on its thread or in its worker processes): the next queries take them. */
export const DNS_RELOADABLE: ReadonlySet<keyof Config> = new Set<keyof Config>([
  'upstreams',
  'ttl',
  'negativeTtl',
  'failOpen',
  'forwardAllow',
  'forwardTimeout',
  'forwardFailureTtl',
  'forwardCacheSize',
  'forwardCacheMemory',
  'axfrAllow',
  'rrlRate',
  'rrlWindow',
  'rrlSlip',
  'rrlIpv4Prefix',
  'rrlIpv6Prefix',
  'rrlExempt',
  'rrlTableSize',
  'queryLog',
  'queryLogRate',
]);

/** Every setting a reload applies; any other (listen addresses, zones, workers, stores, Docker, cluster) needs a restart. */
export const RELOADABLE: ReadonlySet<keyof Config> = new Set<keyof Config>([...DNS_RELOADABLE, 'hosts', 'logLevel', 'token', 'tokenFile']);

export interface ConfigChanges {
  /** Changed settings a reload applies. */
  applied: (keyof Config)[];
  /** Changed settings that take effect at the next restart only. */
  needRestart: (keyof Config)[];
}

/** The settings whose values differ between the running configuration and the one read again. */
export function configChanges(running: Config, next: Config): ConfigChanges {
  const keys = new Set([...Object.keys(running), ...Object.keys(next)] as (keyof Config)[]);
  const changed = [...keys].filter((key) => JSON.stringify(running[key]) !== JSON.stringify(next[key])).sort();
  return { applied: changed.filter((key) => RELOADABLE.has(key)), needRestart: changed.filter((key) => !RELOADABLE.has(key)) };
}

/** The one log line of a reload: what changed, and what waits for a restart. */
export function describeReload(file: string | undefined, changes: ConfigChanges): string {
  const from = file === undefined ? 'the environment and flags' : file;
  const applied = changes.applied.length === 0 ? 'nothing to change' : `applied ${changes.applied.join(', ')}`;
  const restart = changes.needRestart.length === 0 ? '' : `; ${changes.needRestart.join(', ')} changed but take effect only after a restart (listen addresses, zones, workers, stores, Docker and cluster settings are read at start-up)`;
  return `configuration reloaded from ${from}: ${applied}${restart}`;
}
