// Mesos-DNS's read API with its JSON shapes, so scripts written against
// Mesos-DNS keep working with only the host name changed.
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { Config, StaticHost } from '../config/schema.js';
import { nsName, qualifyName } from '../registry/names.js';
import type { Registry } from '../registry/registry.js';
import { RRType, type ResourceRecord } from '../zone/records.js';
import { lookup, zoneTransfer, type ZoneSettings } from '../zone/view.js';
import { requireToken, type ApiToken } from './auth.js';
import { jsonBytes, perGeneration, sendJsonBytes } from './per-generation.js';

export interface MesosRoutesOptions {
  registry: Registry;
  zone: ZoneSettings;
  config: Config;
  /** The hosts of the configuration file (`config.hosts` is empty once they are in the registry). */
  configuredHosts: () => StaticHost[];
  version: string;
  token: ApiToken;
}

const HostEntry = { type: 'object', required: ['host', 'ip'], properties: { host: { type: 'string' }, ip: { type: 'string' } } } as const;
const ServiceEntry = {
  type: 'object',
  required: ['service', 'host', 'ip', 'port'],
  properties: { service: { type: 'string' }, host: { type: 'string' }, ip: { type: 'string' }, port: { type: 'string' } },
} as const;
// Mesos-DNS answers a miss with one entry of empty strings (Go's zero value), not an empty list.
const HOSTS_MISS = [{ host: '', ip: '' }];
const SERVICES_MISS = [{ service: '', host: '', ip: '', port: '' }];
const NameMap = { type: 'object', patternProperties: { '^.*$': { type: 'array', items: { type: 'string' } } } } as const;

/** Settings that are secrets: shown as "<redacted>" in /v1/config. */
const SECRET_KEYS = new Set(['token', 'etcdPassword']);

export const mesosRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: MesosRoutesOptions }> = async (app, { registry, zone, config, configuredHosts, version, token }) => {
  app.addHook('onRequest', requireToken(token));
  const tags = ['mesos-dns'];
  const fqdn = (name: string) => `${name}.`;
  // Serialised once per registry generation: readers of an unchanged zone cost nothing more.
  const axfrJson = perGeneration(registry, () => {
    const records = { As: {} as Record<string, string[]>, AAAAs: {} as Record<string, string[]>, SRVs: {} as Record<string, string[]> };
    let serial = 0;
    for (const served of zone.zones) {
      for (const record of zoneTransfer(registry, zone, served)) {
        if (record.type === RRType.SOA) serial = record.serial;
        else if (record.type === RRType.A) (records.As[fqdn(record.name)] ??= []).push(record.address);
        else if (record.type === RRType.AAAA) (records.AAAAs[fqdn(record.name)] ??= []).push(record.address);
        else if (record.type === RRType.SRV) (records.SRVs[fqdn(record.name)] ??= []).push(`${fqdn(record.target)}:${record.port}`);
      }
    }
    const domain = zone.zones[0] ?? '';
    // Mesos-DNS's AXFR struct, in its field order; seamark follows changes as they happen, so
    // RefreshSeconds (how often a copy should poll) is the Docker reconcile interval.
    return jsonBytes({
      TTL: config.ttl,
      Serial: serial,
      RefreshSeconds: config.dockerReconcile,
      Mname: fqdn(nsName(domain)),
      Rname: fqdn(`hostmaster.${domain}`),
      Domain: domain,
      Records: records,
    });
  });

  app.get(
    '/version',
    {
      schema: {
        tags,
        summary: 'Mesos-DNS: the version',
        response: {
          200: { type: 'object', required: ['Service', 'URL', 'Version'], properties: { Service: { type: 'string' }, URL: { type: 'string' }, Version: { type: 'string' } } },
        },
      },
    },
    async () => ({ Service: 'seamark', URL: 'https://github.com/seamark/seamark', Version: version }),
  );

  app.get(
    '/config',
    {
      schema: {
        tags,
        summary: 'Mesos-DNS: the effective configuration (secrets redacted); seamark\'s own settings under "Seamark"',
        response: { 200: { type: 'object', properties: {}, additionalProperties: true } },
      },
    },
    async () => ({
      Domain: config.zones[0],
      TTL: config.ttl,
      Port: Number(config.dns[0]?.split(':').pop()),
      Resolvers: config.upstreams,
      Timeout: config.forwardTimeout,
      Listener: config.dns[0]?.replace(/:\d+$/, ''),
      HttpPort: config.http === 'off' ? 0 : Number(config.http.split(':').pop()),
      DnsOn: true,
      HttpOn: config.http !== 'off',
      SOAMname: fqdn(nsName(config.zones[0] ?? '')),
      SOARname: fqdn(`hostmaster.${config.zones[0] ?? ''}`),
      SOAMinttl: config.negativeTtl,
      Seamark: redact({ ...config, hosts: configuredHosts() }),
    }),
  );

  app.get(
    '/hosts/:host',
    {
      schema: {
        tags,
        summary: 'Mesos-DNS: the addresses of a host name (A and AAAA); [{"host": "", "ip": ""}] when there are none, as Mesos-DNS',
        params: { type: 'object', required: ['host'], properties: { host: { type: 'string', minLength: 1, maxLength: 254 } } },
        response: { 200: { type: 'array', items: HostEntry } },
      },
    },
    async (request) => {
      const name = qualifyName(request.params.host, zone.zones);
      const entries = [...answers(registry, zone, name, RRType.A), ...answers(registry, zone, name, RRType.AAAA)].flatMap((record) =>
        'address' in record ? [{ host: fqdn(name), ip: record.address }] : [],
      );
      return entries.length === 0 ? HOSTS_MISS : entries;
    },
  );

  app.get(
    '/services/:service',
    {
      schema: {
        tags,
        summary: 'Mesos-DNS: the SRV view of _service._proto.name (service, host, ip, port); one entry of empty strings when there is none, as Mesos-DNS',
        params: { type: 'object', required: ['service'], properties: { service: { type: 'string', minLength: 1, maxLength: 254 } } },
        response: { 200: { type: 'array', items: ServiceEntry } },
      },
    },
    async (request) => {
      const name = qualifyName(request.params.service, zone.zones);
      const response = lookup(registry, zone, name, RRType.SRV);
      const entries = [];
      for (const record of response?.answers ?? []) {
        if (record.type !== RRType.SRV) continue;
        const addresses = (response?.additional ?? []).filter((extra) => extra.name === record.target && 'address' in extra);
        for (const address of addresses) {
          // As Mesos-DNS, `service` is the name as asked.
          if ('address' in address) entries.push({ service: request.params.service, host: fqdn(record.target), ip: address.address, port: String(record.port) });
        }
      }
      return entries.length === 0 ? SERVICES_MISS : entries;
    },
  );

  app.get(
    '/axfr',
    {
      schema: {
        tags,
        summary: 'Mesos-DNS: every A, AAAA and SRV record served, by name',
        response: {
          200: {
            type: 'object',
            required: ['TTL', 'Serial', 'RefreshSeconds', 'Mname', 'Rname', 'Domain', 'Records'],
            properties: {
              TTL: { type: 'integer' },
              Serial: { type: 'integer' },
              RefreshSeconds: { type: 'number' },
              Mname: { type: 'string' },
              Rname: { type: 'string' },
              Domain: { type: 'string' },
              Records: { type: 'object', required: ['As', 'AAAAs', 'SRVs'], properties: { As: NameMap, AAAAs: NameMap, SRVs: NameMap } },
            },
          },
        },
      },
    },
    async (_request, reply) => sendJsonBytes(reply, axfrJson()),
  );
};

function answers(registry: Registry, zone: ZoneSettings, name: string, type: number): ResourceRecord[] {
  return lookup(registry, zone, name, type)?.answers ?? [];
}

function redact(config: Config): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [key, SECRET_KEYS.has(key) && value !== undefined ? '<redacted>' : value]));
}
