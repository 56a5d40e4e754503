// The CHAOS class answers: the server's version and identity, as Knot DNS and BIND give them.
import { RRClass, RRType, Rcode } from '../zone/records.js';
import type { Query } from './wire/read.js';
import type { Respond } from './request.js';

/** CH TXT `version.bind`/`version.server` and `id.server`/`hostname.bind`, as Knot DNS and BIND answer them; REFUSED when hidden and for anything else in CH. */
export function answerChaos(query: Query, chaos: { version?: string; identity?: string }, respond: Respond): false {
  const { version, identity } = chaos;
  const text =
    query.name === 'version.bind' || query.name === 'version.server' ? version : query.name === 'id.server' || query.name === 'hostname.bind' ? identity : undefined;
  if (text === undefined || (query.type !== RRType.TXT && query.type !== RRType.ANY)) return respond(Rcode.REFUSED, false);
  return respond(Rcode.NOERROR, true, { answers: [{ name: query.name, ttl: 0, class: RRClass.CH, type: RRType.TXT, text }] });
}
