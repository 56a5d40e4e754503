// Whose turn it is to come first: the one round robin of a name's records. Every answer of the zone view, from
// the answer cache or built afresh (TCP, a query the cache does not keep), takes its rotation from here, so a
// name's addresses take turns whatever path its queries take. One counter per bucket of (name, type): names that
// share a bucket only share a sequence, which still gives each rotation in turn.
import { textNameHash } from './answer-cache.js';

const BUCKETS = 1 << 16;

export class Turns {
  private readonly next = new Uint16Array(BUCKETS);

  /** The turn of the next answer to a question whose name hashes to `nameHash` (textNameHash, or the cache's read of it). */
  take(nameHash: number, type: number): number {
    const bucket = ((nameHash ^ Math.imul(type, 0x9e3779b1)) & (BUCKETS - 1)) >>> 0;
    const turn = this.next[bucket] as number;
    this.next[bucket] = turn + 1;
    return turn;
  }

  /** The turn of the next answer to `name` (normalised) of `type`. */
  takeForName(name: string, type: number): number {
    return this.take(textNameHash(name), type);
  }
}
