// Resource records as the zone view produces them and the wire encoder writes them.

export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  DNAME: 39,
  OPT: 41,
  DS: 43,
  RRSIG: 46,
  NSEC: 47,
  NSEC3: 50,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;

/**
 * The `type` of a record relayed from a forwarded answer as it came (`wireType`, `rdata` with every name in it
 * written whole): what a CNAME chain leaving the zones ends with. Never a wire type itself.
 */
export const RELAYED = -1;

export const RRClass = { IN: 1, CH: 3, ANY: 255 } as const;

export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  NOTAUTH: 9,
  BADVERS: 16,
} as const;

/** Type and rcode mnemonics by number, for what people read (metrics labels, the query log). */
export const TYPE_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(RRType).map(([name, code]) => [code, name]));
export const RCODE_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(Rcode).map(([name, code]) => [code, name]));

interface Base {
  /** Owner name, normalised (lower case, no trailing dot). */
  name: string;
  ttl: number;
  /** IN unless given: CH for the server's own version and identity. */
  class?: number;
}

export type ResourceRecord =
  | (Base & { type: typeof RRType.A; address: string })
  | (Base & { type: typeof RRType.AAAA; address: string })
  | (Base & { type: typeof RRType.PTR; target: string })
  | (Base & { type: typeof RRType.NS; target: string })
  /** A hand-made alias, or a link of a forwarded answer's chain that leads into a zone. */
  | (Base & { type: typeof RRType.CNAME; target: string })
  | (Base & { type: typeof RRType.TXT; text: string })
  | (Base & { type: typeof RRType.SRV; priority: number; weight: number; port: number; target: string })
  | (Base & { type: typeof RELAYED; wireType: number; rdata: Buffer })
  | (Base & {
      type: typeof RRType.SOA;
      mname: string;
      rname: string;
      serial: number;
      refresh: number;
      retry: number;
      expire: number;
      minimum: number;
    });

/** What the zone view answers for one question it is authoritative for. */
export interface ZoneResponse {
  rcode: number;
  answers: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
  /**
   * The answer rests on more than the records at the question name (a wildcard stood for a name two or more
   * labels below it, or a CNAME chain was followed): a change touches it without naming the question, so the
   * answer cache does not keep it.
   */
  dependsOnOtherNames?: boolean;
  /** The answer's CNAME chain leaves seamark's zones at this name: for a client allowed to forward, its answer is appended. */
  leavesZonesAt?: string;
}

export const a = (name: string, ttl: number, address: string): ResourceRecord => ({ name, ttl, type: RRType.A, address });
export const aaaa = (name: string, ttl: number, address: string): ResourceRecord => ({ name, ttl, type: RRType.AAAA, address });
export const ptr = (name: string, ttl: number, target: string): ResourceRecord => ({ name, ttl, type: RRType.PTR, target });
export type CnameRecord = Extract<ResourceRecord, { type: typeof RRType.CNAME }>;
export const cname = (name: string, ttl: number, target: string): CnameRecord => ({ name, ttl, type: RRType.CNAME, target });
export const txt = (name: string, ttl: number, text: string): ResourceRecord => ({ name, ttl, type: RRType.TXT, text });
export const ns = (name: string, ttl: number, target: string): ResourceRecord => ({ name, ttl, type: RRType.NS, target });
