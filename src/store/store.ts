// What the manual source needs from a place that keeps records: the contract
// the embedded disk store fulfils, and an etcd store can (cluster mode).

/** Anything kept by id; the store looks inside no further than its lease. */
export interface StoredRecord {
  id: string;
  /** Seconds the record lives unless renewed (a store that expires leases itself reads this). */
  lease?: number;
  /** When the lease lapses, as the writing node reckoned it. */
  expiresAt?: string;
}

/**
 * Says why a loaded value is not a valid record, or undefined when it is.
 * The store reports such a value as unreadable, naming where it came from.
 */
export type RecordCheck = (value: unknown) => string | undefined;

/** A stored record that could not be read. It is left exactly as it is. */
export interface UnreadableRecord {
  /** The record id it is kept under, when the store can tell. */
  id: string | undefined;
  /** Where it lives: a file, an etcd key. */
  location: string;
  reason: string;
}

export interface LoadResult<T> {
  records: T[];
  unreadable: UnreadableRecord[];
}

export interface RecordStore<T extends StoredRecord> {
  /** Where the records live, for messages: a directory, an etcd prefix. */
  readonly location: string;
  /**
   * Every record that reads and passes `check`, and every one that does not.
   * A store that cannot read its records at all right now (its directory
   * cannot be made or read) returns none when given `onLateLoad`, reports the
   * fault, and hands them to `onLateLoad` once it can; without it, it throws.
   */
  load(check: RecordCheck, onLateLoad?: (result: LoadResult<T>) => void): Promise<LoadResult<T>>;
  /** Creates or replaces a record; resolves only once it is durable. Throws StoreUnavailableError when it cannot write now. */
  put(record: T): Promise<void>;
  /** Removes a record (no error when absent); resolves only once that is durable. Throws StoreUnavailableError when it cannot. */
  remove(id: string): Promise<void>;
  /**
   * Reports changes made to the store by others (other nodes of a cluster),
   * newest last; a store only this process writes has none. `undefined`: removed.
   */
  watch?(onChange: (id: string, record: T | undefined) => void): void;
  /**
   * Says whether the store can write: a description of the fault (for the log
   * and /readyz: it may name paths) when writes fail, undefined once they work
   * again. The store notices by itself (it retries) and on the next write.
   */
  onFault?(listener: (fault: string | undefined) => void): void;
  /** Stops whatever the store runs in the background (retries). */
  stop?(): void;
  /**
   * The store removes a leased record itself when its lease lapses (etcd's leases in cluster mode): the caller
   * keeps no deadline of its own and removes nothing by its own clock.
   */
  readonly expiresLeases?: boolean;
}

/**
 * The store cannot take a write right now (disk full, out of file descriptors,
 * etcd unreachable); nothing was changed and the client may retry. The HTTP API
 * answers it with 503. The message must not reveal paths or addresses.
 */
export class StoreUnavailableError extends Error {}
/**
 * A write built on a state of the record that is no longer the stored one (another node changed it meanwhile):
 * nothing was written. The HTTP API answers 409; the client reads the record again and retries.
 */
export class StoreConflictError extends Error {}
/** The store's disk is full (or its quota used up): a write can succeed once space is freed. */
export class StoreFullError extends StoreUnavailableError {}

/** How an unreadable record is reported: in the log, on /readyz, in the store's errors. */
export function describeUnreadable(entry: UnreadableRecord): string {
  return `record store entry ${entry.location} is unreadable (${entry.reason}); seamark serves every other record and leaves this one untouched: repair or move it away`;
}
