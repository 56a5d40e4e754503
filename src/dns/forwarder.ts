// Forwards names outside the zones to upstream resolvers, over UDP (TCP when
// the client asked over TCP and UDP came back truncated), with a bounded
// cache that honours the upstream TTLs and serves them counted down.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { randomId } from './random-ids.js';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { LRUCache } from 'lru-cache';
import { ENTRY_OVERHEAD, boundedCache, bufferCost } from './bounded-cache.js';
import type { Log } from '../ops/log.js';
import type { Endpoint } from '../config/addresses.js';
import { parseEndpoint } from '../config/addresses.js';
import { RRType, Rcode } from '../zone/records.js';
import { HEADER_SIZE, questionEndOf, readRecordHeader, skipName, ttlOffsets, type Query } from './wire/read.js';
import { echoQueryHeader, lowerCaseName } from './wire/write.js';
import { scrubResponse, type ChainLink } from './scrub.js';
import { literalAddress } from './udp.js';

export interface ForwarderOptions {
  upstreams: Endpoint[];
  timeoutMs: number;
  cacheSize: number;
  /** Heap the cache may hold, bytes. */
  cacheBytes: number;
  /** Largest UDP payload announced upstream. */
  payloadSize: number;
  /** How long a lookup every upstream failed is answered SERVFAIL without asking again, ms (RFC 9520). */
  failureTtlMs: number;
  /** Whether a name is in seamark's own zones: upstream records never speak for those. */
  isOwnName: (name: string) => boolean;
  log: Log;
  onUpstreamError?: (upstream: string) => void;
  onCache?: (hit: boolean) => void;
  /** Told of every cached answer that leaves the cache (expired, evicted, replaced): the answer cache drops it too. */
  onDropped?: (answer: CachedAnswer) => void;
  /** The clock TTLs are counted on, ms: Date.now unless a test drives its own. */
  now?: () => number;
}

export interface CachedAnswer {
  /** The upstream's response, scrubbed, with ID 0. */
  message: Buffer;
  questionEnd: number;
  ttlOffsets: number[];
  ttls: number[];
  storedAt: number;
  /** Date.now() from which the entry is stale: its smallest TTL, or for a negative answer min(SOA TTL, MINIMUM). */
  expiresAt: number;
}

/** An upstream CNAME chain that leads into seamark's own zone, kept for its TTL. */
interface CachedChain {
  chain: ChainLink[];
  target: string;
  storedAt: number;
  expiresAt: number;
}

/** What forwarding a query gave. */
export type Forwarded =
  /** The upstream's answer, scrubbed, with the client's ID and question; `cached` when the fast path may keep it; `fromCache` when no upstream was asked. */
  | { kind: 'answer'; response: Buffer; cached?: CachedAnswer; fromCache?: true }
  /** The upstream's CNAME chain reached `target` in seamark's own zone: seamark answers it after `chain`. */
  | { kind: 'into-zone'; chain: ChainLink[]; target: string }
  /** Every upstream failed, now or within the failure TTL: SERVFAIL. */
  | { kind: 'failed' }
  /** A query without RD for a name not in the cache: nothing is asked upstream (RFC 1034 §4.3.1). */
  | { kind: 'not-cached' };

/** What one upstream exchange gave, before the client's header is put on. */
type Asked = { kind: 'answer'; response: Buffer; entry?: CachedAnswer } | { kind: 'into-zone'; chain: ChainLink[]; target: string } | { kind: 'failed'; cache: boolean };

/**
 * When an unanswered UDP query is first sent again (at most a third of the timeout), doubling after each send:
 * with the 2 s default, sends at 0 and 0.67 s; with 5 s, at 0, 0.8 and 2.4 s. An upstream that is slow rather
 * than lossy answers the first copy and the duplicate answer is ignored.
 */
const FIRST_RETRANSMIT_MS = 800;

/** Longest time an upstream answer is kept, seconds, whatever its TTL. */
const MAX_CACHE_TTL = 86400;

/** Lookups whose failure is remembered at once; the oldest is forgotten first. */
const FAILURE_CACHE_SIZE = 10000;

/**
 * Upstream UDP queries waiting for an answer at once, each on a socket of its
 * own (a file descriptor each); beyond this bound a query gets SERVFAIL at
 * once, so a dead upstream under a flood costs memory, descriptors and time in
 * proportion to the bound.
 */
export const MAX_OUTSTANDING = 4096;

/** Upstream TCP connections open at once (one per query truncated over UDP); beyond it, SERVFAIL at once. */
export const MAX_TCP_OUTSTANDING = 256;

export class Forwarder {
  private readonly cache: LRUCache<string, CachedAnswer | CachedChain> | undefined;
  private readonly failures: LRUCache<string, true>;
  private readonly inFlight = new Map<string, Promise<Asked>>();
  /** Ends each upstream UDP query in flight (with no answer): how close() lets go of their sockets. */
  private readonly pending = new Set<() => void>();
  private tcpOpen = 0;
  private preferred = 0;
  private readonly now: () => number;

  constructor(private readonly options: ForwarderOptions) {
    this.now = options.now ?? Date.now;
    const { onDropped } = options;
    const dropped = onDropped === undefined ? undefined : (entry: CachedAnswer | CachedChain) => ('chain' in entry ? undefined : onDropped(entry));
    this.cache = options.cacheSize > 0 ? boundedCache(options.cacheSize, options.cacheBytes, cachedCost, dropped) : undefined;
    this.failures = new LRUCache({ max: FAILURE_CACHE_SIZE, ttl: Math.max(options.failureTtlMs, 1), ttlAutopurge: false, ttlResolution: 0, perf: { now: this.now } });
  }

  get upstreams(): readonly Endpoint[] {
    return this.options.upstreams;
  }

  /**
   * Forwards `query`: from the cache when it holds the answer, else from the upstreams (only when the client
   * asked for recursion), which every client asking the same question at once shares.
   */
  async resolve(message: Buffer, query: Query, viaTcp: boolean): Promise<Forwarded> {
    const key = `${query.name}|${query.type}|${query.class}|${query.edns ? (query.edns.dnssecOk ? 2 : 1) : 0}|${query.checkingDisabled ? 1 : 0}`;
    const cached = this.cache?.get(key);
    if (cached !== undefined) {
      const answer = this.fromCache(cached, message, query);
      if (answer !== undefined) {
        this.options.onCache?.(true);
        return answer;
      }
      this.cache?.delete(key);
    }
    this.options.onCache?.(false);
    if (this.failures.get(key) !== undefined) return { kind: 'failed' };
    if (!query.recursionDesired) return { kind: 'not-cached' };

    // A TCP client must get the whole answer: it never joins a UDP lookup, which may come back truncated.
    const flightKey = viaTcp ? `${key}|tcp` : key;
    let flight = this.inFlight.get(flightKey);
    if (flight === undefined) {
      flight = this.ask(message, query, viaTcp, key).finally(() => this.inFlight.delete(flightKey));
      this.inFlight.set(flightKey, flight);
    }
    const result = await flight;
    if (result.kind === 'failed') return { kind: 'failed' };
    if (result.kind === 'into-zone') return result;
    return { kind: 'answer', response: withClientHeader(result.response, message, query), cached: result.entry };
  }

  close(): void {
    for (const end of [...this.pending]) end();
    this.pending.clear();
  }

  /** Asks the upstreams in turn; an answer is scrubbed, and stored when it may be cached. */
  private async ask(message: Buffer, query: Query, viaTcp: boolean, key: string): Promise<Asked> {
    const upstreamQuery = buildUpstreamQuery(message, query, this.options.payloadSize);
    const count = this.options.upstreams.length;
    for (let attempt = 0; attempt < count; attempt++) {
      const index = (this.preferred + attempt) % count;
      const upstream = this.options.upstreams[index] as Endpoint;
      if (this.pending.size >= MAX_OUTSTANDING) {
        this.options.log.debug({ name: query.name, outstanding: this.pending.size }, 'too many queries waiting for upstreams: SERVFAIL');
        return { kind: 'failed', cache: false };
      }
      let response = await this.askUdp(upstream, upstreamQuery);
      if (response !== undefined && isTruncated(response) && viaTcp) {
        if (this.tcpOpen >= MAX_TCP_OUTSTANDING) {
          this.options.log.debug({ name: query.name, connections: this.tcpOpen }, 'too many TCP queries waiting for upstreams: SERVFAIL');
          return { kind: 'failed', cache: false };
        }
        response = await this.askTcp(upstream, upstreamQuery);
      }
      const rcode = response === undefined ? undefined : response.readUInt16BE(2) & 0xf;
      const scrubbed = response === undefined ? undefined : scrubResponse(response, query.name, query.type, query.class, this.options.isOwnName, this.options.payloadSize);
      if (scrubbed === undefined || scrubbed.kind === 'malformed' || rcode === Rcode.SERVFAIL || rcode === Rcode.REFUSED) {
        this.options.onUpstreamError?.(`${upstream.address}:${upstream.port}`);
        this.options.log.debug({ upstream: `${upstream.address}:${upstream.port}`, name: query.name, rcode }, 'upstream failed');
        continue;
      }
      this.preferred = index;
      if (scrubbed.kind === 'into-zone') {
        this.store(key, { chain: scrubbed.chain, target: scrubbed.target, storedAt: 0, expiresAt: 0 }, Math.min(...scrubbed.chain.map((link) => link.ttl)));
        return scrubbed;
      }
      const scrubbedResponse = scrubbed.message;
      // seamark relays this answer; it is not the authority for it.
      scrubbedResponse.writeUInt16BE(scrubbedResponse.readUInt16BE(2) & ~0x0400, 2);
      const ttl = isTruncated(scrubbedResponse) ? 0 : cacheTtl(scrubbedResponse);
      const offsets = ttlOffsets(scrubbedResponse);
      if (ttl <= 0 || offsets === undefined) return { kind: 'answer', response: scrubbedResponse };
      const entry: CachedAnswer = {
        message: scrubbedResponse,
        questionEnd: query.questionEnd,
        ttlOffsets: offsets,
        ttls: offsets.map((offset) => scrubbedResponse.readUInt32BE(offset)),
        storedAt: 0,
        expiresAt: 0,
      };
      return this.store(key, entry, ttl) ? { kind: 'answer', response: scrubbedResponse, entry } : { kind: 'answer', response: scrubbedResponse };
    }
    this.failures.set(key, true);
    return { kind: 'failed', cache: true };
  }

  /** Keeps `entry` for `ttl` seconds (at most a day); false when there is no cache or the TTL is 0. */
  private store(key: string, entry: CachedAnswer | CachedChain, ttl: number): boolean {
    if (this.cache === undefined || !(ttl > 0)) return false;
    const lifetime = Math.min(ttl, MAX_CACHE_TTL) * 1000;
    entry.storedAt = this.now();
    entry.expiresAt = entry.storedAt + lifetime;
    this.cache.set(key, entry, { ttl: lifetime });
    return true;
  }

  /** A cached answer for this client, TTLs counted down; undefined once a record has expired. */
  private fromCache(entry: CachedAnswer | CachedChain, message: Buffer, query: Query): Forwarded | undefined {
    if ('chain' in entry) {
      const now = this.now();
      if (now >= entry.expiresAt) return undefined;
      const elapsed = Math.floor((now - entry.storedAt) / 1000);
      return { kind: 'into-zone', chain: entry.chain.map((link) => ({ ...link, ttl: Math.max(link.ttl - elapsed, 0) })), target: entry.target };
    }
    if (entry.questionEnd !== query.questionEnd) return undefined;
    const answer = withClientHeader(entry.message, message, query);
    return ageCachedAnswer(entry, answer, this.now()) ? { kind: 'answer', response: answer, cached: entry, fromCache: true } : undefined;
  }

  /**
   * One upstream's answer over UDP, or undefined after `timeoutMs`. Each query leaves from a socket of its own,
   * on a port the kernel picks at random and connected to the upstream (RFC 5452 §9.2, §10): a forged answer must
   * guess the port as well as the ID, the kernel drops datagrams from any other address or port, and the socket's
   * address is the one that reaches the upstream. A lost packet is sent again (same socket, ID and question) on an
   * exponential schedule within that time: clients' own retries join this lookup, so without it one lost datagram
   * would cost every client asking the name a SERVFAIL after the whole timeout.
   */
  private askUdp(upstream: Endpoint, upstreamQuery: Buffer): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const id = randomId();
      const packet = Buffer.from(upstreamQuery);
      packet.writeUInt16BE(id, 0);
      const question = packet.subarray(HEADER_SIZE, questionEndOf(packet) ?? HEADER_SIZE);
      const socket = createSocket({ type: upstream.family === 4 ? 'udp4' : 'udp6', lookup: literalAddress });
      socket.unref();
      const timer = setTimeout(() => finish(undefined), this.options.timeoutMs);
      let retransmit: NodeJS.Timeout | undefined;
      let finished = false;
      const finish = (response: Buffer | undefined) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        clearTimeout(retransmit);
        this.pending.delete(end);
        socket.close();
        resolve(response);
      };
      const end = () => finish(undefined);
      const send = () =>
        socket.send(packet, (error) => {
          if (error) {
            this.options.log.debug({ err: error, upstream: upstream.address }, 'cannot send to upstream');
            finish(undefined);
          }
        });
      const sendAgainAfter = (wait: number, elapsed: number) => {
        if (elapsed + wait >= this.options.timeoutMs) return;
        // finish() clears this timer: it only fires while the query is unanswered.
        retransmit = setTimeout(() => {
          send();
          sendAgainAfter(wait * 2, elapsed + wait);
        }, wait);
      };
      socket.on('message', (response) => {
        // The kernel gives a connected socket only the upstream's datagrams; the ID and question must match too.
        if (isAnswerTo(response, id, question)) finish(Buffer.from(response));
      });
      // ICMP port unreachable (nothing listens at the upstream) and the like: this upstream failed, now.
      socket.on('error', (error) => {
        this.options.log.debug({ err: error, upstream: upstream.address }, 'upstream socket error');
        finish(undefined);
      });
      this.pending.add(end);
      socket.connect(upstream.port, upstream.address, () => {
        if (finished) return;
        send();
        sendAgainAfter(Math.min(FIRST_RETRANSMIT_MS, this.options.timeoutMs / 3), 0);
      });
    });
  }

  private askTcp(upstream: Endpoint, upstreamQuery: Buffer): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const id = randomId();
      const packet = Buffer.alloc(upstreamQuery.length + 2);
      packet.writeUInt16BE(upstreamQuery.length, 0);
      upstreamQuery.copy(packet, 2);
      packet.writeUInt16BE(id, 2);
      const question = packet.subarray(2 + HEADER_SIZE, 2 + (questionEndOf(upstreamQuery) ?? HEADER_SIZE));
      const socket = connect({ host: upstream.address, port: upstream.port });
      this.tcpOpen++;
      let received = Buffer.alloc(0);
      let finished = false;
      const finish = (response: Buffer | undefined) => {
        if (finished) return;
        finished = true;
        this.tcpOpen--;
        socket.destroy();
        resolve(response);
      };
      socket.setTimeout(this.options.timeoutMs, () => finish(undefined));
      socket.on('error', () => finish(undefined));
      // An upstream that closes without a whole answer fails now, not at the timeout.
      socket.on('close', () => finish(undefined));
      socket.on('connect', () => socket.write(packet));
      socket.on('data', (chunk) => {
        received = Buffer.concat([received, chunk]);
        if (received.length < 2) return;
        const length = received.readUInt16BE(0);
        if (received.length < length + 2) return;
        const response = received.subarray(2, length + 2);
        finish(isAnswerTo(response, id, question) ? Buffer.from(response) : undefined);
      });
    });
  }
}

/** Whether `response` answers the query with this ID and question (RFC 5452 §9.1): a response, one question, the same bytes. */
function isAnswerTo(response: Buffer, id: number, question: Buffer): boolean {
  if (response.length < HEADER_SIZE + question.length || response.readUInt16BE(0) !== id) return false;
  if ((response.readUInt16BE(2) & 0x8000) === 0 || response.readUInt16BE(4) !== 1) return false;
  return response.subarray(HEADER_SIZE, HEADER_SIZE + question.length).equals(question);
}

/** The header and question seamark sends upstream: the client's question, RD set, and an OPT when the client used EDNS. */
function buildUpstreamQuery(message: Buffer, query: Query, payloadSize: number): Buffer {
  const packet = Buffer.alloc(query.questionEnd + (query.edns ? 11 : 0));
  message.copy(packet, 0, 0, query.questionEnd);
  packet.writeUInt16BE(0x0100 | (query.checkingDisabled ? 0x0010 : 0), 2);
  packet.writeUInt16BE(1, 4);
  packet.writeUInt32BE(0, 6);
  packet.writeUInt16BE(query.edns ? 1 : 0, 10);
  // Lower-case the question so that answers are shared by clients whatever their 0x20 case.
  lowerCaseName(packet, HEADER_SIZE, query.questionEnd - 4);
  if (query.edns) {
    const o = query.questionEnd;
    packet[o] = 0;
    packet.writeUInt16BE(RRType.OPT, o + 1);
    packet.writeUInt16BE(payloadSize, o + 3);
    packet.writeUInt32BE(query.edns.dnssecOk ? 0x8000 : 0, o + 5);
    packet.writeUInt16BE(0, o + 9);
  }
  return packet;
}

/** Heap bytes of a cached upstream answer, as counted against a cache's byte budget. */
export function cachedAnswerCost(answer: CachedAnswer): number {
  return ENTRY_OVERHEAD + bufferCost(answer.message) + answer.ttls.length * 16;
}

function cachedCost(entry: CachedAnswer | CachedChain): number {
  if (!('chain' in entry)) return cachedAnswerCost(entry);
  return ENTRY_OVERHEAD + entry.target.length * 2 + entry.chain.reduce((sum, link) => sum + 64 + (link.name.length + link.target.length) * 2, 0);
}

/** Writes the entry's TTLs, counted down by the time it has been cached, into `answer` (a copy of its message); false once the entry is stale. */
export function ageCachedAnswer(entry: CachedAnswer, answer: Buffer, now = Date.now()): boolean {
  if (now >= entry.expiresAt) return false;
  const elapsed = Math.floor((now - entry.storedAt) / 1000);
  for (let i = 0; i < entry.ttlOffsets.length; i++) {
    answer.writeUInt32BE(Math.max((entry.ttls[i] as number) - elapsed, 0), entry.ttlOffsets[i] as number);
  }
  return true;
}

/** A copy of `response` with the client's ID, RD and CD bits (RFC 1035 §4.1.1) and question bytes (its letter case). */
function withClientHeader(response: Buffer, message: Buffer, query: Query): Buffer {
  const answer = Buffer.from(response);
  echoQueryHeader(answer, message, query.questionEnd);
  return answer;
}

function isTruncated(response: Buffer): boolean {
  return (response.readUInt16BE(2) & 0x0200) !== 0;
}

/**
 * Seconds an upstream answer may be cached: the smallest TTL of all its
 * records (a TTL-0 record anywhere keeps it out of the cache), or for a
 * negative answer min(SOA TTL, SOA MINIMUM) (RFC 2308 §5), which is also
 * written into the SOA's TTL so that it counts down from there.
 */
function cacheTtl(response: Buffer): number {
  const rcode = response.readUInt16BE(2) & 0xf;
  if (rcode !== Rcode.NOERROR && rcode !== Rcode.NXDOMAIN) return 0;
  let offset = questionEndOf(response);
  if (offset === undefined) return 0;
  const answers = response.readUInt16BE(6);
  const authority = response.readUInt16BE(8);
  const records = answers + authority + response.readUInt16BE(10);
  let smallest = Infinity;
  let negativeTtl: number | undefined;
  for (let i = 0; i < records; i++) {
    const record = readRecordHeader(response, offset);
    if (record === undefined) return 0;
    offset = record.end;
    if (record.type === RRType.OPT) continue;
    let ttl = response.readUInt32BE(record.ttlOffset);
    if (i >= answers && i < answers + authority && record.type === RRType.SOA && negativeTtl === undefined) {
      const afterNames = skipName(response, skipName(response, record.rdataStart) ?? record.end);
      const minimum = afterNames !== undefined && afterNames + 20 <= record.end ? response.readUInt32BE(afterNames + 16) : 0;
      ttl = Math.min(ttl, minimum);
      negativeTtl = ttl;
      if (rcode === Rcode.NXDOMAIN || answers === 0) response.writeUInt32BE(ttl, record.ttlOffset);
    }
    smallest = Math.min(smallest, ttl);
  }
  const negative = rcode === Rcode.NXDOMAIN || answers === 0;
  if (negative && negativeTtl === undefined) return 0;
  return smallest === Infinity ? 0 : smallest;
}

/**
 * The host's resolvers from resolv.conf, less seamark's own DNS listeners so
 * that it never forwards to itself.
 */
export function upstreamsFromResolvConf(ownListeners: readonly Endpoint[], path = '/etc/resolv.conf'): Endpoint[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const local = new Set(Object.values(networkInterfaces()).flatMap((addresses) => (addresses ?? []).map((a) => a.address)));
  const isLocal = (address: string) => local.has(address) || address.startsWith('127.') || address === '::1';
  const upstreams: Endpoint[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!match) continue;
    let upstream: Endpoint;
    try {
      upstream = parseEndpoint((match[1] ?? '').replace(/%.*$/, ''), 53);
    } catch {
      continue;
    }
    const isOwn = ownListeners.some(
      (own) =>
        own.port === upstream.port &&
        (own.address === upstream.address || ((own.address === '0.0.0.0' || own.address === '::') && isLocal(upstream.address))),
    );
    if (!isOwn) upstreams.push(upstream);
  }
  return upstreams;
}
