// DNS wire format, writing: responses with name compression (SRV targets
// excepted, RFC 2782) and truncation at RRset boundaries.
import { isIPv6 } from 'node:net';
import { ipv6ToBytes } from '../../lib/ipv6.js';
import { RRType, Rcode, type ResourceRecord } from '../../zone/records.js';
import { HEADER_SIZE, lowerCaseByte, readQuestionName } from './read.js';

export interface ResponseOptions {
  /** The query being answered: its ID, RD and CD bits and question bytes are echoed. */
  query: Buffer;
  id: number;
  opcode: number;
  recursionDesired: boolean;
  checkingDisabled?: boolean;
  /** End of the question in `query`; 0 to send no question. */
  questionEnd: number;
  rcode: number;
  authoritative: boolean;
  recursionAvailable: boolean;
  answers?: readonly ResourceRecord[];
  authority?: readonly ResourceRecord[];
  additional?: readonly ResourceRecord[];
  /** Present when the client used EDNS: an OPT is added with our payload size. */
  edns?: { payloadSize: number; dnssecOk: boolean };
  /** Largest message allowed; larger answers are truncated with TC. */
  maxSize: number;
  /**
   * What an answer larger than `maxSize` becomes: over UDP (false) it is sent
   * empty with TC so the client retries over TCP; over TCP (true), where there
   * is nothing to retry with, SERVFAIL (as Knot DNS answers): a partial RRset
   * with TC could not be completed anywhere.
   */
  viaTcp?: boolean;
  /** Sends no records and sets TC: the answer exists but is too big for this client's UDP size. */
  truncated?: boolean;
  /** Told of each record that cannot be encoded (a value out of range); the record is left out, the rest is sent. */
  onBadRecord?: BadRecordListener;
}

export type BadRecordListener = (record: ResourceRecord, error: unknown) => void;

/** Largest DNS message (its TCP length field is 16 bits). */
export const MAX_MESSAGE_SIZE = 65535;

/** Longest TXT data seamark encodes, bytes. */
const MAX_TXT = 4096;

/** The largest record: a 255-byte owner, type to length, and the longest rdata (a TXT of MAX_TXT bytes in 255-byte strings). */
const MAX_RECORD_SIZE = 255 + 10 + MAX_TXT + Math.ceil(MAX_TXT / 255);

/**
 * Room past the largest message for one whole record, so that a record is written before its size is checked:
 * a record that runs past the limit is an overflow (TC, or SERVFAIL over TCP), never a write past the end.
 */
export const scratch = Buffer.alloc(MAX_MESSAGE_SIZE + MAX_RECORD_SIZE);

/** Lower-cases the letters of the name bytes `bytes[start, end)` in place (label lengths are below 0x41 and stay as they are). */
export function lowerCaseName(bytes: Buffer, start: number, end: number): void {
  for (let i = start; i < end; i++) bytes[i] = lowerCaseByte(bytes[i] as number);
}

/**
 * Writes into `reply`, a stored answer to the question of `message`, what is the query's own: its ID, RD and CD
 * bits (RFC 1035 §4.1.1) and its question name's bytes (their letter case). `questionEnd`: the end of the question.
 */
export function echoQueryHeader(reply: Buffer, message: Buffer, questionEnd: number): void {
  reply[0] = message[0] as number;
  reply[1] = message[1] as number;
  reply[2] = ((reply[2] as number) & 0xfe) | ((message[2] as number) & 0x01);
  reply[3] = ((reply[3] as number) & 0xef) | ((message[3] as number) & 0x10);
  message.copy(reply, HEADER_SIZE, HEADER_SIZE, questionEnd - 4);
}

/** Writes a complete response; the result is a fresh Buffer the caller owns. */
export function encodeResponse(options: ResponseOptions): Buffer {
  const writer = new MessageWriter(scratch);
  const { query, questionEnd } = options;
  let flags = 0x8000 | (options.opcode << 11) | (options.rcode & 0xf);
  if (options.authoritative) flags |= 0x0400;
  if (options.recursionDesired) flags |= 0x0100;
  if (options.recursionAvailable) flags |= 0x0080;
  if (options.checkingDisabled) flags |= 0x0010;
  writer.header(options.id, flags, questionEnd > 0 ? 1 : 0);
  if (questionEnd > 0) writer.question(query, questionEnd);

  const optSize = options.edns ? 11 : 0;
  const limit = options.maxSize - optSize;
  const afterQuestion = writer.offset;
  const answerCount = writer.records(options.answers ?? [], limit, options.onBadRecord);
  const authorityCount = writer.overflowed ? 0 : writer.records(options.authority ?? [], limit, options.onBadRecord);
  if (writer.overflowed && options.viaTcp) {
    // Larger than any DNS message: SERVFAIL, no records, no AA.
    writer.offset = afterQuestion;
    writer.forgetNamesFrom(afterQuestion);
    writer.setCounts(0, 0, 0);
    writer.buffer.writeUInt16BE((flags & ~0x040f) | Rcode.SERVFAIL, 2);
  } else if (options.truncated || writer.overflowed) {
    // The answer does not fit: send none of it, with TC, so the client retries over TCP (RFC 2181 §9).
    writer.offset = afterQuestion;
    writer.forgetNamesFrom(afterQuestion);
    writer.setCounts(0, 0, 0);
    writer.setFlag(0x0200);
  } else {
    writer.setCounts(answerCount, authorityCount, 0);
    const beforeAdditional = writer.offset;
    const additionalCount = writer.records(options.additional ?? [], limit, options.onBadRecord);
    if (writer.overflowed) {
      // Additional data is optional: leave it out rather than truncate.
      writer.offset = beforeAdditional;
      writer.forgetNamesFrom(beforeAdditional);
    } else {
      writer.setCounts(answerCount, authorityCount, additionalCount);
    }
  }
  if (options.edns) writer.opt(options.edns.payloadSize, options.rcode >> 4, options.edns.dnssecOk);
  return Buffer.from(scratch.subarray(0, writer.offset));
}

/** Writes records into `buffer` from `offset` onwards; used for responses and zone transfers. */
export class MessageWriter {
  offset = 0;
  /** Set once a record did not fit the limit given to `records`; nothing more is written after it. */
  overflowed = false;
  private readonly compression = new Map<string, number>();
  private counts = [0, 0, 0];

  constructor(readonly buffer: Buffer) {}

  header(id: number, flags: number, questions: number): void {
    this.buffer.writeUInt16BE(id, 0);
    this.buffer.writeUInt16BE(flags, 2);
    this.buffer.writeUInt16BE(questions, 4);
    this.buffer.fill(0, 6, 12);
    this.offset = HEADER_SIZE;
  }

  /** Copies the question as the client sent it (keeping its letter case) and remembers its name for compression. */
  question(query: Buffer, questionEnd: number): void {
    query.copy(this.buffer, HEADER_SIZE, HEADER_SIZE, questionEnd);
    this.rememberName(query, HEADER_SIZE, HEADER_SIZE);
    this.offset = questionEnd;
  }

  setFlag(bit: number): void {
    this.buffer.writeUInt16BE(this.buffer.readUInt16BE(2) | bit, 2);
  }

  setCounts(answers: number, authority: number, additional: number): void {
    this.counts = [answers, authority, additional];
    this.buffer.writeUInt16BE(answers, 6);
    this.buffer.writeUInt16BE(authority, 8);
    this.buffer.writeUInt16BE(additional, 10);
  }

  /**
   * Writes the records that fit in `limit` bytes, returning how many; stops
   * at the first that does not (setting `overflowed`). A record that cannot
   * be encoded is left out and reported; it never costs the whole message.
   */
  records(records: readonly ResourceRecord[], limit: number, onBadRecord?: BadRecordListener): number {
    let written = 0;
    for (const record of records) {
      const start = this.offset;
      try {
        this.record(record);
      } catch (error) {
        this.rollBack(start);
        onBadRecord?.(record, error);
        continue;
      }
      if (this.offset > limit) {
        this.rollBack(start);
        this.overflowed = true;
        break;
      }
      written++;
    }
    return written;
  }

  private rollBack(offset: number): void {
    this.offset = offset;
    this.forgetNamesFrom(offset);
  }

  opt(payloadSize: number, extendedRcode: number, dnssecOk: boolean): void {
    const b = this.buffer;
    let o = this.offset;
    b[o++] = 0; // root
    b.writeUInt16BE(RRType.OPT, o);
    b.writeUInt16BE(payloadSize, o + 2);
    b[o + 4] = extendedRcode & 0xff;
    b[o + 5] = 0; // version
    b.writeUInt16BE(dnssecOk ? 0x8000 : 0, o + 6);
    b.writeUInt16BE(0, o + 8);
    this.offset = o + 10;
    const [answers = 0, authority = 0, additional = 0] = this.counts;
    this.setCounts(answers, authority, additional + 1);
  }

  /** Forgets compression targets at or after `offset` once that part of the message is dropped. */
  forgetNamesFrom(offset: number): void {
    for (const [name, at] of this.compression) if (at >= offset) this.compression.delete(name);
  }

  private record(record: ResourceRecord): void {
    const b = this.buffer;
    this.name(record.name, true);
    b.writeUInt16BE(record.type, this.offset);
    b.writeUInt16BE(record.class ?? 1, this.offset + 2);
    // RFC 2181 §8: a TTL is 0 to 2^31 - 1.
    b.writeUInt32BE(Math.min(Math.max(record.ttl, 0), 0x7fffffff) >>> 0, this.offset + 4);
    const lengthAt = this.offset + 8;
    this.offset += 10;
    const rdataStart = this.offset;
    switch (record.type) {
      case RRType.A: {
        const parts = record.address.split('.');
        if (parts.length !== 4) throw new RangeError(`A address "${record.address}" is not IPv4`);
        for (let i = 0; i < 4; i++) b[this.offset + i] = uint(Number(parts[i]), 0xff, 'A address octet');
        this.offset += 4;
        break;
      }
      case RRType.AAAA:
        if (!isIPv6(record.address)) throw new RangeError(`AAAA address "${record.address}" is not IPv6`);
        ipv6ToBytes(record.address).copy(b, this.offset);
        this.offset += 16;
        break;
      case RRType.PTR:
      case RRType.NS:
      case RRType.CNAME:
        this.name(record.target, true);
        break;
      case RRType.TXT: {
        // Character-strings of at most 255 bytes each.
        const text = Buffer.from(record.text, 'utf8');
        if (text.length > MAX_TXT) throw new RangeError(`TXT of ${text.length} bytes is longer than ${MAX_TXT}`);
        for (let at = 0; at === 0 || at < text.length; at += 255) {
          const part = text.subarray(at, at + 255);
          b[this.offset++] = part.length;
          part.copy(b, this.offset);
          this.offset += part.length;
        }
        break;
      }
      case RRType.SRV:
        b.writeUInt16BE(uint(record.priority, 0xffff, 'SRV priority'), this.offset);
        b.writeUInt16BE(uint(record.weight, 0xffff, 'SRV weight'), this.offset + 2);
        b.writeUInt16BE(uint(record.port, 0xffff, 'SRV port'), this.offset + 4);
        this.offset += 6;
        this.name(record.target, false);
        break;
      case RRType.SOA:
        this.name(record.mname, true);
        this.name(record.rname, true);
        b.writeUInt32BE(record.serial >>> 0, this.offset);
        b.writeUInt32BE(uint(record.refresh, 0xffffffff, 'SOA refresh'), this.offset + 4);
        b.writeUInt32BE(uint(record.retry, 0xffffffff, 'SOA retry'), this.offset + 8);
        b.writeUInt32BE(uint(record.expire, 0xffffffff, 'SOA expire'), this.offset + 12);
        b.writeUInt32BE(uint(record.minimum, 0xffffffff, 'SOA minimum'), this.offset + 16);
        this.offset += 20;
        break;
    }
    b.writeUInt16BE(this.offset - rdataStart, lengthAt);
  }

  /** Writes a normalised name; with `compress`, points at an earlier copy of its longest known suffix. */
  private name(name: string, compress: boolean): void {
    const b = this.buffer;
    if (name.length > 253) throw new RangeError(`name "${name.slice(0, 40)}…" is longer than 253 characters`);
    let rest = name;
    while (rest.length > 0) {
      if (compress) {
        const pointer = this.compression.get(rest);
        if (pointer !== undefined) {
          b.writeUInt16BE(0xc000 | pointer, this.offset);
          this.offset += 2;
          return;
        }
      }
      if (this.offset < 0x4000) this.compression.set(rest, this.offset);
      const dot = rest.indexOf('.');
      const label = dot < 0 ? rest : rest.slice(0, dot);
      if (label.length === 0 || label.length > 63) throw new RangeError(`name "${name}" has a label of ${label.length} characters (1 to 63)`);
      b[this.offset] = label.length;
      b.write(label, this.offset + 1, 'latin1');
      this.offset += 1 + label.length;
      rest = dot < 0 ? '' : rest.slice(dot + 1);
    }
    b[this.offset++] = 0;
  }

  /** Registers every suffix of the wire name at `at` (copied from `source` at `sourceAt`) for compression. */
  private rememberName(source: Buffer, sourceAt: number, at: number): void {
    const parsed = readQuestionName(source, sourceAt);
    if (parsed === undefined || parsed.name.includes('\\')) return;
    let rest = parsed.name;
    let offset = at;
    while (rest.length > 0) {
      this.compression.set(rest, offset);
      const dot = rest.indexOf('.');
      offset += (dot < 0 ? rest.length : dot) + 1;
      rest = dot < 0 ? '' : rest.slice(dot + 1);
    }
  }
}

/** `value` when it is an integer from 0 to `max`; otherwise a RangeError naming `what`. */
function uint(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`${what} ${value} is outside 0-${max}`);
  return value;
}

/**
 * The rotations of an encoded answer whose answer section is one RRset of fixed-size records owned by the question
 * name (A or AAAA, each owner a pointer to the question): rotation r has the records from the r-th on, then the
 * ones before it — the bytes the encoder writes for the zone view's rotation r — the rest of the message unchanged.
 * Undefined when the answer section is not of that form (the caller encodes each rotation instead).
 */
export function rotatedAnswers(message: Buffer, questionEnd: number, rotations: number): Buffer[] | undefined {
  const count = message.readUInt16BE(6);
  if (count < 2) return undefined;
  const type = message.readUInt16BE(questionEnd + 2);
  const dataLength = type === RRType.A ? 4 : type === RRType.AAAA ? 16 : 0;
  if (dataLength === 0) return undefined;
  const size = 12 + dataLength;
  const end = questionEnd + count * size;
  if (end > message.length) return undefined;
  for (let at = questionEnd; at < end; at += size) {
    if (message.readUInt16BE(at) !== (0xc000 | HEADER_SIZE) || message.readUInt16BE(at + 2) !== type || message.readUInt16BE(at + 10) !== dataLength) return undefined;
  }
  const answers: Buffer[] = [message];
  for (let rotation = 1; rotation < rotations; rotation++) {
    const rotated = Buffer.from(message);
    const split = questionEnd + (rotation % count) * size;
    message.copy(rotated, questionEnd, split, end);
    message.copy(rotated, questionEnd + (end - split), questionEnd, split);
    answers.push(rotated);
  }
  return answers;
}
