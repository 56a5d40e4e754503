// The few facts about a container that decide how it is published, read from
// `docker inspect` once so the naming rules work on plain data (and unit tests
// need no daemon).
import type { ContainerInspectInfo } from 'dockerode';
import { describeIssue, pickIssue, validatorOf } from '../../lib/json-schema.js';

export interface ContainerNetwork {
  name: string;
  ipv4?: string;
  ipv6?: string;
  aliases: string[];
}

export interface ContainerPort {
  port: number;
  protocol: string;
  /** The host port it is published on, when it is (`-p 8080:80`). */
  hostPort?: number;
}

export interface ContainerFacts {
  id: string;
  /** Without Docker's leading slash. */
  name: string;
  /** The image as the container was created from it (`nginx:1.27`, `registry/x/app`). */
  image: string;
  labels: Record<string, string>;
  /** `KEY=value` environment, as a map (the last one of a key wins, as in the process). */
  env: Record<string, string>;
  networkMode: string;
  networks: ContainerNetwork[];
  /** Exposed and published container ports. */
  ports: ContainerPort[];
  running: boolean;
  paused: boolean;
  /** HEALTHCHECK state: `starting`, `healthy`, `unhealthy`; absent without a HEALTHCHECK. */
  health?: string;
}

/** Where seamark reads a value, what kind it must be: null or missing is fine, another kind is an error naming the field. */
const orNull = (type: string) => ({ type: [type, 'null'] });
const strings = { type: ['array', 'null'], items: { type: 'string' } };
const INSPECT_SCHEMA = {
  type: 'object',
  properties: {
    Name: orNull('string'),
    Config: {
      ...orNull('object'),
      properties: { Image: orNull('string'), Labels: { ...orNull('object'), additionalProperties: { type: 'string' } }, Env: strings, ExposedPorts: orNull('object') },
    },
    HostConfig: { ...orNull('object'), properties: { NetworkMode: orNull('string') } },
    NetworkSettings: {
      ...orNull('object'),
      properties: {
        Networks: {
          ...orNull('object'),
          additionalProperties: { ...orNull('object'), properties: { IPAddress: orNull('string'), GlobalIPv6Address: orNull('string'), Aliases: strings } },
        },
        Ports: { ...orNull('object'), additionalProperties: { type: ['array', 'null'], items: { type: 'object', properties: { HostPort: orNull('string') } } } },
      },
    },
    State: { ...orNull('object'), properties: { Running: orNull('boolean'), Paused: orNull('boolean'), Health: { ...orNull('object'), properties: { Status: orNull('string') } } } },
  },
};
// Other fields of the document are Docker's business; null-or-kind needs union types.
const inspectCheck = validatorOf<ContainerInspectInfo>(INSPECT_SCHEMA, { strict: false });

/**
 * Reads the facts from the inspect answer for container `id`; tolerant of
 * missing and null parts, since daemons and odd containers differ, and
 * throws an error naming the field when a part it reads is of another kind
 * (the watcher logs it with the container and skips it). The container is the
 * one asked for, whatever Id the answer carries: an answer without one, or
 * with another container's, must neither lose this container nor replace another.
 */
export function factsFromInspect(id: string, info: ContainerInspectInfo): ContainerFacts {
  const validate = inspectCheck();
  if (!validate(info)) {
    const { field, reason } = describeIssue(pickIssue(validate.errors));
    throw new Error(field === '' ? `the inspect document ${reason}` : `inspect field ${field} ${reason}`);
  }
  const config = info.Config ?? ({} as Partial<ContainerInspectInfo['Config']>);
  const settings = info.NetworkSettings ?? ({} as Partial<ContainerInspectInfo['NetworkSettings']>);
  const networks: ContainerNetwork[] = [];
  for (const [name, network] of Object.entries(settings.Networks ?? {})) {
    if (network === null || network === undefined) continue;
    networks.push({
      name,
      ipv4: network.IPAddress || undefined,
      ipv6: network.GlobalIPv6Address || undefined,
      aliases: network.Aliases ?? [],
    });
  }
  const portKeys = new Set([...Object.keys(config.ExposedPorts ?? {}), ...Object.keys(settings.Ports ?? {})]);
  const ports: ContainerPort[] = [];
  for (const key of portKeys) {
    const port = parsePortKey(key);
    const hostPort = Number(settings.Ports?.[key]?.find((binding) => Number(binding.HostPort) > 0)?.HostPort);
    if (port !== undefined) ports.push(hostPort > 0 ? { ...port, hostPort } : port);
  }
  ports.sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
  return {
    id,
    name: (info.Name ?? '').replace(/^\//, ''),
    image: config.Image ?? '',
    labels: config.Labels ?? {},
    env: envMap(config.Env ?? []),
    networkMode: info.HostConfig?.NetworkMode ?? '',
    networks,
    ports,
    running: info.State?.Running === true,
    paused: info.State?.Paused === true,
    health: info.State?.Health?.Status || undefined,
  };
}

/** `80/tcp` → { port: 80, protocol: 'tcp' }; a port without a protocol is TCP, as in Docker. */
export function parsePortKey(key: string): ContainerPort | undefined {
  const match = /^(\d{1,5})(?:\/([a-z0-9]+))?$/i.exec(key.trim());
  if (!match) return undefined;
  const port = Number(match[1]);
  if (port < 1 || port > 65535) return undefined;
  return { port, protocol: (match[2] ?? 'tcp').toLowerCase() };
}

export function envMap(env: readonly string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const entry of env) {
    const equals = entry.indexOf('=');
    if (equals > 0) map[entry.slice(0, equals)] = entry.slice(equals + 1);
  }
  return map;
}
