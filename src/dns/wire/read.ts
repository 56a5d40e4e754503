// DNS wire format, reading: a query's header, question and OPT record, and the
// records of a message by offset (names skipped, SOA serials and TTLs found).
import { RRType, Rcode } from '../../zone/records.js';

export const HEADER_SIZE = 12;
export const PLAIN_UDP_SIZE = 512;

export interface Edns {
  /** Requestor's UDP payload size (at least 512). */
  payloadSize: number;
  version: number;
  dnssecOk: boolean;
}

export interface Query {
  id: number;
  opcode: number;
  recursionDesired: boolean;
  checkingDisabled: boolean;
  /** Offset just past the question section. */
  questionEnd: number;
  /** Question name, lower case, no trailing dot, labels with "." or "\" escaped. */
  name: string;
  type: number;
  class: number;
  edns?: Edns;
}

export type ParseResult =
  | { kind: 'query'; query: Query }
  /** Not worth an answer: too short for a header, or a response. */
  | { kind: 'drop' }
  /** Answer only with this RCODE; `questionEnd` is set when the question itself parsed, `edns` when an OPT did. */
  | { kind: 'error'; id: number; opcode: number; rcode: number; recursionDesired: boolean; questionEnd?: number; edns?: Edns };

/** Reads a query; never throws. */
export function parseQuery(message: Buffer): ParseResult {
  if (message.length < HEADER_SIZE) return { kind: 'drop' };
  const id = message.readUInt16BE(0);
  const flags = message.readUInt16BE(2);
  if (flags & 0x8000) return { kind: 'drop' };
  const opcode = (flags >> 11) & 0xf;
  const recursionDesired = (flags & 0x0100) !== 0;
  const qdcount = message.readUInt16BE(4);
  const error = (rcode: number, questionEnd?: number, edns?: Edns): ParseResult => ({ kind: 'error', id, opcode, rcode, recursionDesired, questionEnd, edns });
  // Anything but QUERY is not implemented, whatever else is wrong with it.
  const malformed = opcode !== 0 ? Rcode.NOTIMP : Rcode.FORMERR;
  if (qdcount !== 1) return error(malformed);

  const question = readQuestionName(message, HEADER_SIZE);
  if (question === undefined || question.end + 4 > message.length) return error(malformed);
  const questionEnd = question.end + 4;

  let edns: Edns | undefined;
  let offset = questionEnd;
  const otherRecords = message.readUInt16BE(6) + message.readUInt16BE(8);
  const additional = message.readUInt16BE(10);
  for (let i = 0; i < otherRecords + additional; i++) {
    const record = readRecordHeader(message, offset);
    if (record === undefined) return error(malformed, questionEnd);
    if (record.type === RRType.OPT) {
      // One OPT, in the additional section, owned by the root (RFC 6891 §6.1.1).
      if (edns !== undefined || i < otherRecords || message[offset] !== 0) return error(malformed, questionEnd);
      if (!optionsAreWellFormed(message, record.rdataStart, record.end)) return error(malformed, questionEnd);
      edns = {
        payloadSize: Math.max(record.class, PLAIN_UDP_SIZE),
        version: message[record.ttlOffset + 1] ?? 0,
        dnssecOk: ((message[record.ttlOffset + 2] ?? 0) & 0x80) !== 0,
      };
    }
    offset = record.end;
  }
  if (opcode !== 0) return error(Rcode.NOTIMP, questionEnd, edns);
  const type = message.readUInt16BE(question.end);
  // QTYPE 0 is reserved (RFC 6895 §3.1): a malformed question, as Knot DNS answers it.
  if (type === 0) return error(Rcode.FORMERR, questionEnd, edns);

  return {
    kind: 'query',
    query: {
      id,
      opcode,
      recursionDesired,
      checkingDisabled: (flags & 0x0010) !== 0,
      questionEnd,
      name: question.name,
      type,
      class: message.readUInt16BE(question.end + 2),
      edns,
    },
  };
}


/** The question name at `offset` (no compression allowed there), or undefined when malformed. */
export function readQuestionName(message: Buffer, offset: number): { name: string; end: number } | undefined {
  let name = '';
  let length = 0;
  for (;;) {
    const labelLength = message[offset];
    if (labelLength === undefined || labelLength > 63) return undefined;
    offset++;
    if (labelLength === 0) break;
    if (offset + labelLength > message.length) return undefined;
    length += labelLength + 1;
    if (length > 254) return undefined;
    const label = labelText(message, offset, offset + labelLength);
    name += name.length === 0 ? label : '.' + label;
    offset += labelLength;
  }
  return { name, end: offset };
}

/** An ASCII letter byte in lower case; any other byte as it is (DNS names compare case-insensitively in ASCII only). */
export function lowerCaseByte(byte: number): number {
  return byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte;
}

/** The label `bytes[start, end)` as the query parser writes it: lower case, with dots and backslashes escaped. */
export function labelText(bytes: Buffer, start: number, end: number): string {
  let text = '';
  for (let i = start; i < end; i++) {
    const code = lowerCaseByte(bytes[i] as number);
    // Escape what would change the name's structure when joined with dots.
    text += code === 0x2e ? '\\.' : code === 0x5c ? '\\\\' : String.fromCharCode(code);
  }
  return text;
}

export interface RecordHeader {
  type: number;
  class: number;
  ttlOffset: number;
  rdataStart: number;
  end: number;
}

/** The fixed fields of the record at `offset`, or undefined when it runs past the end. */
export function readRecordHeader(message: Buffer, offset: number): RecordHeader | undefined {
  const nameEnd = skipName(message, offset);
  if (nameEnd === undefined || nameEnd + 10 > message.length) return undefined;
  const rdataLength = message.readUInt16BE(nameEnd + 8);
  const end = nameEnd + 10 + rdataLength;
  if (end > message.length) return undefined;
  return {
    type: message.readUInt16BE(nameEnd),
    class: message.readUInt16BE(nameEnd + 2),
    ttlOffset: nameEnd + 4,
    rdataStart: nameEnd + 10,
    end,
  };
}

/**
 * Where the question section of `message` ends: after its one question, at the header's end when it has none;
 * undefined when the question runs past the message or there are several.
 */
export function questionEndOf(message: Buffer): number | undefined {
  if (message.length < HEADER_SIZE) return undefined;
  const questions = message.readUInt16BE(4);
  if (questions === 0) return HEADER_SIZE;
  if (questions > 1) return undefined;
  const nameEnd = skipName(message, HEADER_SIZE);
  return nameEnd === undefined || nameEnd + 4 > message.length ? undefined : nameEnd + 4;
}

/** Offset past a (possibly compressed) name, or undefined when malformed. */
export function skipName(message: Buffer, offset: number): number | undefined {
  for (let labels = 0; labels < 128; labels++) {
    const length = message[offset];
    if (length === undefined) return undefined;
    if (length === 0) return offset + 1;
    if ((length & 0xc0) === 0xc0) return offset + 2 <= message.length ? offset + 2 : undefined;
    if (length > 63) return undefined;
    offset += length + 1;
  }
  return undefined;
}

function optionsAreWellFormed(message: Buffer, start: number, end: number): boolean {
  let offset = start;
  while (offset < end) {
    if (offset + 4 > end) return false;
    offset += 4 + message.readUInt16BE(offset + 2);
  }
  return offset === end;
}

/** The serial of the SOA an IXFR query carries in its authority section (RFC 1995 §3), or undefined when it has none. */
export function ixfrClientSerial(message: Buffer, questionEnd: number): number | undefined {
  let offset = questionEnd;
  const answers = message.readUInt16BE(6);
  for (let i = 0; i < answers + Math.min(message.readUInt16BE(8), 1); i++) {
    const record = readRecordHeader(message, offset);
    if (record === undefined) return undefined;
    if (i === answers && record.type === RRType.SOA) {
      const serialAt = soaSerialAt(message, record);
      return serialAt === undefined ? undefined : message.readUInt32BE(serialAt);
    }
    offset = record.end;
  }
  return undefined;
}

/** Where the serial of the first SOA record in a message is (any section), or undefined when it has none. */
export function firstSoaSerialAt(message: Buffer, questionEnd: number): number | undefined {
  const record = firstRecordOfType(message, questionEnd, RRType.SOA);
  return record === undefined ? undefined : soaSerialAt(message, record);
}

/** The first record of `type` in a message (any section, records from `questionEnd`), or undefined when it has none or a record before it runs past the end. */
export function firstRecordOfType(message: Buffer, questionEnd: number, type: number): RecordHeader | undefined {
  let offset = questionEnd;
  const records = message.readUInt16BE(6) + message.readUInt16BE(8) + message.readUInt16BE(10);
  for (let i = 0; i < records; i++) {
    const record = readRecordHeader(message, offset);
    if (record === undefined) return undefined;
    if (record.type === type) return record;
    offset = record.end;
  }
  return undefined;
}

/** Where the serial is in the rdata of an SOA record (after MNAME and RNAME), or undefined when it does not fit. */
function soaSerialAt(message: Buffer, record: RecordHeader): number | undefined {
  const serialAt = skipName(message, skipName(message, record.rdataStart) ?? record.end);
  return serialAt !== undefined && serialAt + 4 <= record.end ? serialAt : undefined;
}

/** Offsets of the TTL fields of every record but OPT: how cached upstream answers are aged. */
export function ttlOffsets(message: Buffer): number[] | undefined {
  if (message.length < HEADER_SIZE) return undefined;
  let offset = HEADER_SIZE;
  for (let i = message.readUInt16BE(4); i > 0; i--) {
    const end = skipName(message, offset);
    if (end === undefined || end + 4 > message.length) return undefined;
    offset = end + 4;
  }
  const offsets: number[] = [];
  const records = message.readUInt16BE(6) + message.readUInt16BE(8) + message.readUInt16BE(10);
  for (let i = 0; i < records; i++) {
    const record = readRecordHeader(message, offset);
    if (record === undefined) return undefined;
    if (record.type !== RRType.OPT) offsets.push(record.ttlOffset);
    offset = record.end;
  }
  return offsets;
}
