// Response rate limiting (RRL) of UDP answers, as BIND, Knot and NSD do it:
// a forged-source flood cannot turn seamark into an amplifier aimed at a
// victim, while a real client that is limited still gets every Nth answer as
// an empty TC reply and retries over TCP, which a forger cannot do.
//
// Answers are counted per (client prefix, answer): the prefix is the client's
// /24 (IPv4) or /56 (IPv6); the answer is the question name and type for an
// answer or NODATA, the zone for NXDOMAIN (so random names under a zone count
// together), and nothing at all for errors (every error to a prefix counts
// together). Each pair holds a credit of `responsesPerSecond`, refilled every
// second; an answer past it is limited, and the debt can grow to `window`
// seconds' worth, so a flood stays limited until it has been quiet that long.
//
// The table is a fixed set of typed arrays (open addressing, 8 probes, the
// stalest slot evicted): nothing is allocated per answer except the rare slip.
import type { BlockList } from 'node:net';
import { performance } from 'node:perf_hooks';
import { isAllowed } from '../config/addresses.js';
import { RRType } from '../zone/records.js';
import { HEADER_SIZE, questionEndOf, firstRecordOfType, lowerCaseByte, skipName, type RecordHeader } from './wire/read.js';

export interface RrlOptions {
  /** Answers per second one (client prefix, answer) pair may receive. */
  responsesPerSecond: number;
  /** Seconds over which a pair's excess is remembered (BIND's `window`). */
  window: number;
  /** Every `slip`-th limited answer goes out as an empty TC reply; 0: none do, 1: all do. */
  slip: number;
  /** Prefix lengths that make one client. */
  ipv4PrefixLength: number;
  ipv6PrefixLength: number;
  /** Pairs tracked at once. */
  tableSize: number;
  /** Clients never limited. */
  exempt: BlockList;
  /** The clock in whole seconds (tests pass their own). */
  now?: () => number;
}

/** What to do with one UDP answer. */
export const SEND = 0;
export const DROP = 1;
export const SLIP = 2;
export type Verdict = typeof SEND | typeof DROP | typeof SLIP;

const ANSWER = 1;
const NODATA = 2;
const NXDOMAIN = 3;
const ERROR = 4;

const PROBES = 8;
const KNOWN_CLIENTS = 10000;

/** A client prefix as two independent 32-bit hashes. */
interface Prefix {
  a: number;
  b: number;
}

/** Stands for every exempt client in the table of known clients. */
const EXEMPT: Prefix = { a: 0, b: 0 };

export class ResponseRateLimiter {
  /** Answers held back (dropped or slipped), and of those sent as TC. */
  limited = 0;
  slipped = 0;

  private readonly mask: number;
  private readonly keyA: Uint32Array;
  private readonly keyB: Uint32Array;
  /** The second a slot was last used; 0 marks a free slot. */
  private readonly seenAt: Uint32Array;
  private readonly balance: Float64Array;
  private readonly slipCount: Uint32Array;
  private readonly prefixes = new Map<string, Prefix>();
  private readonly rate: number;
  private readonly floor: number;
  private readonly now: () => number;

  constructor(private readonly options: RrlOptions) {
    let capacity = 16;
    while (capacity < options.tableSize) capacity *= 2;
    this.mask = capacity - 1;
    this.keyA = new Uint32Array(capacity);
    this.keyB = new Uint32Array(capacity);
    this.seenAt = new Uint32Array(capacity);
    this.balance = new Float64Array(capacity);
    this.slipCount = new Uint32Array(capacity);
    this.rate = options.responsesPerSecond;
    this.floor = -options.window * options.responsesPerSecond;
    this.now = options.now ?? secondsSinceStart;
  }

  /** Whether `response`, about to go to `client` over UDP, is sent, dropped or slipped. */
  verdict(response: Buffer, client: string): Verdict {
    const prefix = this.prefixOf(client);
    if (prefix === EXEMPT || response.length < HEADER_SIZE) return SEND;
    let a = prefix.a;
    let b = prefix.b;

    const rcode = (response[3] as number) & 0xf;
    const answers = response.readUInt16BE(6);
    const kind = rcode === 3 ? NXDOMAIN : rcode !== 0 ? ERROR : answers > 0 ? ANSWER : NODATA;
    a = mix(a, kind);
    b = mix(b, kind);
    if (kind !== ERROR && response.readUInt16BE(4) === 1) {
      const nameEnd = skipName(response, HEADER_SIZE) ?? response.length;
      if (nameEnd + 4 <= response.length) {
        if (kind === NXDOMAIN && answers === 0 && response.readUInt16BE(8) > 0) {
          // The authority section's SOA owner is the zone: every made-up name under it counts as one.
          a = hashName(response, nameEnd + 4, a, 0x01000193);
          b = hashName(response, nameEnd + 4, b, 0x5bd1e995);
        } else {
          a = mix(hashName(response, HEADER_SIZE, a, 0x01000193), response.readUInt16BE(nameEnd));
          b = mix(hashName(response, HEADER_SIZE, b, 0x5bd1e995), response.readUInt16BE(nameEnd));
        }
      }
    }
    return this.account(a >>> 0, b >>> 0);
  }

  get entries(): number {
    let used = 0;
    for (let i = 0; i <= this.mask; i++) if (this.seenAt[i] !== 0) used++;
    return used;
  }

  /** Charges one answer to the pair (a, b): SEND while it has credit, else DROP or SLIP. */
  private account(a: number, b: number): Verdict {
    const now = this.now();
    const slot = this.slotOf(a, b, now);
    const elapsed = now - (this.seenAt[slot] as number);
    let balance = this.balance[slot] as number;
    if (elapsed > 0) balance = Math.min(this.rate, balance + elapsed * this.rate);
    balance = Math.max(this.floor, balance - 1);
    this.balance[slot] = balance;
    this.seenAt[slot] = now;
    if (balance >= 0) return SEND;
    this.limited++;
    const slip = this.options.slip;
    if (slip === 0) return DROP;
    const count = (this.slipCount[slot] as number) + 1;
    this.slipCount[slot] = count;
    if (count % slip !== 0) return DROP;
    this.slipped++;
    return SLIP;
  }

  /** The slot holding (a, b), or a fresh one for it: free, expired, or else the least recently used of the probed. */
  private slotOf(a: number, b: number, now: number): number {
    let victim = -1;
    let victimSeen = Infinity;
    for (let probe = 0; probe < PROBES; probe++) {
      const slot = (a + probe) & this.mask;
      const seen = this.seenAt[slot] as number;
      if (seen !== 0 && this.keyA[slot] === a && this.keyB[slot] === b) return slot;
      // A slot idle longer than the window holds no debt: it is as good as free.
      const stale = seen === 0 || now - seen > this.options.window ? 0 : seen;
      if (stale < victimSeen) {
        victim = slot;
        victimSeen = stale;
      }
    }
    this.keyA[victim] = a;
    this.keyB[victim] = b;
    this.seenAt[victim] = now;
    this.balance[victim] = this.rate;
    this.slipCount[victim] = 0;
    return victim;
  }

  /** The client's prefix, worked out once per address; EXEMPT for an exempt client. */
  private prefixOf(client: string): Prefix {
    let prefix = this.prefixes.get(client);
    if (prefix === undefined) {
      prefix = isAllowed(this.options.exempt, client) ? EXEMPT : hashPrefix(client, this.options.ipv4PrefixLength, this.options.ipv6PrefixLength);
      if (this.prefixes.size >= KNOWN_CLIENTS) this.prefixes.clear();
      this.prefixes.set(client, prefix);
    }
    return prefix;
  }
}

/**
 * The reply sent instead of a limited answer on a slip: the header and
 * question with TC set and every section empty, so a real client asks again
 * over TCP; with the answer's OPT (without options) when it had one, as every
 * reply to an EDNS query has (RFC 6891 §7).
 */
export function slipReply(response: Buffer): Buffer {
  // A question that is not whole is left out: the slip still says TC.
  const questionEnd = questionEndOf(response) ?? HEADER_SIZE;
  const opt = optOf(response, questionEnd);
  const reply = Buffer.alloc(questionEnd + (opt === undefined ? 0 : 11));
  response.copy(reply, 0, 0, questionEnd);
  reply[2] = (reply[2] as number) | 0x02;
  reply.writeUInt16BE(questionEnd > HEADER_SIZE ? 1 : 0, 4);
  reply.fill(0, 6, HEADER_SIZE);
  if (opt !== undefined) {
    reply.writeUInt16BE(1, 10);
    // Root owner, type OPT, the answer's payload size and TTL field (extended RCODE, version, DO), no options.
    reply.writeUInt16BE(RRType.OPT, questionEnd + 1);
    response.copy(reply, questionEnd + 3, opt.ttlOffset - 2, opt.ttlOffset + 4);
  }
  return reply;
}

/** The answer's OPT record, found among its additional records. */
function optOf(response: Buffer, questionEnd: number): RecordHeader | undefined {
  return response.readUInt16BE(10) === 0 ? undefined : firstRecordOfType(response, questionEnd, RRType.OPT);
}

function secondsSinceStart(): number {
  return 1 + Math.floor(performance.now() / 1000);
}

function mix(hash: number, value: number): number {
  return Math.imul(hash ^ value, 0x01000193);
}

/** Hashes the name at `offset` case-insensitively, following compression pointers. */
function hashName(message: Buffer, offset: number, hash: number, multiplier: number): number {
  for (let jumps = 0; offset < message.length && jumps < 16; ) {
    const length = message[offset] as number;
    if (length === 0) break;
    if (length >= 0xc0) {
      if (offset + 1 >= message.length) break;
      offset = ((length & 0x3f) << 8) | (message[offset + 1] as number);
      jumps++;
      continue;
    }
    hash = Math.imul(hash ^ length, multiplier);
    const end = Math.min(offset + 1 + length, message.length);
    for (let i = offset + 1; i < end; i++) {
      hash = Math.imul(hash ^ lowerCaseByte(message[i] as number), multiplier);
    }
    offset = end;
  }
  return hash;
}

/** Two hashes of the client's address cut to its prefix length (an IPv4-mapped IPv6 address counts as IPv4). */
function hashPrefix(client: string, ipv4PrefixLength: number, ipv6PrefixLength: number): Prefix {
  const mapped = client.startsWith('::ffff:') && client.includes('.') ? client.slice(7) : client;
  const bytes = mapped.includes(':') ? ipv6Bytes(mapped) : ipv4Bytes(mapped);
  const bits = bytes.length === 4 ? ipv4PrefixLength : ipv6PrefixLength;
  let a = bytes.length === 4 ? 0x811c9dc5 : 0x6a09e667;
  let b = bytes.length === 4 ? 0x9e3779b9 : 0xbb67ae85;
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    const byte = (bytes[i] as number) & ((0xff00 >> keep) & 0xff);
    a = Math.imul(a ^ byte, 0x01000193);
    b = Math.imul(b ^ byte, 0x5bd1e995);
  }
  return { a, b };
}

function ipv4Bytes(address: string): number[] {
  return address.split('.').map((part) => Number(part) & 0xff);
}

/** The 16 bytes of an IPv6 address in text (`::` and a trailing dotted quad allowed). */
export function ipv6Bytes(address: string): number[] {
  const zone = address.indexOf('%');
  const text = zone < 0 ? address : address.slice(0, zone);
  const [head = '', tail] = text.split('::');
  const groups = (part: string): number[] => {
    const out: number[] = [];
    for (const group of part.split(':').filter(Boolean)) {
      if (group.includes('.')) {
        const [w = 0, x = 0, y = 0, z = 0] = ipv4Bytes(group);
        out.push((w << 8) | x, (y << 8) | z);
      } else {
        out.push(parseInt(group, 16) & 0xffff);
      }
    }
    return out;
  };
  const first = groups(head);
  const last = tail === undefined ? [] : groups(tail);
  const words = [...first, ...new Array<number>(Math.max(0, 8 - first.length - last.length)).fill(0), ...last].slice(0, 8);
  return words.flatMap((word) => [word >> 8, word & 0xff]);
}
