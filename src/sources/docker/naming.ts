// The names a container is served under (README "Docker" lists the rules with
// examples). Pure functions: facts and wishes in, names out.
import { isInZone, qualifyName, reservedNameProblem } from '../../registry/names.js';
import type { ContainerFacts, ContainerNetwork } from './facts.js';
import type { ContainerWishes } from './labels.js';

/**
 * One RFC 1123 label from free text: lower case, every run of characters
 * outside a-z, 0-9 and "-" becomes one "-", no "-" at either end, at most
 * `maxLength` (63) characters. Undefined when nothing is left.
 */
export function sanitizeLabel(text: string, maxLength = 63): string | undefined {
  const label = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .slice(0, maxLength)
    .replace(/^-+|-+$/g, '');
  return label === '' ? undefined : label;
}

/** A dotted name sanitised label by label (empty labels dropped); undefined when nothing is left. */
export function sanitizeName(text: string): string | undefined {
  const absolute = text.endsWith('.');
  const labels = text.split('.').map((part) => sanitizeLabel(part)).filter((label): label is string => label !== undefined);
  if (labels.length === 0) return undefined;
  return labels.join('.') + (absolute ? '.' : '');
}

/**
 * A name a container asked for, sanitised: a wildcard `*.<name>` keeps its `*` label; undefined when nothing is
 * left, '' when it has a `*` anywhere but as the whole leftmost label.
 */
function servedName(raw: string): string | undefined {
  const wildcard = raw === '*' || raw.startsWith('*.');
  const rest = wildcard ? raw.slice(2) : raw;
  if (rest.includes('*')) return '';
  if (!wildcard) return sanitizeName(rest);
  if (rest === '' || rest === '.') return `*${rest}`;
  const clean = sanitizeName(rest);
  return clean === undefined ? undefined : `*.${clean}`;
}

export interface NamingResult {
  /** Fully qualified, normalised, de-duplicated; the first is the container's host name. */
  names: string[];
  /** Names given that could not be served, with why. */
  problems: string[];
}

/**
 * Every name of a container, in this order: `<container-name>.<zone>`;
 * Compose `<service>.<project>.<zone>`; each network alias; `seamark.name`;
 * DNSDock `<name>.<image>.<zone>` and aliases; registrator service names
 * and `<tag>.<service>`. Relative names go under the first zone; a name
 * ending in a served zone stays there; a name outside every zone is dropped.
 * Compose, DNSDock and registrator parts are always relative (project
 * `docker` gives `web.docker.docker`). A name whose leftmost label is `*`
 * (`*.app`) is a wildcard (RFC 4592); a `*` anywhere else is refused, as are
 * the zone apex and its name server `ns.<zone>`.
 */
export function containerNames(
  facts: ContainerFacts,
  wishes: ContainerWishes,
  networks: readonly ContainerNetwork[],
  zones: readonly string[],
): NamingResult {
  const names: string[] = [];
  const problems: string[] = [];
  const add = (raw: string, origin: string, alwaysRelative = false) => {
    const clean = servedName(raw);
    if (clean === '') {
      problems.push(`${origin} ${JSON.stringify(raw)} has a "*" that is not the whole leftmost label (a wildcard is written "*.app")`);
      return;
    }
    if (clean === undefined) {
      problems.push(`${origin} ${JSON.stringify(raw)} has no usable characters`);
      return;
    }
    const qualified = alwaysRelative ? `${clean.replace(/\.$/, '')}.${zones[0] ?? ''}` : qualifyName(clean, zones);
    if (!zones.some((zone) => isInZone(qualified, zone))) {
      problems.push(`${origin} ${JSON.stringify(raw)} is outside the served zones (${zones.join(', ')})`);
      return;
    }
    if (zones.includes(qualified)) {
      problems.push(`${origin} ${JSON.stringify(raw)} is the zone itself; a container is never served at the zone apex`);
      return;
    }
    const reserved = reservedNameProblem(qualified, zones);
    if (reserved !== undefined) {
      problems.push(`${origin} ${JSON.stringify(raw)} is ${qualified}, ${reserved}`);
      return;
    }
    if (qualified.length > 253) {
      problems.push(`${origin} ${JSON.stringify(raw)} is longer than 253 characters once qualified`);
      return;
    }
    if (!names.includes(qualified)) names.push(qualified);
  };
  const relative = (raw: string) => (raw.endsWith('.') ? raw.slice(0, -1) : raw);

  if (facts.name !== '') add(relative(facts.name), 'container name');
  const service = facts.labels['com.docker.compose.service'];
  const project = facts.labels['com.docker.compose.project'];
  if (service && project) add(`${relative(service)}.${relative(project)}`, 'compose service', true);
  for (const network of networks) {
    for (const alias of network.aliases) add(relative(alias), `alias on network ${network.name}`);
  }
  for (const name of wishes.names) add(name, 'name');
  if (wishes.dnsdockName !== undefined) add(relative(wishes.dnsdockName), 'DNSDock name', true);
  for (const name of wishes.serviceNames) add(name, 'registrator service name', true);
  return { names, problems };
}
