// The UDP fast path: encoded answers kept by question, served by copying
// bytes. A query is read only as far as its header, question and OPT record;
// the reply is a stored message with the query's ID, flags and question bytes
// (its letter case) written in. A registry change drops only the answers for
// the names it touches (`touch`): every other answer survives it. The SOA
// serial, which every change moves, is written into a reply as it leaves, so
// that negative and apex answers need not go with each change. Forwarded
// answers stay until their TTL runs out or a change touches their name (a
// reverse name seamark becomes the authority for); their bytes are the
// forwarder's, counted in its budget only, and leave with its entry.
import type { LRUCache } from 'lru-cache';
import { AnswerBlocks, entryGeneration, entryMeta, entryQuestionAt, entryQuestionLength, entrySerialAt, rotationOf } from './answer-blocks.js';
import { boundedCache, bufferCost } from './bounded-cache.js';
import { HEADER_SIZE, lowerCaseByte } from './wire/read.js';
import { echoQueryHeader, lowerCaseName } from './wire/write.js';
import { ageCachedAnswer, type CachedAnswer } from './forwarder.js';
import type { Turns } from './turns.js';

/** Encoded rotations kept for a name with several addresses. */
export const MAX_ROTATIONS = 16;

interface ForwardEntry {
  /** Lower-cased question (name, type, class). */
  question: Buffer;
  answer: CachedAnswer;
  generation: number;
  /** Its key in the LRU. */
  key: number;
  meta: number;
}

/** The entry object and its slot in `forwardKeys`, bytes. */
const FORWARD_ENTRY = 120;

/** A zone answer's handle in the cache's `AnswerBlocks`, or a forwarded answer. */
type Entry = number | ForwardEntry;

/** Heap an entry costs beyond its bytes: its slots in the LRU (key map, lists, size). */
const LRU_SLOTS = 80;

/** Variant in bits 0–2, rcode in 3–6, type from bit 7: one small integer. */
function packMeta(variant: number, type: number, rcode: number): number {
  return variant | (rcode << 3) | (type << 7);
}

/**
 * Buckets of question names, each with the generation of the last change that touched a name in it: an answer
 * made before that generation is stale. Names that share a bucket only cost each other a miss.
 */
const TOUCH_BUCKETS = 1 << 16;
/** A change touching more names than this drops every answer at once: cheaper than marking them. */
const TOUCH_ALL = TOUCH_BUCKETS / 8;

/** What the fast path read from a query: filled in place, so nothing is allocated per packet. */
export interface FastQuery {
  hash: number;
  /** FNV-1a of the lower-cased question name alone: its bucket in `touchedAt`. */
  nameHash: number;
  /** The question's type. */
  type: number;
  questionEnd: number;
  variant: number;
  /** Largest reply the client accepts over UDP. */
  limit: number;
}

/** A reply from the cache, with the type and rcode it answers (for metrics). */
export interface ServedAnswer {
  reply: Buffer;
  type: number;
  rcode: number;
}

const EDNS_VARIANT = 1;
const DO_VARIANT = 2;
const CD_VARIANT = 4;

export class AnswerCache {
  private readonly entries: LRUCache<number, Entry>;
  private readonly zone = new AnswerBlocks();
  private readonly scratch: FastQuery = { hash: 0, nameHash: 0, type: 0, questionEnd: 0, variant: 0, limit: 0 };
  /** By name bucket, the generation of the last change that touched a name in it. */
  private readonly touchedAt = new Uint32Array(TOUCH_BUCKETS);
  /** Answers made before this generation are all stale. */
  private touchedAll = 0;
  /** Heap of forwarded entries, bytes (zone answers are counted by the blocks they take). */
  private forwardBytes = 0;
  /** The entries of each forwarded answer (one per query variant that asked it), by the forwarder's answer. */
  private readonly forwardKeys = new Map<CachedAnswer, number[]>();

  constructor(
    size: number,
    private readonly budgetBytes: number,
    private readonly udpPayloadMax: number,
    /** The zones' SOA serial now: written into every cached reply that carries the SOA. */
    private readonly currentSerial: () => number,
  ) {
    this.entries = boundedCache(size, budgetBytes, (entry) => LRU_SLOTS + (typeof entry === 'number' ? this.zone.size(entry) : forwardCost(entry)), (entry) => {
      if (typeof entry === 'number') this.zone.release(entry);
      else this.forgetForward(entry);
    });
  }

  /** The forwarder let go of `answer`: the entries serving it go as well, so it is held in one place only. */
  dropForwarded(answer: CachedAnswer): void {
    const keys = this.forwardKeys.get(answer);
    if (keys === undefined) return;
    for (const key of [...keys]) {
      const entry = this.entries.peek(key);
      if (typeof entry === 'object' && entry.answer === answer) this.entries.delete(key);
    }
    this.forwardKeys.delete(answer);
  }

  /** A change made `generation`: the answers for `names` (normalised question names) made before it are stale. */
  touch(names: ReadonlySet<string>, generation: number): void {
    if (names.size > TOUCH_ALL) {
      this.touchedAll = generation;
      return;
    }
    for (const name of names) this.touchedAt[(textNameHash(name) & (TOUCH_BUCKETS - 1)) >>> 0] = generation;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Blocks of zone answers held (each 16 KB, or one large answer). */
  get zoneBlocks(): number {
    return this.zone.blockCount;
  }

  /**
   * Heap the cache holds, as counted against its byte budget: every block of zone answers whole (a block a few
   * live entries keep costs all of it), the LRU's slots, forwarded entries.
   */
  get bytes(): number {
    return this.zone.heldBytes + this.entries.size * LRU_SLOTS + this.forwardBytes;
  }

  /**
   * The header, question and OPT of a plain query, read once and passed to the other methods; undefined when the
   * cache has nothing to do with it. The object is reused by the next `read`: copy it to keep it longer.
   */
  read(message: Buffer, viewId = 0): FastQuery | undefined {
    return readFastQuery(message, this.udpPayloadMax, this.scratch, viewId);
  }

  /**
   * The reply to `message` (read by `read` as `query`) from the cache, with its type and rcode, or undefined when
   * the slow path must answer: not cached, stale, or too big for the client.
   * `forwardingAllowed` sets RA and gates forwarded answers; `turns` gives the rotation of a zone answer it serves (src/dns/turns.ts).
   */
  serve(message: Buffer, query: FastQuery, forwardingAllowed: boolean, turns: Turns): ServedAnswer | undefined {
    const entry = this.entries.get(query.hash);
    if (entry === undefined) return undefined;
    const validFrom = this.validFrom(query);
    let reply: Buffer | undefined;
    let meta: number;
    if (typeof entry === 'number') {
      const block = this.zone.block(entry);
      const at = this.zone.offset(entry);
      if (!zoneEntryAnswers(block, at, query, validFrom, message)) return undefined;
      meta = entryMeta(block, at);
      reply = rotationOf(block, at, turns.take(query.nameHash, query.type), query.limit);
      if (reply === undefined) return undefined;
      if (forwardingAllowed) reply[3] = (reply[3] as number) | 0x80;
      const serialAt = entrySerialAt(block, at);
      if (serialAt !== 0) reply.writeUInt32BE(this.currentSerial(), serialAt);
    } else {
      meta = entry.meta;
      if ((meta & 7) !== query.variant || entry.generation < validFrom) return undefined;
      if (!sameQuestion(entry.question, 0, entry.question.length, message, query.questionEnd)) return undefined;
      if (!forwardingAllowed || entry.answer.message.length > query.limit) return undefined;
      reply = Buffer.allocUnsafe(entry.answer.message.length);
      entry.answer.message.copy(reply);
      if (!ageCachedAnswer(entry.answer, reply)) return undefined;
    }
    echoQueryHeader(reply, message, query.questionEnd);
    return { reply, type: meta >>> 7, rcode: (meta >>> 3) & 0xf };
  }

  /** Whether a zone answer for the question in `message` (read as `query`) is cached and fresh (it may still be too big for this client). */
  hasFreshZoneAnswer(message: Buffer, query: FastQuery): boolean {
    const entry = this.entries.peek(query.hash);
    return typeof entry === 'number' && zoneEntryAnswers(this.zone.block(entry), this.zone.offset(entry), query, this.validFrom(query), message);
  }

  /**
   * Keeps a zone answer (its rotations) for the question in `message` (read as `query`), made in `generation`; `serialAt`: where
   * the SOA serial is in every rotation, 0 when they carry none.
   */
  storeZone(message: Buffer, query: FastQuery, type: number, rcode: number, responses: Buffer[], generation: number, serialAt = 0): void {
    if (responses.length === 0) return;
    const questionLength = query.questionEnd - HEADER_SIZE;
    // The first rotation's question lower-cased: what queries are matched against.
    const first = responses[0] as Buffer;
    lowerCaseName(first, HEADER_SIZE, HEADER_SIZE + questionLength - 4);
    const handle = this.zone.store(responses, generation, packMeta(query.variant, type, rcode), questionLength, serialAt);
    this.entries.set(query.hash, handle);
    // Not kept (larger than the whole budget): its bytes go at once.
    if (this.entries.peek(query.hash) !== handle) this.zone.release(handle);
    this.keepWithinBudget();
  }

  /** Keeps a forwarded answer, asked in `generation` (the zone view did not answer it then); served until it expires or a change touches its name. */
  storeForward(message: Buffer, query: FastQuery, type: number, answer: CachedAnswer, generation: number): void {
    const question = Buffer.from(message.subarray(HEADER_SIZE, query.questionEnd));
    lowerCaseName(question, 0, question.length - 4);
    const key = query.hash;
    const entry: ForwardEntry = { question, answer, generation, key, meta: packMeta(query.variant, type, (answer.message[3] as number) & 0xf) };
    this.entries.set(key, entry);
    if (this.entries.peek(key) === entry) {
      this.forwardBytes += forwardCost(entry);
      const keys = this.forwardKeys.get(answer);
      if (keys === undefined) this.forwardKeys.set(answer, [key]);
      else keys.push(key);
    }
    this.keepWithinBudget();
  }

  private forgetForward(entry: ForwardEntry): void {
    this.forwardBytes -= forwardCost(entry);
    const keys = this.forwardKeys.get(entry.answer);
    if (keys === undefined) return;
    const at = keys.indexOf(entry.key);
    if (at >= 0) keys.splice(at, 1);
    if (keys.length === 0) this.forwardKeys.delete(entry.answer);
  }

  /** The generation an answer to `query` must have been made in (or after) to be fresh. */
  private validFrom(query: FastQuery): number {
    return Math.max(this.touchedAll, this.touchedAt[(query.nameHash & (TOUCH_BUCKETS - 1)) >>> 0] as number);
  }

  /** Least recently used entries go until what the cache holds fits its budget: blocks kept by few entries are what goes. */
  private keepWithinBudget(): void {
    while (this.bytes > this.budgetBytes && this.entries.size > 0) this.entries.pop();
  }
}

/** What a forwarded entry holds of its own beyond its LRU slots: the answer itself is the forwarder's, in its budget. */
function forwardCost(entry: ForwardEntry): number {
  return FORWARD_ENTRY + bufferCost(entry.question);
}

/** FNV-1a of a normalised name in text form, as `readFastQuery` hashes it on the wire: label lengths and bytes, the root label last. */
export function textNameHash(name: string): number {
  let hash = 0x811c9dc5;
  let start = 0;
  while (name.length > 0) {
    let end = name.indexOf('.', start);
    if (end < 0) end = name.length;
    hash = Math.imul(hash ^ (end - start), 0x01000193);
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ (name.charCodeAt(i) & 0xff), 0x01000193);
    if (end === name.length) break;
    start = end + 1;
  }
  return Math.imul(hash ^ 0, 0x01000193);
}

/**
 * Reads header, question and OPT of a plain query into `into`: QUERY opcode,
 * one question, no other records but an OPT of version 0,
 * nothing after it. Anything else is for the slow path (undefined).
 */
function readFastQuery(message: Buffer, udpPayloadMax: number, into: FastQuery, viewId: number): FastQuery | undefined {
  const length = message.length;
  if (length < HEADER_SIZE + 5) return undefined;
  // QR clear, opcode 0; exactly one question and no answer or authority records.
  if (((message[2] as number) & 0xf8) !== 0 || message[4] !== 0 || message[5] !== 1) return undefined;
  if (message[6] !== 0 || message[7] !== 0 || message[8] !== 0 || message[9] !== 0 || message[10] !== 0) return undefined;
  const additional = message[11] as number;
  if (additional > 1) return undefined;

  // FNV-1a over the lower-cased question.
  let hash = 0x811c9dc5;
  let offset = HEADER_SIZE;
  for (;;) {
    const labelLength = message[offset];
    if (labelLength === undefined || labelLength > 63) return undefined;
    hash = Math.imul(hash ^ labelLength, 0x01000193);
    offset++;
    if (labelLength === 0) break;
    const end = offset + labelLength;
    if (end > length || end > HEADER_SIZE + 255) return undefined;
    for (; offset < end; offset++) hash = Math.imul(hash ^ lowerCaseByte(message[offset] as number), 0x01000193);
  }
  const nameHash = hash;
  const questionEnd = offset + 4;
  if (questionEnd > length) return undefined;
  for (; offset < questionEnd; offset++) hash = Math.imul(hash ^ (message[offset] as number), 0x01000193);

  let variant = ((message[3] as number) & 0x10) !== 0 ? CD_VARIANT : 0;
  let limit = 512;
  if (additional === 0) {
    if (questionEnd !== length) return undefined;
  } else {
    // OPT: root owner, type 41, version 0, well-formed options (all ignored, as unknown ones must be), then the end.
    const o = questionEnd;
    if (o + 11 > length || message[o] !== 0 || message[o + 1] !== 0 || message[o + 2] !== 41 || message[o + 6] !== 0) return undefined;
    let option = o + 11;
    if (option + message.readUInt16BE(o + 9) !== length) return undefined;
    while (option < length) {
      if (option + 4 > length) return undefined;
      option += 4 + message.readUInt16BE(option + 2);
    }
    if (option !== length) return undefined;
    const payload = message.readUInt16BE(o + 3);
    limit = Math.min(Math.max(payload, 512), udpPayloadMax);
    variant |= EDNS_VARIANT | (((message[o + 7] as number) & 0x80) !== 0 ? DO_VARIANT : 0);
  }
  // A signed 32-bit key: a small integer to V8, never a boxed number. Each view (below 2^29) of one question has its
  // own key, so one question is never answered from another view's entry.
  into.hash = hash ^ variant ^ (viewId << 3);
  into.nameHash = nameHash;
  into.type = message.readUInt16BE(questionEnd - 4);
  into.questionEnd = questionEnd;
  into.variant = variant;
  into.limit = limit;
  return into;
}

/** Whether the zone answer at `at` in `block` answers the query in `message`: its variant, made in `validFrom` or later, its question. */
function zoneEntryAnswers(block: Buffer, at: number, query: FastQuery, validFrom: number, message: Buffer): boolean {
  return (
    (entryMeta(block, at) & 7) === query.variant &&
    entryGeneration(block, at) >= validFrom &&
    sameQuestion(block, entryQuestionAt(block, at), entryQuestionLength(block, at), message, query.questionEnd)
  );
}

/** Whether the question in `message` is the stored one at `stored[at, at + length)`, letter case aside. */
function sameQuestion(stored: Buffer, at: number, length: number, message: Buffer, questionEnd: number): boolean {
  if (length !== questionEnd - HEADER_SIZE) return false;
  const nameEnd = length - 4;
  for (let i = 0; i < length; i++) {
    const c = message[HEADER_SIZE + i] as number;
    if ((i < nameEnd ? lowerCaseByte(c) : c) !== stored[at + i]) return false;
  }
  return true;
}
