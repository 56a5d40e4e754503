// Owner keys: which source an instance comes from. The one place that knows
// their prefixes; every source, the cluster and the API build and read owners
// through these.

/** Hosts from the config file and the zones' own name servers: `config:<name>`. */
export const STATIC_OWNER_PREFIX = 'config:';
/** Containers of this host: `docker:<container id>`. */
export const DOCKER_OWNER_PREFIX = 'docker:';
/** Hand-made records: `manual:<record id>`. */
export const MANUAL_OWNER_PREFIX = 'manual:';
/** Instances of another node in a cluster: `node:<node name>/<owner there>`. */
export const NODE_OWNER_PREFIX = 'node:';

/** The forms of an owner, for the API's documentation. */
export const OWNER_FORMS = `${STATIC_OWNER_PREFIX}<name>, ${MANUAL_OWNER_PREFIX}<record id>, ${DOCKER_OWNER_PREFIX}<container id>, ${NODE_OWNER_PREFIX}<node>/<owner there>`;

/** How many characters of a container id Docker shows (`docker ps`). */
const SHORT_CONTAINER_ID = 12;

/**
 * An owner key as one flat string. V8 keeps a string built by concatenation
 * as its pieces and, once it is a map key, a flat copy as well: about 40
 * bytes more per instance. (Owners are ASCII, which normalisation leaves as
 * it is.)
 */
function ownerKey(prefix: string, id: string): string {
  return `${prefix}${id}`.normalize();
}

export function staticOwner(name: string): string {
  return ownerKey(STATIC_OWNER_PREFIX, name);
}

export function dockerOwner(containerId: string): string {
  return ownerKey(DOCKER_OWNER_PREFIX, containerId);
}

export function manualOwner(recordId: string): string {
  return ownerKey(MANUAL_OWNER_PREFIX, recordId);
}

export function remoteOwner(node: string, owner: string): string {
  return ownerKey(NODE_OWNER_PREFIX, `${node}/${owner}`);
}

/** The container id of a `docker:<id>` owner. */
export function containerOfOwner(owner: string): string | undefined {
  return owner.startsWith(DOCKER_OWNER_PREFIX) ? owner.slice(DOCKER_OWNER_PREFIX.length) : undefined;
}

/** The record id of a `manual:<id>` owner. */
export function recordOfOwner(owner: string): string | undefined {
  return owner.startsWith(MANUAL_OWNER_PREFIX) ? owner.slice(MANUAL_OWNER_PREFIX.length) : undefined;
}

/** A `docker:<id>` owner with the id cut to Docker's short form; any other owner as it is. */
export function shortOwner(owner: string): string {
  return owner.startsWith(DOCKER_OWNER_PREFIX) ? owner.slice(0, DOCKER_OWNER_PREFIX.length + SHORT_CONTAINER_ID) : owner;
}

/** The node an owner comes from, for `node:<name>/...` owners. */
export function nodeOfOwner(owner: string): string | undefined {
  if (!owner.startsWith(NODE_OWNER_PREFIX)) return undefined;
  const slash = owner.indexOf('/', NODE_OWNER_PREFIX.length);
  return slash < 0 ? undefined : owner.slice(NODE_OWNER_PREFIX.length, slash);
}
