// Scrubs an upstream answer before seamark relays or caches it (RFC 2181 §5.4.1, RFC 5452 §6): only the answer
// chain for the question, authority and additional data in its bailiwick, nothing that speaks for seamark's own
// zones. The result is a new message seamark wrote itself, with its own OPT.
import { RRType } from '../zone/records.js';
import { HEADER_SIZE, questionEndOf, labelText, readRecordHeader } from './wire/read.js';

const { CNAME, DNAME, MX, RRSIG, NSEC, NSEC3, DS } = RRType;

/** Longest CNAME/DNAME chain followed in one answer; a longer one is cut there (the client asks again for the rest). */
const MAX_CHAIN = 16;

/** One CNAME of an upstream chain that leads into seamark's own zone. */
export interface ChainLink {
  name: string;
  ttl: number;
  target: string;
}

export type Scrubbed =
  /** The upstream's answer as seamark relays it. */
  | { kind: 'answer'; message: Buffer }
  /** The chain reached `target`, a name in seamark's own zone: seamark answers that name itself, after `chain`. */
  | { kind: 'into-zone'; chain: ChainLink[]; target: string }
  /** The message could not be read: treated as no answer. */
  | { kind: 'malformed' };

interface UpstreamRecord {
  /** Owner, lower case, dotted (labels escaped as the query parser does). */
  owner: string;
  type: number;
  class: number;
  ttl: number;
  /** Record data with every name in it written out whole (compression pointers point into the upstream's message). */
  rdata: Buffer;
  /** Names the record points at (NS, MX, SRV, CNAME, DNAME targets), for which additional data may be kept. */
  target?: string;
}

/**
 * The upstream `response` (an answer to `question`, type `type`, class `qclass`) reduced to what seamark may relay.
 * `isOwnName` tells a name in seamark's zones. `payloadSize` is offered in seamark's OPT when the response has one.
 */
export function scrubResponse(response: Buffer, question: string, type: number, qclass: number, isOwnName: (name: string) => boolean, payloadSize: number): Scrubbed {
  const parsed = parseSections(response);
  if (parsed === undefined) return { kind: 'malformed' };
  const { questionEnd, answers, authority, additional, opt } = parsed;
  const sameClass = (record: UpstreamRecord) => record.class === qclass || qclass === 255;

  // The answer chain: the question's own records, then those of each CNAME (or DNAME-synthesised) target in turn.
  const keptAnswers: UpstreamRecord[] = [];
  const chain: ChainLink[] = [];
  const used = new Set<UpstreamRecord>();
  let current = question;
  for (let hop = 0; hop < MAX_CHAIN; hop++) {
    if (isOwnName(current)) {
      return { kind: 'into-zone', chain, target: current };
    }
    let next: string | undefined;
    for (const record of answers) {
      if (used.has(record) || !sameClass(record)) continue;
      if (record.owner === current) {
        if (record.type === type || type === RRType.ANY || record.type === RRSIG) keep(record);
        else if (record.type === CNAME && next === undefined && record.target !== undefined) {
          keep(record);
          chain.push({ name: record.owner, ttl: record.ttl, target: record.target });
          next = record.target;
        }
      } else if (record.type === DNAME && isBelow(current, record.owner) && !isOwnName(record.owner)) {
        keep(record);
      }
    }
    if (next === undefined || next === current) break;
    current = next;
  }
  function keep(record: UpstreamRecord): void {
    used.add(record);
    keptAnswers.push(record);
  }

  // Authority: the zone's SOA/NS (and their DS and signatures) at the final name or above it; DNSSEC denial
  // records below that zone's apex.
  const finalName = current;
  let apex: string | undefined;
  for (const record of authority) {
    if ((record.type === RRType.SOA || record.type === RRType.NS) && isAtOrBelow(finalName, record.owner) && (apex === undefined || record.owner.length > apex.length)) {
      apex = record.owner;
    }
  }
  const keptAuthority = authority.filter(
    (record) =>
      sameClass(record) &&
      !isOwnName(record.owner) &&
      (isAtOrBelow(finalName, record.owner) || (apex !== undefined && isAtOrBelow(record.owner, apex) && (record.type === NSEC || record.type === NSEC3 || record.type === RRSIG || record.type === DS))),
  );

  // Additional: addresses (and their signatures) of names the kept records point at, inside the bailiwick.
  const bailiwick = apex ?? parentDomain(finalName);
  const referenced = new Set<string>();
  for (const record of [...keptAnswers, ...keptAuthority]) if (record.target !== undefined && record.type !== CNAME && record.type !== DNAME) referenced.add(record.target);
  const keptAdditional = additional.filter(
    (record) =>
      sameClass(record) &&
      referenced.has(record.owner) &&
      !isOwnName(record.owner) &&
      isAtOrBelow(record.owner, bailiwick) &&
      (record.type === RRType.A || record.type === RRType.AAAA || record.type === RRSIG),
  );

  return { kind: 'answer', message: writeMessage(response, questionEnd, question, keptAnswers, keptAuthority, keptAdditional, opt, payloadSize) };
}

/** Whether `name` is `zone` or below it. */
export function isAtOrBelow(name: string, zone: string): boolean {
  return zone === '' || name === zone || (name.length > zone.length && name.endsWith(zone) && name[name.length - zone.length - 1] === '.' && name[name.length - zone.length - 2] !== '\\');
}

function isBelow(name: string, zone: string): boolean {
  return name !== zone && isAtOrBelow(name, zone);
}

/** The domain one label up, after any leading service labels: `www.example.com` → `example.com`, `_sip._tcp.example.com` → `com`. */
function parentDomain(name: string): string {
  let rest = name;
  while (rest.startsWith('_')) rest = afterFirstLabel(rest);
  return afterFirstLabel(rest);
}

function afterFirstLabel(name: string): string {
  for (let i = 0; i < name.length; i++) {
    if (name[i] === '\\') i++;
    else if (name[i] === '.') return name.slice(i + 1);
  }
  return '';
}

interface Sections {
  questionEnd: number;
  answers: UpstreamRecord[];
  authority: UpstreamRecord[];
  additional: UpstreamRecord[];
  /** The upstream's OPT: its extended RCODE, version and flags (the TTL field). */
  opt?: { ttlField: number };
}

function parseSections(message: Buffer): Sections | undefined {
  const questionEnd = message.length >= HEADER_SIZE && message.readUInt16BE(4) === 1 ? questionEndOf(message) : undefined;
  if (questionEnd === undefined) return undefined;
  const counts = [message.readUInt16BE(6), message.readUInt16BE(8), message.readUInt16BE(10)];
  const sections: UpstreamRecord[][] = [[], [], []];
  let opt: Sections['opt'];
  let offset = questionEnd;
  for (let section = 0; section < 3; section++) {
    for (let i = 0; i < (counts[section] as number); i++) {
      const header = readRecordHeader(message, offset);
      if (header === undefined) return undefined;
      if (header.type === RRType.OPT) {
        if (section === 2) opt = { ttlField: message.readUInt32BE(header.ttlOffset) };
        offset = header.end;
        continue;
      }
      const owner = readName(message, offset);
      const data = owner === undefined ? undefined : readRdata(message, header.type, header.rdataStart, header.end);
      if (owner === undefined || data === undefined) return undefined;
      (sections[section] as UpstreamRecord[]).push({ owner: owner.name, type: header.type, class: header.class, ttl: message.readUInt32BE(header.ttlOffset), ...data });
      offset = header.end;
    }
  }
  const [answers = [], authority = [], additional = []] = sections;
  return { questionEnd, answers, authority, additional, opt };
}

/** A name anywhere in `message`, following compression pointers (only backwards, so no loop). */
function readName(message: Buffer, offset: number): { name: string; wire: Buffer; end: number } | undefined {
  const labels: Buffer[] = [];
  let end: number | undefined;
  let length = 0;
  for (let jumps = 0; jumps < 128; jumps++) {
    const size = message[offset];
    if (size === undefined) return undefined;
    if ((size & 0xc0) === 0xc0) {
      if (offset + 2 > message.length) return undefined;
      const pointer = message.readUInt16BE(offset) & 0x3fff;
      end ??= offset + 2;
      if (pointer >= offset) return undefined;
      offset = pointer;
      continue;
    }
    if (size > 63) return undefined;
    if (size === 0) {
      end ??= offset + 1;
      const wire = Buffer.concat([...labels.flatMap((label) => [Buffer.from([label.length]), label]), Buffer.from([0])]);
      return { name: labels.map((label) => labelText(label, 0, label.length)).join('.'), wire, end };
    }
    if (offset + 1 + size > message.length) return undefined;
    length += size + 1;
    if (length > 254) return undefined;
    labels.push(message.subarray(offset + 1, offset + 1 + size));
    offset += size + 1;
  }
  return undefined;
}

/**
 * The record data with its names written out whole. Names in data may be compressed only in the types of
 * RFC 1035 (RFC 3597 §4); SRV and DNAME are read the same way in case a server compressed them anyway.
 */
function readRdata(message: Buffer, type: number, start: number, end: number): { rdata: Buffer; target?: string } | undefined {
  const names = (offset: number, count: number, fixedAfter: number): { parts: Buffer[]; first?: string } | undefined => {
    const parts: Buffer[] = [];
    let first: string | undefined;
    for (let i = 0; i < count; i++) {
      const name = readName(message, offset);
      if (name === undefined || name.end > end) return undefined;
      parts.push(name.wire);
      first ??= name.name;
      offset = name.end;
    }
    if (offset + fixedAfter !== end) return undefined;
    parts.push(message.subarray(offset, end));
    return { parts, first };
  };
  let read: { parts: Buffer[]; first?: string } | undefined;
  let prefix = 0;
  switch (type) {
    case RRType.NS:
    case CNAME:
    case RRType.PTR:
    case DNAME:
    case 3: // MD
    case 4: // MF
    case 7: // MB
    case 8: // MG
    case 9: // MR
      read = names(start, 1, 0);
      break;
    case RRType.SOA:
      read = names(start, 2, 20);
      if (read !== undefined) read.first = undefined;
      break;
    case 14: // MINFO
      read = names(start, 2, 0);
      if (read !== undefined) read.first = undefined;
      break;
    case MX:
      prefix = 2;
      read = start + 2 <= end ? names(start + 2, 1, 0) : undefined;
      break;
    case RRType.SRV:
      prefix = 6;
      read = start + 6 <= end ? names(start + 6, 1, 0) : undefined;
      break;
    default:
      return { rdata: message.subarray(start, end) };
  }
  if (read === undefined) return undefined;
  return { rdata: Buffer.concat([message.subarray(start, start + prefix), ...read.parts]), target: read.first };
}

/** Header and question as the upstream sent them, then the kept records; owners equal to the question point at it. */
function writeMessage(
  response: Buffer,
  questionEnd: number,
  question: string,
  answers: UpstreamRecord[],
  authority: UpstreamRecord[],
  additional: UpstreamRecord[],
  opt: Sections['opt'],
  payloadSize: number,
): Buffer {
  const parts: Buffer[] = [Buffer.from(response.subarray(0, questionEnd))];
  const header = parts[0] as Buffer;
  header.writeUInt16BE(answers.length, 6);
  header.writeUInt16BE(authority.length, 8);
  header.writeUInt16BE(additional.length + (opt === undefined ? 0 : 1), 10);
  for (const record of [...answers, ...authority, ...additional]) {
    parts.push(record.owner === question ? Buffer.from([0xc0, HEADER_SIZE]) : ownerWire(record.owner));
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(record.type, 0);
    fixed.writeUInt16BE(record.class, 2);
    fixed.writeUInt32BE(record.ttl, 4);
    fixed.writeUInt16BE(record.rdata.length, 8);
    parts.push(fixed, record.rdata);
  }
  if (opt !== undefined) {
    // seamark's own OPT (RFC 6891 §6.1.1): its payload size, the upstream's extended RCODE and DO bit, no options.
    const record = Buffer.alloc(11);
    record.writeUInt16BE(RRType.OPT, 1);
    record.writeUInt16BE(payloadSize, 3);
    record.writeUInt32BE((opt.ttlField & 0xff000000) | (opt.ttlField & 0x8000), 5);
    parts.push(record);
  }
  return Buffer.concat(parts);
}

/** The wire form of a name in the dotted, escaped form `readName` gives. */
function ownerWire(name: string): Buffer {
  const bytes: number[] = [];
  let label: number[] = [];
  const flush = () => {
    bytes.push(label.length, ...label);
    label = [];
  };
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x5c) label.push(name.charCodeAt(++i));
    else if (c === 0x2e) flush();
    else label.push(c);
  }
  if (name.length > 0) flush();
  bytes.push(0);
  return Buffer.from(bytes);
}
