// Whether what seamark lists in /v1/names is what it answers over DNS: every
// (name, type) asked with Node's resolver on seamark's own port, and compared
// with the records the README says a name answers with.
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';

export interface NameEntry {
  name: string;
  type: 'A' | 'AAAA' | 'SRV';
  addresses: string[];
  srv?: { target: string; port: number };
  owner: string;
  healthy: boolean;
}

/** A resolver that asks only seamark (generous: the machine may be loaded). */
export function seamarkResolver(dnsPort: number): Resolver {
  const resolver = new Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([`127.0.0.1:${dnsPort}`]);
  return resolver;
}

/** `/v1/names` of one source; a status other than 200 fails the test. */
export async function servedNames(httpPort: number, source: string): Promise<NameEntry[]> {
  const response = await fetch(`http://127.0.0.1:${httpPort}/v1/names?source=${source}`);
  assert.equal(response.status, 200, `/v1/names answered ${response.status}`);
  return (await response.json()) as NameEntry[];
}

/** An address in one text form for both sides (the WHATWG URL serialiser, not seamark's own). */
function sameForm(address: string): string {
  return address.includes(':') ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address;
}

/**
 * What DNS must answer for `type` at a name, by the README: the records of the
 * name's healthy instances, or of all of them when none is healthy (fail
 * open). Health is decided per name over all its instances (A and AAAA alike),
 * per SRV name for SRV.
 */
function expectedAnswer(type: NameEntry['type'], ofName: NameEntry[]): string[] {
  const healthy = ofName.filter((entry) => entry.healthy);
  const answering = new Set((healthy.length > 0 ? healthy : ofName).map((entry) => entry.owner));
  const answers = ofName
    .filter((entry) => entry.type === type && answering.has(entry.owner))
    .flatMap((entry) => (entry.type === 'SRV' ? [`${entry.srv?.port} ${entry.srv?.target}`] : entry.addresses.map(sameForm)));
  return [...new Set(answers)].sort();
}

/** DNS's answer as comparable text, sorted; [] for NXDOMAIN and NODATA. */
export async function dnsAnswer(resolver: Resolver, name: string, type: NameEntry['type']): Promise<string[]> {
  try {
    if (type === 'A') return (await resolver.resolve4(name)).sort();
    if (type === 'AAAA') return (await resolver.resolve6(name)).map(sameForm).sort();
    return [...new Set((await resolver.resolveSrv(name)).map((srv) => `${srv.port} ${srv.name}`))].sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') return [];
    throw new Error(`${type} ${name}: ${code ?? (error as Error).message}`);
  }
}

/** Asks DNS for every (name, type) in `served` and fails on the first that differs; returns how many were asked. */
export async function assertDnsAgrees(resolver: Resolver, served: NameEntry[]): Promise<number> {
  const byName = new Map<string, NameEntry[]>();
  for (const entry of served) byName.set(entry.name, [...(byName.get(entry.name) ?? []), entry]);
  let asked = 0;
  for (const [name, entries] of byName) {
    for (const type of new Set(entries.map((entry) => entry.type))) {
      asked++;
      assert.deepEqual(await dnsAnswer(resolver, name, type), expectedAnswer(type, entries), `${type} ${name}: DNS and /v1/names disagree`);
    }
  }
  return asked;
}
