// What a container asks for through labels and environment: seamark's own
// `seamark.*` labels, DNSDock's labels/env and registrator's env, read into
// one shape so the naming rules need not know which tool a setting came from.
import { canonicalAddress } from '../../registry/names.js';
import type { ContainerFacts } from './facts.js';

export interface ContainerWishes {
  /** Why the container is not published at all, when it asked not to be. */
  ignoredBecause?: string;
  /** Whether `seamark.enable=true` is set (needed when publishAll is off). */
  enabled: boolean;
  /** Extra names (relative to the first zone unless they end in a served zone). */
  names: string[];
  /** Registrator's service names: always relative to the first zone (`SERVICE_NAME=docker` is `docker.docker`). */
  serviceNames: string[];
  /** DNSDock's `<name>.<image>[.<environment>]` name, when any DNSDock setting is present. */
  dnsdockName?: string;
  ttl?: number;
  /** Networks whose addresses are published (`seamark.network`); undefined: the global choice. */
  networks?: string[];
  /** Address forced by DNSDock's `com.dnsdock.ip_addr`. */
  addresses?: string[];
  /** Port names: `<port>/<proto>` → service label. */
  portNames: Map<string, string>;
  /** Ports left out of SRV (registrator `SERVICE_<port>_IGNORE`). */
  ignoredPorts: Set<string>;
  /** Problems worth a log line (bad TTL, bad port label); the container is still published. */
  problems: string[];
}

const TRUE = new Set(['true', '1', 'yes', 'on']);

/**
 * Reads every label and environment variable seamark honours. `dnsdockNames`:
 * every container gets DNSDock's names, as DNSDock gives them, with or without its settings.
 */
export function readWishes(facts: ContainerFacts, dnsdockNames = false): ContainerWishes {
  const { labels, env } = facts;
  const wishes: ContainerWishes = {
    enabled: isTrue(labels['seamark.enable']),
    names: [],
    serviceNames: [],
    portNames: new Map(),
    ignoredPorts: new Set(),
    problems: [],
  };

  if (isTrue(labels['seamark.ignore'])) wishes.ignoredBecause = 'label seamark.ignore';
  else if (labels['seamark.enable'] !== undefined && !wishes.enabled) wishes.ignoredBecause = 'label seamark.enable=false';
  // DNSDock and registrator ignore on any non-empty value.
  else if (nonEmpty(labels['com.dnsdock.ignore'])) wishes.ignoredBecause = 'label com.dnsdock.ignore';
  else if (nonEmpty(env.DNSDOCK_IGNORE)) wishes.ignoredBecause = 'env DNSDOCK_IGNORE';
  else if (nonEmpty(env.SERVICE_IGNORE) || nonEmpty(labels.SERVICE_IGNORE)) wishes.ignoredBecause = 'SERVICE_IGNORE';

  wishes.names.push(...list(labels['seamark.name']));

  // DNSDock: `<name>.<image>.<zone>` plus free aliases.
  const dnsdock = (key: string) => nonEmpty(labels[`com.dnsdock.${key}`]) ?? nonEmpty(env[`DNSDOCK_${key.toUpperCase()}`]);
  const usesDnsdock = Object.keys(labels).some((k) => k.startsWith('com.dnsdock.')) || Object.keys(env).some((k) => k.startsWith('DNSDOCK_'));
  if (usesDnsdock || dnsdockNames) {
    const name = dnsdock('name') ?? facts.name;
    const image = dnsdock('image') ?? imageBaseName(facts.image);
    const environment = dnsdock('environment');
    wishes.dnsdockName = [name, image, environment].filter((part) => part !== undefined && part !== '').join('.');
    // DNSDock also answers <image>[.<environment>] with every container of the image.
    if (dnsdockNames && image !== '') wishes.names.push([image, environment].filter((part) => part !== undefined && part !== '').join('.'));
    wishes.names.push(...list(dnsdock('alias')));
    const forced = list(dnsdock('ip_addr'));
    const junk = forced.filter((address) => canonicalAddress(address) === undefined);
    if (junk.length > 0) wishes.problems.push(`com.dnsdock.ip_addr: ${junk.map((a) => JSON.stringify(a)).join(', ')} is not an IP address; left out`);
    if (forced.length > 0) wishes.addresses = forced.filter((address) => !junk.includes(address));
  }

  // Registrator: SERVICE_NAME and SERVICE_<port>_NAME are Consul service names, tags prefix them.
  const service = nonEmpty(env.SERVICE_NAME) ?? nonEmpty(labels.SERVICE_NAME);
  const tags = list(env.SERVICE_TAGS ?? labels.SERVICE_TAGS);
  const serviceNames: string[] = [];
  if (service !== undefined) serviceNames.push(service);
  for (const [key, value] of [...Object.entries(labels), ...Object.entries(env)]) {
    const setting = /^SERVICE_(\d+)(?:_(TCP|UDP))?_(NAME|IGNORE)$/i.exec(key);
    if (!setting || !nonEmpty(value)) continue;
    const port = Number(setting[1]);
    if (port < 1 || port > 65535) {
      wishes.problems.push(`${key}: port ${setting[1]} is outside 1–65535; ignored`);
      continue;
    }
    const portKey = `${port}/${(setting[2] ?? 'tcp').toLowerCase()}`;
    if (setting[3]?.toUpperCase() === 'IGNORE') {
      wishes.ignoredPorts.add(portKey);
      continue;
    }
    serviceNames.push(value);
    wishes.portNames.set(portKey, value);
  }
  for (const name of serviceNames) {
    wishes.serviceNames.push(name, ...tags.map((tag) => `${tag}.${name}`));
  }

  // seamark.srv.<portname>=<port>/<proto>
  for (const [key, value] of Object.entries(labels)) {
    if (!key.startsWith('seamark.srv.')) continue;
    const name = key.slice('seamark.srv.'.length);
    const port = /^\s*(\d{1,5})(?:\/([a-z0-9]+))?\s*$/i.exec(value);
    if (name === '' || !port || Number(port[1]) < 1 || Number(port[1]) > 65535) {
      wishes.problems.push(`label ${key}=${JSON.stringify(value)} is not <port>/<proto> with a port name (e.g. seamark.srv.http=80/tcp)`);
      continue;
    }
    wishes.portNames.set(`${Number(port[1])}/${(port[2] ?? 'tcp').toLowerCase()}`, name);
  }

  const ttlText = nonEmpty(labels['seamark.ttl']) ?? dnsdock('ttl');
  if (ttlText !== undefined) {
    if (/^\d{1,10}$/.test(ttlText.trim()) && Number(ttlText) <= 2147483647) wishes.ttl = Number(ttlText);
    else wishes.problems.push(`TTL ${JSON.stringify(ttlText)} is not a whole number of seconds; the default TTL applies`);
  }

  const networks = list(labels['seamark.network']);
  if (networks.length > 0) wishes.networks = networks;
  return wishes;
}

/** `registry.example:5000/team/app:1.2@sha256:…` → `app`: DNSDock's image part of a name. */
export function imageBaseName(image: string): string {
  const withoutDigest = image.split('@')[0] ?? '';
  const lastPart = withoutDigest.split('/').pop() ?? '';
  return lastPart.split(':')[0] ?? '';
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && TRUE.has(value.trim().toLowerCase());
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}
