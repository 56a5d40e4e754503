// The zone answers of the answer cache, packed into blocks. An entry is a
// small integer, its handle: which block and where in it. Its few fields
// are a header in front of its bytes, so a cached name costs no JavaScript
// object and no Buffer object of its own (with 100,000 names asked, the
// cache's zone answers are most of its memory). A block is freed with the
// last entry in it; the cache tells which entries are gone (`release`).
import { HEADER_SIZE } from './wire/read.js';

/** Bytes of a block: room for a few hundred small answers. */
const BLOCK_SIZE = 16384;
/** Entries start on 8-byte boundaries: a handle counts in these. */
const ALIGN = 8;
const OFFSET_BITS = 11; // BLOCK_SIZE / ALIGN = 2 ** 11
const OFFSET_MASK = (1 << OFFSET_BITS) - 1;
/** An entry bigger than this gets a block of its own (of its size), so a block never wastes more than an eighth. */
const LARGEST_SHARED = BLOCK_SIZE / 8;

// The header: where each field is, from the entry's start.
const GENERATION = 0; // float64: the registry generation the answer was made in
const META = 8; // uint32: variant, rcode and type (the cache's packMeta)
const QUESTION_LENGTH = 12; // uint16: the question's bytes (name, type, class)
const ROTATIONS = 14; // uint8: how many rotations of the answer follow
// byte 15: unused (the turn of a rotation is the request path's, src/dns/turns.ts)
const SERIAL_AT = 16; // uint16: where the SOA serial is in every rotation (0: no SOA), written afresh on every reply
const LENGTHS = 18; // uint16 per rotation: its length
/** Where rotations start, for an entry of `rotations`. */
const dataStart = (rotations: number) => LENGTHS + 2 * rotations;

export class AnswerBlocks {
  private readonly blocks: (Buffer | undefined)[] = [];
  /** Entries in each block that are still in the cache. */
  private readonly live: number[] = [];
  private readonly unused: number[] = [];
  /** The block small entries go to, and how much of it is taken. */
  private current = -1;
  private used = 0;
  /** Bytes of every block held: what the cache really costs, however few live entries keep a block. */
  private held = 0;

  /**
   * Keeps the rotations of one answer (each at most 65,535 bytes, at most
   * 255 of them; the first holds the question lower-cased) and returns its
   * handle. `serialAt`: where the SOA serial is in each rotation, 0 when there is none.
   */
  store(rotations: readonly Buffer[], generation: number, meta: number, questionLength: number, serialAt = 0): number {
    const start = dataStart(rotations.length);
    let size = start;
    for (const rotation of rotations) size += rotation.length;
    let index: number;
    let offset = 0;
    if (size > LARGEST_SHARED) {
      index = this.newBlock(size);
    } else {
      if (this.current < 0 || this.used + size > BLOCK_SIZE) {
        this.retireCurrent();
        this.current = this.newBlock(BLOCK_SIZE);
        this.used = 0;
      }
      index = this.current;
      offset = this.used;
      this.used += (size + ALIGN - 1) & ~(ALIGN - 1);
    }
    const block = this.blocks[index] as Buffer;
    block.writeDoubleLE(generation, offset + GENERATION);
    block.writeUInt32LE(meta >>> 0, offset + META);
    block.writeUInt16LE(questionLength, offset + QUESTION_LENGTH);
    block[offset + ROTATIONS] = rotations.length;
    block.writeUInt16LE(serialAt, offset + SERIAL_AT);
    let at = offset + start;
    rotations.forEach((rotation, i) => {
      block.writeUInt16LE(rotation.length, offset + LENGTHS + 2 * i);
      at += rotation.copy(block, at);
    });
    this.live[index] = (this.live[index] as number) + 1;
    return (index << OFFSET_BITS) | (offset / ALIGN);
  }

  /** The entry is out of the cache: its block goes once nothing in it is left. */
  release(handle: number): void {
    const index = handle >>> OFFSET_BITS;
    const live = (this.live[index] as number) - 1;
    this.live[index] = live;
    if (live === 0 && index !== this.current) this.freeBlock(index);
  }

  /** The block holding the entry. */
  block(handle: number): Buffer {
    return this.blocks[handle >>> OFFSET_BITS] as Buffer;
  }

  /** Where in its block the entry starts. */
  offset(handle: number): number {
    return (handle & OFFSET_MASK) * ALIGN;
  }

  /** Bytes the entry takes in its block. */
  size(handle: number): number {
    const block = this.block(handle);
    const offset = this.offset(handle);
    const rotations = block[offset + ROTATIONS] as number;
    let size = dataStart(rotations);
    for (let i = 0; i < rotations; i++) size += block.readUInt16LE(offset + LENGTHS + 2 * i);
    return size;
  }

  /** Blocks held now (each 16 KB, or one large answer). */
  get blockCount(): number {
    return this.blocks.length - this.unused.length;
  }

  /** Bytes of the blocks held now. */
  get heldBytes(): number {
    return this.held;
  }

  private newBlock(size: number): number {
    const index = this.unused.pop() ?? this.blocks.length;
    this.blocks[index] = Buffer.allocUnsafeSlow(size);
    this.held += size;
    this.live[index] = 0;
    return index;
  }

  /** The current block takes no more entries; it goes now if none of its entries is left. */
  private retireCurrent(): void {
    const index = this.current;
    this.current = -1;
    if (index >= 0 && this.live[index] === 0) this.freeBlock(index);
  }

  private freeBlock(index: number): void {
    this.held -= (this.blocks[index] as Buffer).length;
    this.blocks[index] = undefined;
    this.unused.push(index);
  }
}

// Reading an entry, at `at` in `block` (`AnswerBlocks.block` and `.offset` of its handle): the answer
// cache finds those once per query and reads the fields it needs.

export function entryGeneration(block: Buffer, at: number): number {
  return block.readDoubleLE(at + GENERATION);
}

export function entryMeta(block: Buffer, at: number): number {
  return block.readUInt32LE(at + META);
}

/** Where the question starts (after the first rotation's message header); it is `entryQuestionLength` bytes long. */
export function entryQuestionAt(block: Buffer, at: number): number {
  return at + dataStart(block[at + ROTATIONS] as number) + HEADER_SIZE;
}

export function entryQuestionLength(block: Buffer, at: number): number {
  return block.readUInt16LE(at + QUESTION_LENGTH);
}

/** Where the SOA serial is in a reply of the entry, 0 when it carries no SOA. */
export function entrySerialAt(block: Buffer, at: number): number {
  return block.readUInt16LE(at + SERIAL_AT);
}

/** A copy of rotation `turn` (modulo how many there are) of the entry, or undefined when it is longer than `limit`. */
export function rotationOf(block: Buffer, at: number, turn: number, limit: number): Buffer | undefined {
  const rotations = block[at + ROTATIONS] as number;
  const chosen = rotations > 1 ? turn % rotations : 0;
  let start = at + dataStart(rotations);
  for (let i = 0; i < chosen; i++) start += block.readUInt16LE(at + LENGTHS + 2 * i);
  const length = block.readUInt16LE(at + LENGTHS + 2 * chosen);
  if (length > limit) return undefined;
  const reply = Buffer.allocUnsafe(length);
  block.copy(reply, 0, start, start + length);
  return reply;
}
