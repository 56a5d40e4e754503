// seamark's own small interface to etcd v3, and its implementation over the
// npm `etcd3` package. Everything else in cluster mode speaks only this
// interface, so a client generated from etcd's protos could replace it.
import { readFileSync } from 'node:fs';
import { ConsecutiveBreaker, ExponentialBackoff, circuitBreaker, handleWhen, retry } from 'cockatiel';
import { Etcd3, isRecoverableError, type IOptions, type IWatchResponse } from 'etcd3';
import type { Config } from '../config/schema.js';

type WatchBackoff = NonNullable<NonNullable<IOptions['faultHandling']>['watchBackoff']>;

export interface KeyValue {
  key: string;
  value: string;
  /** Revision of the last change of this key. */
  modRevision: number;
  /** The lease the key lives on ('0': none); set on listed keys. */
  lease?: string;
}

export interface WatchEvent extends KeyValue {
  kind: 'put' | 'delete';
}

/** One write of a transaction: a put (on a lease when given) or a delete. */
export type WriteOp = { put: string; value: string; lease?: string } | { remove: string };

/**
 * What a transaction holds to, or nothing of it is written (WriteConflictError): a key's mod revision (0: the key
 * is absent), or the lease a key lives on. A write of several transactions (over 128 operations) checks it in each.
 */
export type WriteGuard = { key: string; modRevision: number } | { key: string; lease: string };

/** A guarded write found its key changed: nothing was written. */
export class WriteConflictError extends Error {}

export interface WatchHandlers {
  /** Every event of one watch response, in revision order. */
  onEvents(events: WatchEvent[]): void;
  /** The watch stopped (disconnected, cancelled, compacted): the caller lists again. Called at most once. */
  onBroken(reason: string): void;
}

export interface EtcdClient {
  /** Every key under a prefix, at one revision. */
  list(prefix: string): Promise<{ revision: number; entries: KeyValue[] }>;
  /** Applies the writes in one transaction (several beyond 128 operations); resolves with the last revision once etcd committed them. */
  write(ops: WriteOp[], guard?: WriteGuard): Promise<number>;
  /** A new lease of `ttl` seconds; resolves with its id. */
  grantLease(ttl: number): Promise<string>;
  /** Renews a lease once; false when etcd no longer knows it (it expired). */
  keepAlive(lease: string): Promise<boolean>;
  /** Seconds since a lease was last renewed (granted TTL less remaining TTL), or undefined when it is gone. */
  leaseAge(lease: string): Promise<number | undefined>;
  revokeLease(lease: string): Promise<void>;
  /** The `--etcd` endpoints, in the order given. */
  readonly endpoints: readonly string[];
  /** A reader bound to one member: its list and watch go to that member only, so a frozen member is left by moving to another. */
  reader(endpoint: string): EtcdReader;
  close(): void;
}

/** Reads through one etcd member; `close` drops its connection (and a watch stuck on it). */
export interface EtcdReader {
  readonly endpoint: string;
  /** Every key under a prefix, at one revision. */
  list(prefix: string): Promise<{ revision: number; entries: KeyValue[] }>;
  /**
   * Watches a prefix from a revision on. The member is asked for a progress report every second; a member
   * silent for WATCH_SILENCE_MS (frozen, partitioned) ends the watch through onBroken, as does every error.
   */
  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): { cancel(): void };
  close(): void;
}

/** etcd did not answer (down, no quorum, unreachable): the operation may be retried later. */
export class EtcdUnavailableError extends Error {}

/** etcd's default --max-txn-ops: larger writes go in several transactions of this size. */
const MAX_TXN_OPS = 128;

/** How long one request may wait for etcd before it fails as unavailable. */
const CALL_DEADLINE_MS = 3000;

/**
 * How long one attempt of a request may wait for one member: a frozen member costs a write this long before the
 * next attempt goes to another member (an attempt picks members in turn). Four attempts cover an election.
 */
const CALL_ATTEMPT_MS = 1000;
const CALL_RETRIES = 3;

/** A watch whose member answers no progress request for this long is given up (the member is frozen or cut off). */
export const WATCH_SILENCE_MS = 3000;
const WATCH_PROGRESS_EVERY_MS = 1000;

/**
 * gRPC keepalive on every connection: a member that accepts connections but never answers (a stopped process, a
 * half-open TCP link) fails its calls and streams within time + timeout instead of never. etcd refuses pings more
 * often than its --grpc-keepalive-min-time (5 s by default) with GOAWAY, hence 10 s.
 */
const KEEPALIVE_GRPC_OPTIONS = { 'grpc.keepalive_time_ms': 10000, 'grpc.keepalive_timeout_ms': 3000 };

/** One lease keep-alive attempt's share of the deadline, and how many attempts (each on a member picked afresh). */
const KEEPALIVE_ATTEMPT_MS = 1000;
const KEEPALIVE_ATTEMPTS = 4;

export function etcdOptions(config: Pick<Config, 'etcd' | 'etcdCa' | 'etcdCert' | 'etcdKey' | 'etcdUsername' | 'etcdPassword'>): IOptions {
  const readPem = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new Error(`cannot read the etcd ${what} ${file}: ${(error as Error).message}`);
    }
  };
  return {
    hosts: config.etcd,
    dialTimeout: CALL_DEADLINE_MS,
    grpcOptions: KEEPALIVE_GRPC_OPTIONS,
    ...(config.etcdCa === undefined
      ? {}
      : {
          credentials: {
            rootCertificate: readPem(config.etcdCa, 'CA file'),
            ...(config.etcdCert === undefined || config.etcdKey === undefined
              ? {}
              : { certChain: readPem(config.etcdCert, 'client certificate'), privateKey: readPem(config.etcdKey, 'client key') }),
          },
        }),
    ...(config.etcdUsername === undefined || config.etcdPassword === undefined ? {} : { auth: { username: config.etcdUsername, password: config.etcdPassword } }),
    // Unary calls fail within a few seconds so an API write gets its 503 quickly; streams live on.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + CALL_ATTEMPT_MS }),
    faultHandling: {
      // etcd3's defaults back a watch off up to 30 s and open a host's breaker for 5 s: a node would lag
      // far behind a recovered etcd. A few seconds at most. Three failures open it: opening on the first one
      // left every member's breaker open after a few member restarts, and writes failed at once with 503.
      host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(3) }),
      global: retry(handleWhen(isRecoverableError), { maxAttempts: CALL_RETRIES, backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 500 }) }),
      // etcd3 1.1 calls `.next()` on this itself; its type says IBackoff, its default is this same factory.
      watchBackoff: new ExponentialBackoff({ initialDelay: 200, maxDelay: 2000 }) as unknown as WatchBackoff,
    },
  };
}

export function connectEtcd(options: IOptions): EtcdClient {
  const etcd = new Etcd3(options);

  const endpoints = typeof options.hosts === 'string' ? [options.hosts] : [...(options.hosts ?? [])];
  // Keep-alives go through a client of one member at a time, the last that answered: a frozen or dead member
  // costs one attempt, then the next member is used until it fails in turn.
  const memberClients = new Map<string, Etcd3>();
  let keepAliveMember = 0;
  const memberClient = (endpoint: string) => {
    let client = memberClients.get(endpoint);
    if (client === undefined) {
      client = new Etcd3(singleMemberOptions(options, endpoint));
      memberClients.set(endpoint, client);
    }
    return client;
  };
  const keepAliveOnce = async (member: Etcd3, lease: string, timeoutMs: number): Promise<boolean> => {
    const stream = await member.leaseClient.leaseKeepAlive();
    try {
      const response = await new Promise<{ TTL: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new EtcdUnavailableError('etcd did not answer a lease keep-alive')), timeoutMs);
        stream.on('data', (data: { TTL: string }) => {
          clearTimeout(timer);
          resolve(data);
        });
        stream.on('error', (error: Error) => {
          clearTimeout(timer);
          reject(error);
        });
        stream.write({ ID: lease });
      });
      return Number(response.TTL) > 0;
    } finally {
      stream.end();
    }
  };

  return {
    endpoints,
    reader: (endpoint) => connectReader(options, endpoint),
    list: (prefix) => call(() => listPrefix(etcd, prefix)),
    write: (ops, guard) =>
      call(async () => {
        let revision = 0;
        // etcd refuses a transaction of more than --max-txn-ops (128 by default) operations.
        for (let start = 0; start < ops.length || start === 0; start += MAX_TXN_OPS) {
          const success = ops.slice(start, start + MAX_TXN_OPS).map((op) =>
            'put' in op
              ? { request_put: { key: Buffer.from(op.put), value: Buffer.from(op.value), ...(op.lease === undefined ? {} : { lease: op.lease }) } }
              : { request_delete_range: { key: Buffer.from(op.remove) } },
          );
          const compare =
            guard === undefined
              ? []
              : [
                  'lease' in guard
                    ? { key: Buffer.from(guard.key), target: 'Lease' as const, result: 'Equal' as const, lease: guard.lease }
                    : { key: Buffer.from(guard.key), target: 'Mod' as const, result: 'Equal' as const, mod_revision: guard.modRevision },
                ];
          const response = await etcd.kv.txn({ compare, success, failure: [] });
          if (!response.succeeded) throw new WriteConflictError(`${guard?.key ?? 'a key'} changed meanwhile: nothing was written`);
          revision = Number(response.header.revision);
        }
        return revision;
      }),
    grantLease: (ttl) => call(async () => (await etcd.leaseClient.leaseGrant({ TTL: ttl, ID: 0 })).ID),
    async keepAlive(lease) {
      // A keep-alive is a stream on one member, and etcd3 picks that member at random without retrying: with one
      // member of three down or frozen, a third of keep-alives would fail and a short lease could run out. Each
      // attempt gets a share of the deadline on the member that answered last; a failed one moves to the next member.
      const deadline = Date.now() + CALL_DEADLINE_MS;
      let lastError: unknown;
      for (let attempt = 0; attempt < KEEPALIVE_ATTEMPTS && Date.now() < deadline; attempt++) {
        const endpoint = endpoints[keepAliveMember % endpoints.length] as string;
        try {
          return await call(() => keepAliveOnce(memberClient(endpoint), lease, Math.min(KEEPALIVE_ATTEMPT_MS, deadline - Date.now())));
        } catch (error) {
          if (!(error instanceof EtcdUnavailableError)) throw error;
          lastError = error;
          // Its connection may be stuck on a frozen process: the next use of this member dials afresh.
          memberClients.get(endpoint)?.close();
          memberClients.delete(endpoint);
          keepAliveMember++;
        }
      }
      throw lastError ?? new EtcdUnavailableError('etcd did not answer a lease keep-alive');
    },
    leaseAge: (lease) =>
      call(async () => {
        const response = await etcd.leaseClient.leaseTimeToLive({ ID: lease, keys: false });
        const remaining = Number(response.TTL);
        return remaining > 0 ? Math.max(0, Number(response.grantedTTL) - remaining) : undefined;
      }),
    revokeLease: (lease) =>
      call(async () => {
        try {
          await etcd.leaseClient.leaseRevoke({ ID: lease });
        } catch (error) {
          if (!/not found/i.test((error as Error).message)) throw error;
        }
      }),
    close() {
      for (const client of memberClients.values()) client.close();
      etcd.close();
    },
  };
}

/** The options of a client of one member only, that leaves retrying on another member to its caller. */
function singleMemberOptions(options: IOptions, endpoint: string): IOptions {
  return { ...options, hosts: [endpoint], faultHandling: { ...options.faultHandling, global: retry(handleWhen(() => false), { maxAttempts: 0 }) } };
}

/** Runs an etcd call; an error that means etcd did not answer becomes EtcdUnavailableError. */
async function call<R>(work: () => Promise<R>): Promise<R> {
  try {
    return await work();
  } catch (error) {
    if (isRecoverableError(error as Error) || /deadline|unavailable|ECONNREFUSED|No connection|circuit|cancelled|closed/i.test(String((error as Error).message))) {
      throw new EtcdUnavailableError(`etcd is unreachable: ${(error as Error).message}`);
    }
    throw error;
  }
}

async function listPrefix(etcd: Etcd3, prefix: string): Promise<{ revision: number; entries: KeyValue[] }> {
  const response = await etcd.kv.range({ key: Buffer.from(prefix), range_end: prefixEnd(prefix) });
  return {
    revision: Number(response.header.revision),
    entries: response.kvs.map((kv) => ({ key: kv.key.toString(), value: kv.value.toString(), modRevision: Number(kv.mod_revision), lease: String(kv.lease) })),
  };
}

/**
 * A client of one member. The watch speaks etcd's watch stream itself rather than through etcd3's watcher: etcd3
 * shares one stream among all watchers, keeps it on a frozen member (a cancel waits for an answer that never comes),
 * and cannot ask for progress (it throws on the answer). Here silence is noticed and the stream dropped.
 */
function connectReader(options: IOptions, endpoint: string): EtcdReader {
  const etcd = new Etcd3(singleMemberOptions(options, endpoint));
  return {
    endpoint,
    list: (prefix) => call(() => listPrefix(etcd, prefix)),
    watch(prefix, fromRevision, handlers) {
      let stream: Awaited<ReturnType<Etcd3['watchClient']['watch']>> | undefined;
      let ended = false;
      let lastHeard = Date.now();
      const end = (reason: string | undefined) => {
        if (ended) return;
        ended = true;
        clearInterval(heartbeat);
        stream?.on('error', () => undefined);
        stream?.cancel();
        if (reason !== undefined) handlers.onBroken(reason);
      };
      const heartbeat = setInterval(() => {
        if (Date.now() - lastHeard > WATCH_SILENCE_MS) end(`etcd member ${endpoint} did not answer the watch for ${WATCH_SILENCE_MS / 1000} s`);
        else if (stream !== undefined) stream.write({ progress_request: {} });
      }, WATCH_PROGRESS_EVERY_MS);
      heartbeat.unref();
      etcd.watchClient.watch().then(
        (opened) => {
          if (ended) {
            opened.on('error', () => undefined);
            opened.cancel();
            return;
          }
          stream = opened;
          opened.on('data', (response: IWatchResponse) => {
            if (ended) return;
            lastHeard = Date.now();
            if (response.canceled) {
              end(`watch cancelled${Number(response.compact_revision) > 0 ? ` (history compacted to ${response.compact_revision})` : ''}`);
              return;
            }
            const events: WatchEvent[] = (response.events ?? []).map((event) => ({
              kind: String(event.type) === 'Delete' ? 'delete' : 'put',
              key: event.kv.key.toString(),
              value: event.kv.value.toString(),
              modRevision: Number(event.kv.mod_revision),
              lease: String(event.kv.lease),
            }));
            if (events.length > 0) handlers.onEvents(events);
          });
          opened.on('error', (error: Error) => end(`watch on ${endpoint} failed: ${error.message}`));
          opened.on('end', () => end(`watch on ${endpoint} ended`));
          opened.write({ create_request: { key: Buffer.from(prefix), range_end: prefixEnd(prefix), start_revision: String(fromRevision), progress_notify: true } });
        },
        (error: Error) => end(`watch on ${endpoint} could not start: ${error.message}`),
      );
      return { cancel: () => end(undefined) };
    },
    close: () => etcd.close(),
  };
}

/** The first key after every key with this prefix (etcd's range_end for a prefix). */
function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
