// The zone view: pure functions from (registry, name, type) to an
// authoritative answer, per the contract in DESIGN.md.
import { isIPv4 } from 'node:net';
import type { Instance } from '../registry/instance.js';
import { srvName, srvNames, type Registry } from '../registry/registry.js';
import { addressFromReverseName, isInZone, nsName } from '../registry/names.js';
import { RRType, Rcode, a, aaaa, ns, ptr, type ResourceRecord, type ZoneResponse } from './records.js';
import { visibleAddresses, type ClientView, type NetworkSettings } from './client-view.js';

const DEFAULT_NETWORKS: NetworkSettings = { unshared: 'addresses', preferred: [] };

export interface ZoneSettings {
  /** Served zones, normalised. */
  zones: readonly string[];
  /** Default TTL of answers, seconds. */
  ttl: number;
  /** TTL of negative answers and the SOA MINIMUM, seconds. */
  negativeTtl: number;
  /** When every instance of a name is unhealthy, answer them all. */
  failOpen: boolean;
  /** Which of a container's addresses each client is given (zone/client-view.ts); absent: the defaults. */
  networks?: NetworkSettings;
  /** Added to the registry generation to form the SOA serial; above every serial served before (zone/serial.ts). */
  serialBase: number;
  /** The highest SOA serial that may be served (what is reserved on disk, zone/serial.ts); none when absent. */
  readonly serialCeiling?: number;
}

/** The served zone a name lies in (longest match), or undefined. */
export function zoneOf(settings: ZoneSettings, name: string): string | undefined {
  let best: string | undefined;
  for (const zone of settings.zones) {
    if (isInZone(name, zone) && (best === undefined || zone.length > best.length)) best = zone;
  }
  return best;
}

/** The SOA serial of every zone now: it moves with each registry change (zone/serial.ts). */
export function zoneSerial(settings: ZoneSettings, registry: Registry): number {
  return Math.min(settings.serialBase + registry.generation, settings.serialCeiling ?? Infinity) >>> 0;
}

export function soaRecord(settings: ZoneSettings, registry: Registry, zone: string, ttl: number): ResourceRecord {
  return {
    name: zone,
    ttl,
    type: RRType.SOA,
    mname: nsName(zone),
    rname: `hostmaster.${zone}`,
    serial: zoneSerial(settings, registry),
    refresh: 60,
    retry: 30,
    expire: 86400,
    minimum: settings.negativeTtl,
  };
}

/**
 * Answers `name`/`type` (name normalised) with authority, or returns
 * undefined when the name is not seamark's to answer (outside every zone, or
 * a reverse name of an address seamark does not serve): the caller forwards it.
 * `rotation` picks which address comes first when a name has several; `view` is the asking client's (undefined:
 * a client that is not a container seamark knows).
 */
export function lookup(registry: Registry, settings: ZoneSettings, name: string, type: number, rotation = 0, view?: ClientView): ZoneResponse | undefined {
  const zone = zoneOf(settings, name);
  if (zone === undefined) return type === RRType.PTR || type === RRType.ANY ? reverseLookup(registry, settings, name, view) : undefined;

  const response: ZoneResponse = { rcode: Rcode.NOERROR, answers: [], authority: [], additional: [] };
  const hosts = answering(registry.byName(name), settings);
  const services = answering(registry.bySrvName(name), settings);
  const exists =
    name === zone || hosts.length > 0 || services.length > 0 || registry.byName(name).length > 0 || registry.bySrvName(name).length > 0 || registry.hasDescendants(name);
  if (!exists) return negative(registry, settings, zone, Rcode.NXDOMAIN);

  const wants = (t: number) => type === t || type === RRType.ANY;
  if (name === zone && wants(RRType.SOA)) response.answers.push(soaRecord(settings, registry, zone, settings.ttl));
  if (name === zone && wants(RRType.NS)) {
    response.answers.push(ns(zone, settings.ttl, nsName(zone)));
    response.additional.push(...addressRecords(answering(registry.byName(nsName(zone)), settings), nsName(zone), settings, RRType.ANY, 0, view));
  }
  if (wants(RRType.A) || wants(RRType.AAAA)) response.answers.push(...addressRecords(hosts, name, settings, type, rotation, view));
  if (wants(RRType.SRV)) {
    const [answers, additional] = srvRecords(registry, services, name, settings, rotation, view);
    response.answers.push(...answers);
    response.additional.push(...additional);
  }
  if (response.answers.length === 0) return negative(registry, settings, zone, Rcode.NOERROR);
  return response;
}

/**
 * Every record of a zone, SOA first and last, for AXFR. A served zone below
 * it is a zone cut: the parent holds its NS record (and the name server's
 * addresses as glue), never its data.
 */
export function zoneTransfer(registry: Registry, settings: ZoneSettings, zone: string): ResourceRecord[] {
  const soa = soaRecord(settings, registry, zone, settings.ttl);
  const records: ResourceRecord[] = [soa, ns(zone, settings.ttl, nsName(zone))];
  const names = new Set<string>();
  const srvOwners = new Set<string>();
  const inThisZone = (name: string) => isInZone(name, zone) && zoneOf(settings, name) === zone;
  for (const instance of registry.all()) {
    for (const name of instance.names) if (inThisZone(name)) names.add(name);
    for (const name of srvNames(instance)) if (inThisZone(name)) srvOwners.add(name);
  }
  for (const name of [...names].sort()) {
    records.push(...addressRecords(answering(registry.byName(name), settings), name, settings, RRType.ANY, 0));
  }
  for (const name of [...srvOwners].sort()) records.push(...srvRecords(registry, answering(registry.bySrvName(name), settings), name, settings, 0)[0]);
  for (const child of childZones(settings, zone)) {
    records.push(ns(child, settings.ttl, nsName(child)));
    records.push(...addressRecords(answering(registry.byName(nsName(child)), settings), nsName(child), settings, RRType.ANY, 0));
  }
  records.push(soa);
  return records;
}

/** The served zones directly below `zone` (not below another served zone in between), sorted. */
function childZones(settings: ZoneSettings, zone: string): string[] {
  return settings.zones
    .filter((child) => child !== zone && isInZone(child, zone) && zoneOf({ ...settings, zones: settings.zones.filter((z) => z !== child) }, child) === zone)
    .sort();
}

/** PTR of an address seamark serves, when the client is given that address (else not seamark's to answer). */
function reverseLookup(registry: Registry, settings: ZoneSettings, name: string, view: ClientView): ZoneResponse | undefined {
  const address = addressFromReverseName(name);
  if (address === undefined) return undefined;
  const instances = answering(registry.byAddress(address), settings).filter((instance) => visibleAddresses(instance, view, settings.networks ?? DEFAULT_NETWORKS).includes(address));
  if (instances.length === 0) return undefined;
  const targets = new Set(instances.map((instance) => instance.names[0]).filter((n): n is string => n !== undefined));
  return {
    rcode: Rcode.NOERROR,
    answers: [...targets].map((target) => ptr(name, rrsetTtl(instances, settings), target)),
    authority: [],
    additional: [],
  };
}

function negative(registry: Registry, settings: ZoneSettings, zone: string, rcode: number): ZoneResponse {
  return { rcode, answers: [], authority: [soaRecord(settings, registry, zone, settings.negativeTtl)], additional: [] };
}

/** The instances that answer: the healthy ones, or all of them when none is healthy and failing open. */
function answering(instances: Instance[], settings: ZoneSettings): Instance[] {
  if (instances.length === 0) return instances;
  const healthy = instances.filter((instance) => instance.healthy);
  if (healthy.length > 0) return healthy;
  return settings.failOpen ? instances : [];
}

/** One RRset has one TTL (RFC 2181 §5.2): the smallest of the instances that give it a record. */
function rrsetTtl(instances: Instance[], settings: ZoneSettings): number {
  let ttl = Infinity;
  for (const instance of instances) ttl = Math.min(ttl, instance.ttl ?? settings.ttl);
  return ttl === Infinity ? settings.ttl : ttl;
}

/** The A and AAAA RRsets of `name` from `instances`: the addresses each gives a client with `view`. */
function addressRecords(instances: Instance[], name: string, settings: ZoneSettings, type: number, rotation: number, view: ClientView = undefined): ResourceRecord[] {
  const v4 = new Set<string>();
  const v6 = new Set<string>();
  // The A and AAAA RRsets each take the TTLs of the instances with an address of their family only.
  let ttl4 = Infinity;
  let ttl6 = Infinity;
  for (const instance of instances) {
    const ttl = instance.ttl ?? settings.ttl;
    for (const address of visibleAddresses(instance, view, settings.networks ?? DEFAULT_NETWORKS)) {
      if (isIPv4(address)) {
        v4.add(address);
        ttl4 = Math.min(ttl4, ttl);
      } else {
        v6.add(address);
        ttl6 = Math.min(ttl6, ttl);
      }
    }
  }
  const records: ResourceRecord[] = [];
  if (type === RRType.A || type === RRType.ANY) records.push(...rotate([...v4], rotation).map((address) => a(name, ttl4, address)));
  if (type === RRType.AAAA || type === RRType.ANY) records.push(...rotate([...v6], rotation).map((address) => aaaa(name, ttl6, address)));
  return records;
}

/** The SRV RRset of `name` (each distinct record once, RFC 2181 §5) and the whole address RRsets of its targets for the additional section. */
function srvRecords(
  registry: Registry,
  instances: Instance[],
  name: string,
  settings: ZoneSettings,
  rotation: number,
  view: ClientView = undefined,
): [ResourceRecord[], ResourceRecord[]] {
  const answers: ResourceRecord[] = [];
  const additional: ResourceRecord[] = [];
  const ttl = rrsetTtl(
    instances.filter((instance) => instance.names[0] !== undefined && instance.srv.some((srv) => instance.names.some((host) => srvName(srv, host) === name))),
    settings,
  );
  const seenRecords = new Set<string>();
  const seenTargets = new Set<string>();
  for (const instance of rotate(instances, rotation)) {
    const target = instance.names[0];
    if (target === undefined) continue;
    for (const srv of instance.srv) {
      if (!instance.names.some((host) => srvName(srv, host) === name)) continue;
      const key = `${srv.priority} ${srv.weight} ${srv.port} ${target}`;
      if (seenRecords.has(key)) continue;
      seenRecords.add(key);
      answers.push({ name, ttl, type: RRType.SRV, priority: srv.priority, weight: srv.weight, port: srv.port, target });
    }
    if (!seenTargets.has(target)) {
      seenTargets.add(target);
      additional.push(...addressRecords(answering(registry.byName(target), settings), target, settings, RRType.ANY, 0, view));
    }
  }
  return [answers, additional];
}

function rotate<T>(items: T[], rotation: number): T[] {
  if (items.length < 2) return items;
  const shift = rotation % items.length;
  return shift === 0 ? items : [...items.slice(shift), ...items.slice(0, shift)];
}
