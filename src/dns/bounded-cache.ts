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
 * An LRU of `budgetBytes` by size and `maxEntries` by count. lru-cache
 * allocates its slot arrays for `max` at once (250,000 entries, the default,
 * cost 8.5 MB before the first query), so the count is bound through the
 * size instead: every entry is charged at least `budgetBytes / maxEntries`
 * bytes, so about `maxEntries` of them fit (lru-cache counts whole bytes: the
 * charge is rounded down, which lets 0.2 % more in at the defaults).
 */
export function boundedCache<K extends {}, V extends {}>(
  maxEntries: number,
  budgetBytes: number,
  sizeOf: (value: V) => number,
  /** Called with every value that leaves the cache: evicted, replaced or deleted. */
  dispose?: (value: V) => void,
): LRUCache<K, V> {
  const budget = Math.max(1, budgetBytes);
  const leastCost = Math.max(1, Math.floor(budget / Math.max(1, maxEntries)));
  return new LRUCache<K, V>({
    maxSize: budget,
    sizeCalculation: (value) => Math.max(leastCost, sizeOf(value)),
    ...(dispose === undefined ? {} : { dispose: (value: V) => dispose(value) }),
  });
}

/** Heap bytes of a message kept in a cache, with its Buffer object. */
export function bufferCost(buffer: Buffer): number {
  return buffer.length + BUFFER_OVERHEAD;
}

