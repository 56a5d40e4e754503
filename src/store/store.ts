// What the manual source needs from a place that keeps records: the contract
// an embedded disk store and (later) an etcd store both fulfil.

/** Anything kept by id; the store does not look inside beyond that. */
export interface StoredRecord {
  id: string;
}

/**
 * Says why a loaded value is not a valid record, or undefined when it is.
 * The store turns a problem into a StoreCorruptError naming where it came from.
 */
export type RecordCheck = (value: unknown) => string | undefined;

export interface RecordStore<T extends StoredRecord> {
  /** Where the records live, for messages: a directory, an etcd prefix. */
  readonly location: string;
  /** Every record, each checked; throws StoreCorruptError on the first unreadable one. */
  load(check: RecordCheck): Promise<T[]>;
  /** Creates or replaces a record; resolves only once it is durable. */
  put(record: T): Promise<void>;
  /** Removes a record (no error when absent); resolves only once that is durable. */
  remove(id: string): Promise<void>;
  /**
   * Reports changes made to the store by others (other nodes of a cluster),
   * newest last; a store only this process writes has none. `undefined`: removed.
   */
  watch?(onChange: (id: string, record: T | undefined) => void): void;
}

/** The store cannot take a write now (etcd unreachable, no quorum): nothing was written; try again later. */
export class StoreUnavailableError extends Error {}

/** A stored record that cannot be read: start-up stops, and the file is left as it is. */
export class StoreCorruptError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`record store file ${file} is unreadable (${reason}); seamark leaves it untouched: repair or move it away, then start again`);
  }
}
