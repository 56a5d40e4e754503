// The configuration's shape: one TypeBox schema gives the TypeScript type,
// the defaults and the validation of the file, the environment and the flags.
import { Type, type Static } from 'typebox';

const Strict = { additionalProperties: false } as const;

export const SrvSchema = Type.Object(
  {
    service: Type.String({ minLength: 1, maxLength: 62, pattern: '^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$' }),
    protocol: Type.String({ default: 'tcp', minLength: 1, maxLength: 62, pattern: '^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$' }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    priority: Type.Integer({ default: 0, minimum: 0, maximum: 65535 }),
    weight: Type.Integer({ default: 0, minimum: 0, maximum: 65535 }),
  },
  Strict,
);

export const StaticHostSchema = Type.Object(
  {
    names: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    addresses: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    ttl: Type.Optional(Type.Integer({ minimum: 0, maximum: 2147483647 })),
    srv: Type.Array(SrvSchema, { default: [] }),
  },
  Strict,
);

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const LogLevel = Type.Unsafe<(typeof LOG_LEVELS)[number]>({ type: 'string', enum: [...LOG_LEVELS], default: 'info' });

export const ConfigSchema = Type.Object(
  {
    /** DNS listeners, `address:port` (IPv6 in brackets); UDP and TCP on each. */
    dns: Type.Array(Type.String(), { default: ['127.0.0.1:8053'], minItems: 1 }),
    /** HTTP API listener, `address:port`, or `off`. */
    http: Type.String({ default: '127.0.0.1:8080' }),
    /** Bearer token the HTTP API requires for writes (and reads from beyond loopback). A secret: never logged, redacted in /v1/config. */
    token: Type.Optional(Type.String({ minLength: 1 })),
    /** File holding the token (first line); used when `token` is not set. */
    tokenFile: Type.Optional(Type.String({ minLength: 1 })),
    /** Certificate chain and private key (PEM files) of the HTTP API; both given: it serves HTTPS only. */
    httpTlsCert: Type.Optional(Type.String({ minLength: 1 })),
    httpTlsKey: Type.Optional(Type.String({ minLength: 1 })),
    zones: Type.Array(Type.String({ minLength: 1 }), { default: ['docker'], minItems: 1 }),
    dataDir: Type.String({ default: './data', minLength: 1 }),
    upstreams: Type.Array(Type.String(), { default: [] }),
    logLevel: LogLevel,
    /** Default answer TTL, seconds. */
    ttl: Type.Integer({ default: 30, minimum: 0, maximum: 2147483647 }),
    /** Negative-answer TTL (SOA MINIMUM), seconds. */
    negativeTtl: Type.Integer({ default: 5, minimum: 0, maximum: 2147483647 }),
    /** Largest UDP answer sent to an EDNS client, bytes. */
    udpPayloadMax: Type.Integer({ default: 1232, minimum: 512, maximum: 65535 }),
    /** Seconds a TCP connection may stay idle. */
    tcpIdleTimeout: Type.Number({ default: 10, exclusiveMinimum: 0, maximum: 3600 }),
    /** Seconds an HTTP client has to send a request's headers and whole body, and that an idle connection stays open. */
    httpTimeout: Type.Number({ default: 30, exclusiveMinimum: 0, maximum: 3600 }),
    /** HTTP connections open at once; more are refused. Keep it well below the file-descriptor limit (ulimit -n). */
    httpMaxConnections: Type.Integer({ default: 512, minimum: 1, maximum: 1000000 }),
    /** Clients that may have names outside the zones forwarded (CIDRs). */
    forwardAllow: Type.Array(Type.String(), {
      default: ['127.0.0.0/8', '::1/128', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7', '169.254.0.0/16', 'fe80::/10'],
    }),
    /** Seconds to wait for one upstream before trying the next. */
    forwardTimeout: Type.Number({ default: 2, exclusiveMinimum: 0, maximum: 60 }),
    /** Forwarded answers kept in the cache, entries. */
    forwardCacheSize: Type.Integer({ default: 10000, minimum: 0, maximum: 10000000 }),
    /** Heap the forwarder's cache may hold, MB. */
    forwardCacheMemory: Type.Integer({ default: 8, minimum: 1, maximum: 65536 }),
    /** DNS worker processes sharing the sockets; `auto` = one per CPU. */
    workers: Type.Union([Type.Integer({ minimum: 1, maximum: 64 }), Type.Literal('auto')], { default: 1 }),
    /** Encoded answers kept for the UDP fast path, entries; 0 turns it off. */
    answerCacheSize: Type.Integer({ default: 250000, minimum: 0, maximum: 10000000 }),
    /** Heap the answer cache may hold, MB (per DNS process). */
    answerCacheMemory: Type.Integer({ default: 64, minimum: 1, maximum: 65536 }),
    /** Response rate limiting: UDP answers per second to one client prefix for one answer; 0 turns it off. */
    rrlRate: Type.Integer({ default: 20, minimum: 0, maximum: 1000000 }),
    /** Seconds a limited client's excess is remembered: it stays limited until quiet this long. */
    rrlWindow: Type.Integer({ default: 15, minimum: 1, maximum: 3600 }),
    /** Every Nth limited answer is sent as an empty TC reply (the client retries over TCP); 0: drop them all. */
    rrlSlip: Type.Integer({ default: 2, minimum: 0, maximum: 10 }),
    /** Prefix lengths that make one client for rate limiting. */
    rrlIpv4Prefix: Type.Integer({ default: 24, minimum: 0, maximum: 32 }),
    rrlIpv6Prefix: Type.Integer({ default: 56, minimum: 0, maximum: 128 }),
    /** Clients never rate-limited: CIDRs, and `forward-allow` for every client of the forwarding allow-list. */
    rrlExempt: Type.Array(Type.String(), { default: ['127.0.0.0/8', '::1/128', 'forward-allow'] }),
    /** (client prefix, answer) pairs tracked at once by the rate limiter. */
    rrlTableSize: Type.Integer({ default: 20000, minimum: 16, maximum: 10000000 }),
    /** Clients that may transfer a zone with AXFR (CIDRs). */
    axfrAllow: Type.Array(Type.String(), { default: ['127.0.0.0/8', '::1/128'] }),
    /** When every instance of a name is unhealthy, answer them all rather than nothing. */
    failOpen: Type.Boolean({ default: true }),
    /** Answer to CH TXT version.bind: `auto` (seamark and its version), `hide` (REFUSED), or this text. */
    serverVersion: Type.String({ default: 'auto', maxLength: 255 }),
    /** Answer to CH TXT id.server / hostname.bind: `auto` (the host name), `hide` (REFUSED), or this text. */
    serverIdentity: Type.String({ default: 'auto', maxLength: 255 }),
    /** Docker endpoint (`unix:///var/run/docker.sock`, a socket path, `tcp://host:2376`), `off`, or empty for DOCKER_HOST / the default socket. */
    docker: Type.String({ default: '' }),
    /** Publish every container; when false only those labelled `seamark.enable=true`. */
    publishAll: Type.Boolean({ default: true }),
    /** DNSDock's default names for every container, labelled or not: `<container>.<image>.<zone>` and `<image>.<zone>`. */
    dnsdockNames: Type.Boolean({ default: false }),
    /** Docker networks whose addresses are published; empty: every network. */
    dockerNetworks: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    /** Addresses published for host-network containers; empty: such containers are skipped. */
    dockerHostAddresses: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    /** Seconds between full reconciles with the Docker daemon (0: never). */
    dockerReconcile: Type.Number({ default: 60, minimum: 0, maximum: 86400 }),
    /** Seconds to wait for one answer from the Docker daemon before it counts as failed (and is retried). */
    dockerTimeout: Type.Number({ default: 10, exclusiveMinimum: 0, maximum: 3600 }),
    /** Seconds of silence on the Docker event stream after which it is checked against the container list (0: never). */
    dockerEventsCheck: Type.Number({ default: 10, minimum: 0, maximum: 86400 }),
    /** Most ports one container gets SRV records for. */
    dockerMaxPorts: Type.Integer({ default: 100, minimum: 0, maximum: 65535 }),
    /** Most names one container is served under. */
    dockerMaxNames: Type.Integer({ default: 32, minimum: 1, maximum: 1000 }),
    /** Whether a container whose HEALTHCHECK is still `starting` is served. */
    startingHealthy: Type.Boolean({ default: true }),
    /** Hosts served from this file, owner `config:<first name>`. */
    hosts: Type.Array(StaticHostSchema, { default: [] }),
    /** etcd endpoints (`http://host:2379`); any given turns cluster mode on. */
    etcd: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    /** This node's name in the cluster; empty: the host name. */
    nodeName: Type.String({ default: '', pattern: '^([A-Za-z0-9][A-Za-z0-9_.-]{0,62})?$' }),
    /** Prefix of every key seamark writes in etcd. */
    etcdPrefix: Type.String({ default: '/seamark/', minLength: 1 }),
    /** Seconds the node's etcd lease lives without a keep-alive: how fast a dead node leaves every answer. */
    nodeTtl: Type.Integer({ default: 10, minimum: 2, maximum: 3600 }),
    /** CA bundle (PEM file) that signs the etcd servers' certificates; turns TLS on. */
    etcdCa: Type.Optional(Type.String({ minLength: 1 })),
    /** Client certificate and key (PEM files) for etcd's mutual TLS. */
    etcdCert: Type.Optional(Type.String({ minLength: 1 })),
    etcdKey: Type.Optional(Type.String({ minLength: 1 })),
    /** etcd user and password. The password is a secret: never logged, redacted in /v1/config. */
    etcdUsername: Type.Optional(Type.String({ minLength: 1 })),
    etcdPassword: Type.Optional(Type.String({ minLength: 1 })),
    /** The address other hosts reach this node at; empty: the address of the default route's interface. */
    advertiseAddress: Type.String({ default: '' }),
    /** What other nodes answer for this node's containers: the advertise address and published ports, or the container addresses. */
    clusterAddresses: Type.Union([Type.Literal('published'), Type.Literal('container')], { default: 'published' }),
    /** Also write every instance in the SkyDNS/CoreDNS etcd format under /skydns/. */
    etcdSkydns: Type.Boolean({ default: false }),
  },
  Strict,
);

export type Config = Static<typeof ConfigSchema>;
export type StaticHost = Static<typeof StaticHostSchema>;
