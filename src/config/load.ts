// Builds the one effective configuration from the file, the environment and
// the command line (in that order of precedence) and validates it.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { ConfigSchema, type Config } from './schema.js';
import { parseAllowList, parseEndpoint } from './addresses.js';
import { dockerOptions } from './docker-endpoint.js';
import { canonicalAddress, isInZone, nameProblem, normalizeName, qualifyName, servedNameProblem } from '../registry/names.js';
import { requireCommonJs } from '../lib/commonjs.js';
import { describeIssue, pickIssue, validatorOf, type SchemaIssue } from '../lib/json-schema.js';
import { tokenProblem } from './token.js';
import { forwardingLoop } from './loop.js';
import { dataDirContext, defaultDataDir } from './data-dir.js';

export class ConfigError extends Error {}

/** The part of a JSON schema the configuration's checks and messages read. */
interface SchemaNode {
  type?: string;
  const?: unknown;
  anyOf?: readonly SchemaNode[];
  items?: SchemaNode;
  properties?: Readonly<Record<string, SchemaNode>>;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
}

/** Fills in the defaults as it checks; every problem is collected, so the most telling one can be reported. */
const validConfig = validatorOf<Config>(ConfigSchema, { allErrors: true, useDefaults: true });

interface Option {
  key: keyof Config;
  flag: string;
  env: string;
  /** Repeatable flag; comma-separated in the environment. */
  list?: boolean;
  /** A flag without a value that turns the setting on (`--query-log`); true or false in the environment. */
  switch?: boolean;
  value: string;
  help: string;
}

/** Every setting that has a flag and an environment variable. The rest live in the file only. */
export const OPTIONS: readonly Option[] = [
  { key: 'dns', flag: 'dns', env: 'SEAMARK_DNS', list: true, value: 'addr:port', help: 'DNS listener, UDP and TCP (repeatable; IPv6 as [::1]:8053) [127.0.0.1:8053]' },
  { key: 'http', flag: 'http', env: 'SEAMARK_HTTP', value: 'addr:port', help: 'HTTP API listener, or "off" [127.0.0.1:8080]' },
  { key: 'httpHosts', flag: 'http-host', env: 'SEAMARK_HTTP_HOSTS', list: true, value: 'name', help: 'a name the HTTP API is reached by (DNS name, reverse proxy), besides IP addresses and localhost; other Hosts get 421 (repeatable; "*": any) [none]' },
  { key: 'token', flag: 'token', env: 'SEAMARK_TOKEN', value: 'secret', help: 'bearer token the HTTP API requires for writes; prefer the environment or --token-file, as flags show in ps [none]' },
  { key: 'tokenFile', flag: 'token-file', env: 'SEAMARK_TOKEN_FILE', value: 'file', help: 'file holding the HTTP API token [none]' },
  { key: 'httpTlsCert', flag: 'http-tls-cert', env: 'SEAMARK_HTTP_TLS_CERT', value: 'file', help: 'certificate chain (PEM) of the HTTP API; with --http-tls-key it serves HTTPS only [none]' },
  { key: 'httpTlsKey', flag: 'http-tls-key', env: 'SEAMARK_HTTP_TLS_KEY', value: 'file', help: 'private key (PEM) of the HTTP API [none]' },
  { key: 'zones', flag: 'zone', env: 'SEAMARK_ZONE', list: true, value: 'name', help: 'zone served with authority (repeatable; the first is the default for relative names) [docker]' },
  { key: 'dataDir', flag: 'data-dir', env: 'SEAMARK_DATA_DIR', value: 'dir', help: 'directory of the record store [$STATE_DIRECTORY under systemd; data in a source checkout; else /var/lib/seamark as root, ~/.local/state/seamark as a user]' },
  { key: 'upstreams', flag: 'upstream', env: 'SEAMARK_UPSTREAM', list: true, value: 'addr:port', help: 'resolver for names outside the zones (repeatable) [from /etc/resolv.conf]' },
  { key: 'workers', flag: 'workers', env: 'SEAMARK_WORKERS', value: 'n|auto', help: 'DNS worker processes sharing the sockets; auto = one per CPU [1]' },
  { key: 'answerCacheMemory', flag: 'answer-cache-memory', env: 'SEAMARK_ANSWER_CACHE_MEMORY', value: 'MB', help: 'heap the cache of encoded answers may hold, per DNS process; the least recently asked go first [64]' },
  { key: 'forwardCacheMemory', flag: 'forward-cache-memory', env: 'SEAMARK_FORWARD_CACHE_MEMORY', value: 'MB', help: 'heap the cache of forwarded answers may hold, per DNS process [8]' },
  { key: 'logLevel', flag: 'log-level', env: 'SEAMARK_LOG_LEVEL', value: 'level', help: 'fatal, error, warn, info, debug, trace or silent [info]' },
  { key: 'logFormat', flag: 'log-format', env: 'SEAMARK_LOG_FORMAT', value: 'pretty|json|auto', help: 'log lines for people (pretty) or one JSON object a line (json) [auto: pretty on a terminal, else json]' },
  { key: 'queryLog', flag: 'query-log', env: 'SEAMARK_QUERY_LOG', switch: true, value: '', help: 'log every answer: client, name, type, rcode, where it came from (zone, cache, forward), latency [off]' },
  { key: 'queryLogRate', flag: 'query-log-rate', env: 'SEAMARK_QUERY_LOG_RATE', value: 'n', help: 'most query log lines a second per DNS process; the rest are counted and the count logged [100]' },
  { key: 'ttl', flag: 'ttl', env: 'SEAMARK_TTL', value: 'seconds', help: 'default TTL of answers [30]' },
  { key: 'negativeTtl', flag: 'negative-ttl', env: 'SEAMARK_NEGATIVE_TTL', value: 'seconds', help: 'TTL of NXDOMAIN/NODATA answers (SOA minimum) [5]' },
  { key: 'forwardAllow', flag: 'forward-allow', env: 'SEAMARK_FORWARD_ALLOW', list: true, value: 'cidr', help: 'clients allowed to have names forwarded (repeatable) [loopback, RFC 1918, RFC 4193, link-local]' },
  { key: 'rrlRate', flag: 'rrl-rate', env: 'SEAMARK_RRL_RATE', value: 'n', help: 'response rate limiting: UDP answers per second to one client /24 or /56 for one answer, 0 for off [20]' },
  { key: 'rrlWindow', flag: 'rrl-window', env: 'SEAMARK_RRL_WINDOW', value: 'seconds', help: 'a rate-limited client stays limited until quiet this long [15]' },
  { key: 'rrlSlip', flag: 'rrl-slip', env: 'SEAMARK_RRL_SLIP', value: 'n', help: 'every Nth rate-limited answer goes out empty with TC so real clients retry over TCP; 0: drop all [2]' },
  { key: 'rrlExempt', flag: 'rrl-exempt', env: 'SEAMARK_RRL_EXEMPT', list: true, value: 'cidr', help: 'clients never rate-limited (repeatable); "forward-allow" stands for the forwarding allow-list [loopback, forward-allow]' },
  { key: 'axfrAllow', flag: 'axfr-allow', env: 'SEAMARK_AXFR_ALLOW', list: true, value: 'cidr', help: 'clients allowed to transfer zones with AXFR (repeatable) [loopback]' },
  { key: 'docker', flag: 'docker', env: 'SEAMARK_DOCKER', value: 'endpoint|off', help: 'Docker endpoint (unix:///var/run/docker.sock, tcp://host:2376 with DOCKER_CERT_PATH) or "off" [DOCKER_HOST, else /var/run/docker.sock]' },
  { key: 'publishAll', flag: 'publish-all', env: 'SEAMARK_PUBLISH_ALL', value: 'true|false', help: 'publish every container; false: only those labelled seamark.enable=true [true]' },
  { key: 'dnsdockNames', flag: 'dnsdock-names', env: 'SEAMARK_DNSDOCK_NAMES', value: 'true|false', help: "DNSDock's names for every container: <container>.<image>.<zone> and <image>.<zone> [false]" },
  { key: 'dockerNetworks', flag: 'docker-network', env: 'SEAMARK_DOCKER_NETWORKS', list: true, value: 'name', help: 'publish container addresses on this Docker network only (repeatable) [every network]' },
  { key: 'unsharedNetworks', flag: 'unshared-networks', env: 'SEAMARK_UNSHARED_NETWORKS', value: 'addresses|nodata', help: 'a container asking for a container it shares no Docker network with gets its other addresses, or none (NODATA, as Docker\'s own DNS) [addresses]' },
  { key: 'preferredNetworks', flag: 'preferred-network', env: 'SEAMARK_PREFERRED_NETWORKS', list: true, value: 'name', help: 'for clients that are not containers (the host, other machines): a container\'s addresses on the first of these networks it is on (repeatable) [all addresses]' },
  { key: 'dockerHostAddresses', flag: 'docker-host-address', env: 'SEAMARK_DOCKER_HOST_ADDRESSES', list: true, value: 'address', help: 'address published for host-network containers (repeatable) [none: skipped]' },
  { key: 'dockerReconcile', flag: 'docker-reconcile', env: 'SEAMARK_DOCKER_RECONCILE', value: 'seconds', help: 'seconds between full reconciles with Docker, 0 for never [60]' },
  { key: 'dockerTimeout', flag: 'docker-timeout', env: 'SEAMARK_DOCKER_TIMEOUT', value: 'seconds', help: 'longest wait for one answer from Docker; a call that takes longer is retried and the source shows as degraded [10]' },
  { key: 'dockerEventsCheck', flag: 'docker-events-check', env: 'SEAMARK_DOCKER_EVENTS_CHECK', value: 'seconds', help: 'after this much silence the Docker event stream is checked against the container list; stalled: reconnect. 0 for never [10]' },
  { key: 'dockerMaxPorts', flag: 'docker-max-ports', env: 'SEAMARK_DOCKER_MAX_PORTS', value: 'n', help: 'most ports of one container that get SRV records (a warning names a container with more) [100]' },
  { key: 'dockerMaxNames', flag: 'docker-max-names', env: 'SEAMARK_DOCKER_MAX_NAMES', value: 'n', help: 'most names one container is served under (a warning names a container with more) [32]' },
  { key: 'etcd', flag: 'etcd', env: 'SEAMARK_ETCD', list: true, value: 'url', help: 'etcd endpoint (repeatable); turns cluster mode on [none: one host, disk store]' },
  { key: 'nodeName', flag: 'node-name', env: 'SEAMARK_NODE_NAME', value: 'name', help: 'this node\'s name in the cluster, unique: a second live node with the same name is refused (exits 1) [the host name]' },
  { key: 'etcdPrefix', flag: 'etcd-prefix', env: 'SEAMARK_ETCD_PREFIX', value: 'prefix', help: 'prefix of seamark\'s keys in etcd [/seamark/]' },
  { key: 'nodeTtl', flag: 'node-ttl', env: 'SEAMARK_NODE_TTL', value: 'seconds', help: 'lease of this node in etcd: a dead node leaves the answers this long after its last keep-alive [10]' },
  { key: 'advertiseAddress', flag: 'advertise-address', env: 'SEAMARK_ADVERTISE_ADDRESS', value: 'ip', help: 'address other hosts reach this node at [the default route\'s interface address]' },
  { key: 'clusterAddresses', flag: 'cluster-addresses', env: 'SEAMARK_CLUSTER_ADDRESSES', value: 'published|container', help: 'other nodes answer this node\'s containers with the advertise address and published ports, or with container addresses (routed networks) [published]' },
  { key: 'etcdSkydns', flag: 'etcd-skydns', env: 'SEAMARK_ETCD_SKYDNS', value: 'true|false', help: 'also write instances in the SkyDNS/CoreDNS etcd format under /skydns/ [false]' },
  { key: 'etcdCa', flag: 'etcd-ca', env: 'SEAMARK_ETCD_CA', value: 'file', help: 'CA bundle (PEM) of the etcd servers; turns TLS on [none]' },
  { key: 'etcdCert', flag: 'etcd-cert', env: 'SEAMARK_ETCD_CERT', value: 'file', help: 'client certificate (PEM) for etcd [none]' },
  { key: 'etcdKey', flag: 'etcd-key', env: 'SEAMARK_ETCD_KEY', value: 'file', help: 'client key (PEM) for etcd [none]' },
  { key: 'etcdUsername', flag: 'etcd-username', env: 'SEAMARK_ETCD_USERNAME', value: 'user', help: 'etcd user [none]' },
  { key: 'etcdPassword', flag: 'etcd-password', env: 'SEAMARK_ETCD_PASSWORD', value: 'secret', help: 'etcd password; prefer the environment, as flags show in ps [none]' },
  { key: 'startingHealthy', flag: 'starting-healthy', env: 'SEAMARK_STARTING_HEALTHY', value: 'true|false', help: 'serve containers whose HEALTHCHECK is still starting [true]' },
];

export interface LoadedConfig {
  config: Config;
  /** The file it came from, if any. */
  file?: string;
}

export interface CommandLine {
  help: boolean;
  version: boolean;
  /** Validate the configuration and exit: 0 when it is good, 2 when not; nothing starts. */
  checkConfig?: boolean;
  configFile?: string;
  /** Values given as flags, by config key. */
  flags: Partial<Record<keyof Config, string | string[]>>;
}

export function parseCommandLine(argv: string[]): CommandLine {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
    'check-config': { type: 'boolean' },
    config: { type: 'string', short: 'c' },
  };
  for (const option of OPTIONS) options[option.flag] = option.switch ? { type: 'boolean' } : { type: 'string', multiple: option.list === true };
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({ args: joinDashValues(argv, options), options, allowPositionals: false, strict: true }));
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}; see seamark --help`);
  }
  const flags: CommandLine['flags'] = {};
  for (const option of OPTIONS) {
    const value = values[option.flag];
    if (value !== undefined) flags[option.key] = typeof value === 'boolean' ? String(value) : (value as string | string[]);
  }
  return {
    help: values.help === true,
    version: values.version === true,
    checkConfig: values['check-config'] === true,
    configFile: typeof values.config === 'string' ? values.config : undefined,
    flags,
  };
}

/**
 * `--ttl -1` as `--ttl=-1`: parseArgs calls a value that starts with a dash ambiguous, while the user meant a
 * value, which the validation then judges like any other ("ttl = -1: must be an integer from 0 to …").
 */
function joinDashValues(argv: string[], options: Record<string, { type: 'string' | 'boolean' }>): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = argv[i + 1];
    const takesValue = arg.startsWith('--') && !arg.includes('=') && options[arg.slice(2)]?.type === 'string';
    if (takesValue && next !== undefined && next.startsWith('-')) {
      joined.push(`${arg}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

export function helpText(): string {
  const usage = (o: Option) => (o.switch ? `--${o.flag}` : `--${o.flag} <${o.value}>`);
  const width = Math.max(...OPTIONS.map((o) => usage(o).length), '--config <file>'.length) + 2;
  const line = (left: string, right: string) => `  ${left.padEnd(width)}${right}`;
  return [
    'seamark — service-discovery DNS server for container hosts',
    '',
    'Usage: seamark [options]',
    '       seamark records list|get|add|edit|rm|renew ... (hand-made records over the HTTP API; seamark records --help)',
    '       seamark lookup <name> [type]            (what seamark answers, and from which instance; seamark lookup --help)',
    '       seamark --check-config [--config <file>] (check a configuration without starting: exit 0 good, 2 bad)',
    '',
    'Options (each also settable in the config file and as the environment variable shown):',
    line('--config <file>', 'YAML (or JSON) configuration file; env SEAMARK_CONFIG'),
    ...OPTIONS.map((o) => line(usage(o), `${o.help}; env ${o.env}${o.list ? ' (comma-separated)' : o.switch ? ' (true or false)' : ''}`)),
    line('--check-config', 'read and check the configuration (file, environment, flags), say whether it is good and exit 0, or 2 naming the problem; starts nothing'),
    line('-h, --help', 'show this help'),
    line('-v, --version', 'print the version'),
    '',
    'Precedence: flags over environment over file over defaults. A bad value stops seamark with exit status 2',
    'and a message naming the setting, the value, the reason and where it came from.',
    'Reload: SIGHUP (systemctl reload seamark) reads the file again and applies hosts, upstreams, TTLs, log level,',
    'allow-lists, RRL and the token without closing a socket; a bad file is refused with a log line and the running',
    'configuration stays. Listen addresses, zones, workers, stores, Docker and cluster settings need a restart: the',
    'reload\'s log line names those that changed.',
    'An upstream that leads back to seamark (one of its own listeners, or systemd-resolved\'s 127.0.0.53 when resolved\'s',
    'global DNS= is seamark) is refused: send only the zones to seamark (split DNS: config/split-dns, README).',
    'With a token, every HTTP write needs it, and so does every read from beyond loopback but /healthz, /readyz',
    'and /metrics; without one, the HTTP API listens on loopback only. A token has at least 16 characters.',
    'The HTTP API answers requests whose Host is an IP address, localhost or a name of --http-host (others get 421;',
    '/healthz and /readyz answer any Host), and refuses writes a browser sends from a page of another origin (403).',
    'Example: seamark --dns 127.0.0.1:8053 --dns [::1]:8053 --zone docker --upstream 127.0.0.1:53',
  ].join('\n');
}

export function loadConfig(commandLine: CommandLine, env: NodeJS.ProcessEnv): LoadedConfig {
  const file = commandLine.configFile ?? nonEmpty(env.SEAMARK_CONFIG);
  const merged: Record<string, unknown> = file === undefined ? {} : readConfigFile(file);
  const origins = new Map<string, string>(Object.keys(merged).map((key) => [key, `file ${file}`]));

  for (const option of OPTIONS) {
    const fromEnv = nonEmpty(env[option.env]);
    const fromFlag = commandLine.flags[option.key];
    const schema: SchemaNode = ConfigSchema.properties[option.key];
    if (fromFlag !== undefined) {
      merged[option.key] = fromText(schema, fromFlag);
      origins.set(option.key, `--${option.flag}`);
    } else if (fromEnv !== undefined) {
      merged[option.key] = fromText(schema, option.list ? fromEnv.split(',').map((s) => s.trim()).filter(Boolean) : fromEnv);
      origins.set(option.key, option.env);
    }
  }

  if (merged.dataDir === undefined) {
    const { dir, why } = defaultDataDir(dataDirContext(env));
    merged.dataDir = dir;
    origins.set('dataDir', `the default: ${why}`);
  }

  // The check converts no types: text from flags and the environment is converted by fromText (which never
  // truncates 1.5 to 1 where an integer is wanted); the file's values come typed from YAML/JSON and are judged as they are.
  const validate = validConfig();
  if (!validate(merged)) throw new ConfigError(describeSchemaError(validate.errors, merged, origins));
  const config: Config = merged;
  checkMeaning(config, origins, env);
  return { config, file };
}

/** A flag's or variable's text as the type its setting wants, when it reads as one; otherwise the text, for the schema to reject. */
function fromText(schema: SchemaNode, text: string | string[]): unknown {
  if (Array.isArray(text)) return text.map((item) => fromText(schema.items ?? schema, item));
  const members = schema.anyOf ?? [schema];
  if (members.some((member) => member.const === text)) return text;
  const trimmed = text.trim();
  if (members.some((member) => member.type === 'integer' || member.type === 'number') && /^[-+]?(\d+\.?\d*|\.\d+)$/.test(trimmed)) return Number(trimmed);
  if (members.some((member) => member.type === 'boolean') && /^(true|false)$/i.test(trimmed)) return trimmed.toLowerCase() === 'true';
  return text;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read configuration file ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    // JSON is YAML too, but JSON.parse reads a file of 100,000 hosts in a fraction of the time and memory.
    parsed = file.endsWith('.json') ? JSON.parse(text) : (requireCommonJs('yaml') as typeof import('yaml')).parse(text, { prettyErrors: true });
  } catch (error) {
    throw new ConfigError(`configuration file ${file} is not valid YAML/JSON: ${(error as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`configuration file ${file} must hold a mapping of settings, not ${Array.isArray(parsed) ? 'a list' : typeof parsed}`);
  }
  return parsed as Record<string, unknown>;
}

/** Checks what the schema cannot: addresses, names and CIDRs; normalises zones and host names in place. */
function checkMeaning(config: Config, origins: Map<string, string>, env: NodeJS.ProcessEnv): void {
  const fail = (key: string, value: unknown, reason: string): never => {
    const origin = origins.get(key.split(/[.[]/)[0] ?? key);
    throw new ConfigError(`invalid configuration: ${key} = ${JSON.stringify(value)}: ${reason}${origin ? ` (from ${origin})` : ''}`);
  };
  const check = (key: string, value: unknown, test: () => void) => {
    try {
      test();
    } catch (error) {
      fail(key, value, (error as Error).message);
    }
  };
  config.dns.forEach((listen, i) => check(`dns[${i}]`, listen, () => parseEndpoint(listen)));
  if (config.token !== undefined) {
    // Clients cannot send white space around a header value, so the token they can send is the trimmed one.
    config.token = config.token.trim();
    const problem = tokenProblem(config.token);
    if (problem !== undefined) fail('token', '<redacted>', problem);
  }
  config.httpHosts = config.httpHosts.map((host, i) => {
    const problem = httpHostProblem(host);
    if (problem !== undefined) fail(`httpHosts[${i}]`, host, problem);
    return host.trim().toLowerCase().replace(/\.$/, '');
  });
  if (config.http !== 'off') check('http', config.http, () => parseEndpoint(config.http));
  config.upstreams.forEach((upstream, i) => check(`upstreams[${i}]`, upstream, () => parseEndpoint(upstream, 53)));
  const loop = forwardingLoop(
    config.dns.map((text) => parseEndpoint(text)),
    config.upstreams.map((text) => parseEndpoint(text, 53)),
  );
  if (loop !== undefined) fail('upstreams', config.upstreams, loop);
  check('forwardAllow', config.forwardAllow, () => parseAllowList(config.forwardAllow));
  check('axfrAllow', config.axfrAllow, () => parseAllowList(config.axfrAllow));
  if (config.docker.trim() !== 'off') {
    const endpoint = config.docker.trim() || env.DOCKER_HOST?.trim();
    if (config.docker.trim() === '' && endpoint) origins.set('docker', 'DOCKER_HOST');
    if (endpoint) check('docker', endpoint, () => dockerOptions(endpoint, env));
  }
  check('rrlExempt', config.rrlExempt, () => parseAllowList(config.rrlExempt.filter((entry) => entry !== 'forward-allow')));
  config.zones = config.zones.map((zone, i) => {
    const problem = nameProblem(zone);
    if (problem !== undefined) fail(`zones[${i}]`, zone, `not a valid DNS name: it ${problem}`);
    return normalizeName(zone);
  });
  config.dockerHostAddresses = config.dockerHostAddresses.map((address, i) => {
    const canonical = canonicalAddress(address);
    if (canonical === undefined) fail(`dockerHostAddresses[${i}]`, address, 'not an IPv4 or IPv6 address');
    return canonical as string;
  });
  config.etcd.forEach((url, i) => check(`etcd[${i}]`, url, () => checkEtcdUrl(url)));
  if (config.advertiseAddress !== '') {
    const canonical = canonicalAddress(config.advertiseAddress);
    if (canonical === undefined) fail('advertiseAddress', config.advertiseAddress, 'not an IPv4 or IPv6 address');
    config.advertiseAddress = canonical as string;
  }
  if (!config.etcdPrefix.startsWith('/') || !config.etcdPrefix.endsWith('/')) fail('etcdPrefix', config.etcdPrefix, 'must start and end with "/"');
  if ((config.etcdCert === undefined) !== (config.etcdKey === undefined)) fail('etcdCert', config.etcdCert, 'etcdCert and etcdKey go together: give both or neither');
  if ((config.httpTlsCert === undefined) !== (config.httpTlsKey === undefined)) fail('httpTlsCert', config.httpTlsCert, 'httpTlsCert and httpTlsKey go together: give both or neither');
  if ((config.etcdUsername === undefined) !== (config.etcdPassword === undefined)) fail('etcdUsername', config.etcdUsername, 'etcdUsername and etcdPassword go together');
  config.hosts.forEach((host, i) => {
    host.names = host.names.map((name, j) => {
      const problem = servedNameProblem(name);
      if (problem !== undefined) fail(`hosts[${i}].names[${j}]`, name, `not a valid DNS name: it ${problem}`);
      const qualified = qualifyName(name, config.zones);
      if (!config.zones.some((zone) => isInZone(qualified, zone))) {
        fail(`hosts[${i}].names[${j}]`, name, `is outside the served zones (${config.zones.join(', ')})`);
      }
      if (qualified.length > 253) fail(`hosts[${i}].names[${j}]`, name, `is longer than 253 characters once qualified (${qualified})`);
      return qualified;
    });
    host.addresses = host.addresses.map((address, j) => {
      const canonical = canonicalAddress(address);
      if (canonical === undefined) fail(`hosts[${i}].addresses[${j}]`, address, 'not an IPv4 or IPv6 address');
      return canonical as string;
    });
  });
}

/** Why an `httpHosts` entry is no host name, IP address or `*`; undefined when it is one. */
function httpHostProblem(entry: string): string | undefined {
  const host = entry.trim();
  if (host === '*' || isIP(host) !== 0 || (/^\[[^\]]+\]$/.test(host) && isIP(host.slice(1, -1)) === 6)) return undefined;
  if (/:\d*$/.test(host)) return 'write the name without a port: every port is accepted';
  if (host.includes('*')) return 'a name or "*" alone (every Host); a wildcard inside a name is not supported';
  const problem = nameProblem(host);
  return problem === undefined ? undefined : `not a host name or IP address: it ${problem}`;
}

function checkEtcdUrl(text: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error('not a URL; write http://host:2379 or https://host:2379');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`scheme ${url.protocol} is not http: or https:`);
}

/** One sentence for the most telling schema problem: the key, its value, what is wrong, where it came from. */
function describeSchemaError(issues: readonly SchemaIssue[] | null | undefined, value: unknown, origins: Map<string, string>): string {
  const issue = pickIssue(issues);
  const described = describeIssue(issue);
  const key = described.field || 'top level';
  const origin = origins.get(key.split(/[.[]/)[0] ?? key);
  const from = origin ? ` (from ${origin})` : '';
  if (issue?.keyword === 'additionalProperties') return `invalid configuration: unknown setting "${key}"${from}; see config/seamark.example.yaml`;
  if (issue?.keyword === 'required') return `invalid configuration: ${key}: ${described.reason}${from}`;
  const path = issue?.instancePath ?? '';
  // A secret's value never reaches a message (or the log it ends up in).
  const found = SECRET_SETTINGS.has(path.split('/')[1] ?? '') ? '<redacted>' : valueAt(value, path);
  const allowed = (issue?.params as { allowedValues?: unknown[] } | undefined)?.allowedValues;
  const wanted = expected(schemaAt(path));
  const reason = allowed ? `must be one of ${allowed.join(', ')}` : wanted ? `must be ${wanted}` : described.reason;
  return `invalid configuration: ${key}${found === undefined ? '' : ` = ${JSON.stringify(found)}`}: ${reason}${from}`;
}

/** Settings whose values are secrets. */
const SECRET_SETTINGS = new Set(['token', 'etcdPassword']);

/** The part of the configuration schema a JSON pointer leads to. */
function schemaAt(path: string): SchemaNode | undefined {
  let schema: SchemaNode | undefined = ConfigSchema;
  for (const part of path.split('/').filter(Boolean)) {
    schema = /^\d+$/.test(part) && schema?.items ? schema.items : schema?.properties?.[part];
  }
  return schema;
}

/** What a scalar setting accepts, in words ("an integer from 0 to 2147483647", `an integer from 1 to 64 or "auto"`). */
function expected(node: SchemaNode | undefined): string | undefined {
  if (node === undefined) return undefined;
  if (node.anyOf) {
    const members = node.anyOf.map(expected);
    return members.every((member) => member !== undefined) ? members.join(' or ') : undefined;
  }
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (node.type === 'boolean') return 'true or false';
  if (node.type !== 'integer' && node.type !== 'number') return undefined;
  const kind = node.type === 'integer' ? 'an integer' : 'a number';
  const low = node.minimum !== undefined ? `from ${node.minimum}` : node.exclusiveMinimum !== undefined ? `above ${node.exclusiveMinimum}` : '';
  const high = node.maximum !== undefined ? `${low.startsWith('from') ? 'to' : 'up to'} ${node.maximum}` : '';
  return [kind, low, high].filter(Boolean).join(' ');
}

function valueAt(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path.split('/').filter(Boolean)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
