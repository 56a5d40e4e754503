// The configuration's shape: one JSON schema gives the TypeScript type (at
// compile time), the defaults and the validation of the file, the environment
// and the flags.
import type { SchemaType } from '../lib/json-schema.js';

const Strict = { additionalProperties: false } as const;

export const SrvSchema = {
  type: 'object',
  required: ['service', 'protocol', 'port', 'priority', 'weight'],
  properties: {
    service: { type: 'string', minLength: 1, maxLength: 62, pattern: '^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$' },
    protocol: { type: 'string', default: 'tcp', minLength: 1, maxLength: 62, pattern: '^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$' },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    priority: { type: 'integer', default: 0, minimum: 0, maximum: 65535 },
    weight: { type: 'integer', default: 0, minimum: 0, maximum: 65535 },
  },
  ...Strict,
} as const;

export const StaticHostSchema = {
  type: 'object',
  required: ['names', 'addresses', 'srv'],
  properties: {
    names: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
    addresses: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
    ttl: { type: 'integer', minimum: 0, maximum: 2147483647 },
    srv: { type: 'array', items: SrvSchema, default: [] },
  },
  ...Strict,
} as const;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Every setting has a default or is optional, so none is listed as required: the defaults are filled in first. */
export const ConfigSchema = {
  type: 'object',
  properties: {
    /** DNS listeners, `address:port` (IPv6 in brackets); UDP and TCP on each. */
    dns: { type: 'array', items: { type: 'string' }, default: ['127.0.0.1:8053'], minItems: 1 },
    /** HTTP API listener, `address:port`, or `off`. */
    http: { type: 'string', default: '127.0.0.1:8080' },
    /** Bearer token the HTTP API requires for writes (and reads from beyond loopback). A secret: never logged, redacted in /v1/config. */
    token: { type: 'string', minLength: 1 },
    /** File holding the token (first line); used when `token` is not set. */
    tokenFile: { type: 'string', minLength: 1 },
    /**
     * Host names (and addresses) the HTTP API answers to besides IP addresses and `localhost`: the names it is reached by
     * through DNS or a reverse proxy. `*` answers every Host (turns the check off).
     */
    httpHosts: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 255 }, default: [] },
    /** Certificate chain and private key (PEM files) of the HTTP API; both given: it serves HTTPS only. */
    httpTlsCert: { type: 'string', minLength: 1 },
    httpTlsKey: { type: 'string', minLength: 1 },
    zones: { type: 'array', items: { type: 'string', minLength: 1 }, default: ['docker'], minItems: 1 },
    /** Filled in by the loader when not given: see data-dir.ts. */
    dataDir: { type: 'string', minLength: 1 },
    upstreams: { type: 'array', items: { type: 'string' }, default: [] },
    logLevel: { type: 'string', enum: LOG_LEVELS, default: 'info' },
    /** The query log: a line for every answer (client, name, type, rcode, where it came from, latency). */
    queryLog: { type: 'boolean', default: false },
    /** Most query log lines a second, per DNS process; the rest are counted and their number logged. */
    queryLogRate: { type: 'integer', default: 100, minimum: 1, maximum: 1000000 },
    /** Log lines for people (`pretty`: time, level, message, fields) or machines (`json`: one pino JSON object a line); `auto`: pretty when stdout is a terminal. */
    logFormat: { type: 'string', enum: ['auto', 'pretty', 'json'], default: 'auto' },
    /** Default answer TTL, seconds. */
    ttl: { type: 'integer', default: 30, minimum: 0, maximum: 2147483647 },
    /** Negative-answer TTL (SOA MINIMUM), seconds. */
    negativeTtl: { type: 'integer', default: 5, minimum: 0, maximum: 2147483647 },
    /** Largest UDP answer sent to an EDNS client, bytes. */
    udpPayloadMax: { type: 'integer', default: 1232, minimum: 512, maximum: 65535 },
    /** Seconds a TCP connection may stay idle. */
    tcpIdleTimeout: { type: 'number', default: 10, exclusiveMinimum: 0, maximum: 3600 },
    /** Seconds an HTTP client has to send a request's headers and whole body, and that an idle connection stays open. */
    httpTimeout: { type: 'number', default: 30, exclusiveMinimum: 0, maximum: 3600 },
    /** HTTP connections open at once; more are refused. Keep it well below the file-descriptor limit (ulimit -n). */
    httpMaxConnections: { type: 'integer', default: 512, minimum: 1, maximum: 1000000 },
    /** /v1/events streams open at once (never more than half of httpMaxConnections); more get 503. */
    eventsMaxStreams: { type: 'integer', default: 64, minimum: 0, maximum: 100000 },
    /** /v1/events streams open at once from one client address; more get 429. */
    eventsMaxStreamsPerClient: { type: 'integer', default: 16, minimum: 0, maximum: 100000 },
    /** Clients that may have names outside the zones forwarded (CIDRs). */
    forwardAllow: {
      type: 'array',
      items: { type: 'string' },
      default: ['127.0.0.0/8', '::1/128', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7', '169.254.0.0/16', 'fe80::/10'],
    },
    /** Seconds to wait for one upstream before trying the next. */
    forwardTimeout: { type: 'number', default: 2, exclusiveMinimum: 0, maximum: 60 },
    /** Seconds a lookup that every upstream failed is answered SERVFAIL without asking them again (RFC 9520: 1 s to 5 minutes). */
    forwardFailureTtl: { type: 'number', default: 5, minimum: 1, maximum: 300 },
    /** Forwarded answers kept in the cache, entries. */
    forwardCacheSize: { type: 'integer', default: 10000, minimum: 0, maximum: 10000000 },
    /** Heap the forwarder's cache may hold, MB. */
    forwardCacheMemory: { type: 'integer', default: 8, minimum: 1, maximum: 65536 },
    /** DNS worker processes sharing the sockets; `auto` = one per CPU. */
    workers: { anyOf: [{ type: 'integer', minimum: 1, maximum: 64 }, { type: 'string', const: 'auto' }], default: 1 },
    /** With one worker: answer DNS on a thread of its own, so HTTP API load never delays it; false answers on the API's thread. */
    dnsThread: { type: 'boolean', default: true },
    /** Encoded answers kept for the UDP fast path, entries; 0 turns it off. */
    answerCacheSize: { type: 'integer', default: 250000, minimum: 0, maximum: 10000000 },
    /** Heap the answer cache may hold, MB (per DNS process). */
    answerCacheMemory: { type: 'integer', default: 64, minimum: 1, maximum: 65536 },
    /** Response rate limiting: UDP answers per second to one client prefix for one answer; 0 turns it off. */
    rrlRate: { type: 'integer', default: 20, minimum: 0, maximum: 1000000 },
    /** Seconds a limited client's excess is remembered: it stays limited until quiet this long. */
    rrlWindow: { type: 'integer', default: 15, minimum: 1, maximum: 3600 },
    /** Every Nth limited answer is sent as an empty TC reply (the client retries over TCP); 0: drop them all. */
    rrlSlip: { type: 'integer', default: 2, minimum: 0, maximum: 10 },
    /** Prefix lengths that make one client for rate limiting. */
    rrlIpv4Prefix: { type: 'integer', default: 24, minimum: 0, maximum: 32 },
    rrlIpv6Prefix: { type: 'integer', default: 56, minimum: 0, maximum: 128 },
    /** Clients never rate-limited: CIDRs, and `forward-allow` for every client of the forwarding allow-list. */
    rrlExempt: { type: 'array', items: { type: 'string' }, default: ['127.0.0.0/8', '::1/128', 'forward-allow'] },
    /** (client prefix, answer) pairs tracked at once by the rate limiter. */
    rrlTableSize: { type: 'integer', default: 20000, minimum: 16, maximum: 10000000 },
    /** Clients that may transfer a zone with AXFR (CIDRs). */
    axfrAllow: { type: 'array', items: { type: 'string' }, default: ['127.0.0.0/8', '::1/128'] },
    /** When every instance of a name is unhealthy, answer them all rather than nothing. */
    failOpen: { type: 'boolean', default: true },
    /** Answer to CH TXT version.bind: `auto` (seamark and its version), `hide` (REFUSED), or this text. */
    serverVersion: { type: 'string', default: 'auto', maxLength: 255 },
    /** Answer to CH TXT id.server / hostname.bind: `auto` (the host name), `hide` (REFUSED), or this text. */
    serverIdentity: { type: 'string', default: 'auto', maxLength: 255 },
    /** Docker endpoint (`unix:///var/run/docker.sock`, a socket path, `tcp://host:2376`), `off`, or empty for DOCKER_HOST / the default socket. */
    docker: { type: 'string', default: '' },
    /** Publish every container; when false only those labelled `seamark.enable=true`. */
    publishAll: { type: 'boolean', default: true },
    /** DNSDock's default names for every container, labelled or not: `<container>.<image>.<zone>` and `<image>.<zone>`. */
    dnsdockNames: { type: 'boolean', default: false },
    /** Docker networks whose addresses are published; empty: every network. */
    dockerNetworks: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
    /** What a container asking for a container it shares no Docker network with gets: its other addresses, or none (NODATA). */
    unsharedNetworks: { anyOf: [{ type: 'string', const: 'addresses' }, { type: 'string', const: 'nodata' }], default: 'addresses' },
    /** For clients that are not containers seamark knows: a container's addresses on the first of these networks it is on; empty: all. */
    preferredNetworks: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
    /** Addresses published for host-network containers; empty: such containers are skipped. */
    dockerHostAddresses: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
    /** Seconds between full reconciles with the Docker daemon (0: never). */
    dockerReconcile: { type: 'number', default: 60, minimum: 0, maximum: 86400 },
    /** Seconds to wait for one answer from the Docker daemon before it counts as failed (and is retried). */
    dockerTimeout: { type: 'number', default: 10, exclusiveMinimum: 0, maximum: 3600 },
    /** Seconds of silence on the Docker event stream after which it is checked against the container list (0: never). */
    dockerEventsCheck: { type: 'number', default: 10, minimum: 0, maximum: 86400 },
    /** Most ports one container gets SRV records for. */
    dockerMaxPorts: { type: 'integer', default: 100, minimum: 0, maximum: 65535 },
    /** Most names one container is served under. */
    dockerMaxNames: { type: 'integer', default: 32, minimum: 1, maximum: 1000 },
    /** Whether a container whose HEALTHCHECK is still `starting` is served. */
    startingHealthy: { type: 'boolean', default: true },
    /** Hosts served from this file, owner `config:<first name>`. */
    hosts: { type: 'array', items: StaticHostSchema, default: [] },
    /** etcd endpoints (`http://host:2379`); any given turns cluster mode on. */
    etcd: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
    /** This node's name in the cluster; empty: the host name. */
    nodeName: { type: 'string', default: '', pattern: '^([A-Za-z0-9][A-Za-z0-9_.-]{0,62})?$' },
    /** Prefix of every key seamark writes in etcd. */
    etcdPrefix: { type: 'string', default: '/seamark/', minLength: 1 },
    /** Seconds the node's etcd lease lives without a keep-alive: how fast a dead node leaves every answer. */
    nodeTtl: { type: 'integer', default: 10, minimum: 2, maximum: 3600 },
    /** CA bundle (PEM file) that signs the etcd servers' certificates; turns TLS on. */
    etcdCa: { type: 'string', minLength: 1 },
    /** Client certificate and key (PEM files) for etcd's mutual TLS. */
    etcdCert: { type: 'string', minLength: 1 },
    etcdKey: { type: 'string', minLength: 1 },
    /** etcd user and password. The password is a secret: never logged, redacted in /v1/config. */
    etcdUsername: { type: 'string', minLength: 1 },
    etcdPassword: { type: 'string', minLength: 1 },
    /** The address other hosts reach this node at; empty: the address of the default route's interface. */
    advertiseAddress: { type: 'string', default: '' },
    /** What other nodes answer for this node's containers: the advertise address and published ports, or the container addresses. */
    clusterAddresses: { anyOf: [{ type: 'string', const: 'published' }, { type: 'string', const: 'container' }], default: 'published' },
    /** Also write every instance in the SkyDNS/CoreDNS etcd format under /skydns/. */
    etcdSkydns: { type: 'boolean', default: false },
  },
  ...Strict,
} as const;

/** The checked configuration; the loader always fills in dataDir (its default depends on where seamark runs). */
export type Config = Omit<SchemaType<typeof ConfigSchema>, 'dataDir'> & { dataDir: string };
export type StaticHost = SchemaType<typeof StaticHostSchema>;
