// Caches bounded by the heap they hold: the answer cache and the forwarder's.
import { LRUCache } from 'lru-cache';

/**
 * Heap bytes an entry costs beyond the bytes of its messages: the entry
 * object, its key and list slots in the LRU, and a Buffer object per message.
 * Estimated from heap snapshots (V8, 64-bit: a Buffer object is about 90
 * bytes, an entry object with its LRU slots about 150); an estimate, not an
 * exact account.
 */
export const ENTRY_OVERHEAD = 200;
const BUFFER_OVERHEAD = 100;

/**
 * An LRU of `budgetBytes` by size and, when it could bind, `maxEntries` by
 * count. lru-cache allocates its slot arrays for `max` at once, so an entry
 * bound the byte budget could never reach (250,000 entries at the default
 * budget cost 7 MB before the first query) is left out.
 */
export function boundedCache<K extends {}, V extends {}>(maxEntries: number, budgetBytes: number, sizeOf: (value: V) => number): LRUCache<K, V> {
  const entries = Math.max(1, maxEntries);
  const budget = Math.max(1, budgetBytes);
  return new LRUCache<K, V>({
    ...(entries < budget / ENTRY_OVERHEAD ? { max: entries } : {}),
    maxSize: budget,
    sizeCalculation: (value) => Math.max(1, sizeOf(value)),
  });
}

/** Heap bytes of a message kept in a cache, with its Buffer object. */
export function bufferCost(buffer: Buffer): number {
  return buffer.length + BUFFER_OVERHEAD;
}

