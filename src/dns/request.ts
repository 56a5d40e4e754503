// The request path: a query parsed, answered from the answer cache, the zone view, a transfer, CHAOS or the
// forwarder, and the reply encoded for its transport.
import { performance } from 'node:perf_hooks';
import { isAllowed } from '../config/addresses.js';
import { RRClass, RRType, Rcode, type ResourceRecord, type ZoneResponse } from '../zone/records.js';
import { lookup, zoneOf } from '../zone/view.js';
import { clientView, viewKey, type ClientView } from '../zone/client-view.js';
import type { CachedAnswer } from './forwarder.js';
import type { ChainLink } from './scrub.js';
import { MAX_ROTATIONS, type AnswerCache, type FastQuery } from './answer-cache.js';
import { answerChaos } from './chaos.js';
import { relayedSections, targetQuestion } from './chain-out.js';
import { answerTransfer } from './transfer.js';
import { Turns } from './turns.js';
import { PLAIN_UDP_SIZE, firstSoaSerialAt, parseQuery, type Edns, type Query } from './wire/read.js';
import { MAX_MESSAGE_SIZE, encodeResponse, rotatedAnswers, type ResponseOptions } from './wire/write.js';
import type { DnsServerOptions } from './server.js';

/** The record sections of a response, or `truncated` for an answer too big for the client. */
type Records = Pick<ResponseOptions, 'answers' | 'authority' | 'additional' | 'truncated'>;

/** Sends an answer built from an rcode and records; false, so that the request path can `return respond(…)`. */
export type Respond = (rcode: number, authoritative: boolean, records?: Records) => false;

/** Where a reply goes: one function per transport, so the request path does not care. */
/** Sends one reply; `origin` says when a forwarded answer came from the forwarder's cache, for the query log. */
export type Reply = (response: Buffer, origin?: 'forward-cache') => void;

/** Sends the messages of a zone transfer over TCP, each once the connection has taken the one before. */
export type ReplyAll = (responses: Iterator<Buffer>) => void;

/** Distinct client views (sets of networks) the answer cache keeps answers for. */
const MAX_VIEWS = 4096;

interface Client {
  /** The registry generation this was read in. */
  generation: number;
  mayForward: boolean;
  view: ClientView;
  /** Its view's number, the answer cache's key; undefined: answered without the cache. */
  viewId: number | undefined;
}

export class RequestPath {
  /** The round robin of every zone answer, cached or not. */
  private readonly turns = new Turns();
  /** UDP queries answered from the cache. */
  answerCacheHits = 0;
  /** What the request path knows of each client, by address: read once per client and registry generation. */
  private readonly clients = new Map<string, Client>();
  /** A number for each distinct client view (set of networks), 0 for clients that are not containers: the cache keeps answers per view. */
  private readonly viewIds = new Map<string, number>([['', 0]]);

  constructor(
    private readonly options: DnsServerOptions,
    private readonly cache: AnswerCache | undefined,
  ) {}

  /**
   * The request path, top to bottom: the answer cache (UDP), then parse, decide, answer. Returns true when the
   * reply comes later (a forwarded query): `settled` is called once it is sent.
   */
  answer(message: Buffer, client: string, viaTcp: boolean, reply: Reply, settled?: () => void, replyAll?: ReplyAll): boolean {
    const startedAt = performance.now();
    const { mayForward, view, viewId } = this.client(client);
    // Read once for the cache: the key the fast path serves by, and the one a miss's answer is kept under.
    const cache = viaTcp || viewId === undefined ? undefined : this.cache;
    const fast = cache?.read(message, viewId);
    if (cache !== undefined && fast !== undefined) {
      const served = cache.serve(message, fast, mayForward, this.turns);
      if (served !== undefined) {
        this.answerCacheHits++;
        reply(served.reply);
        this.options.onAnswer?.(served.type, served.rcode, startedAt);
        return false;
      }
    }

    const parsed = parseQuery(message);
    if (parsed.kind === 'drop') return false;
    if (parsed.kind === 'error') {
      reply(
        encodeResponse({
          query: message,
          id: parsed.id,
          opcode: parsed.opcode,
          // RD is a QUERY flag: an answer to another opcode carries none of RD, RA, AA, AD, CD.
          recursionDesired: parsed.opcode === 0 && parsed.recursionDesired,
          questionEnd: parsed.questionEnd ?? 0,
          rcode: parsed.rcode,
          authoritative: false,
          recursionAvailable: false,
          edns: this.ednsReply(parsed.edns),
          maxSize: PLAIN_UDP_SIZE,
        }),
      );
      this.options.onAnswer?.(0, parsed.rcode, startedAt);
      return false;
    }

    const query = parsed.query;
    const respond: Respond = (rcode, authoritative, records) => {
      reply(this.encode(message, query, viaTcp, rcode, authoritative, mayForward, records));
      this.options.onAnswer?.(query.type, rcode, startedAt);
      return false;
    };

    if (query.edns !== undefined && query.edns.version > 0) return respond(Rcode.BADVERS, false);
    if (query.type === RRType.AXFR || query.type === RRType.IXFR) return answerTransfer(this.options, message, query, client, viaTcp, replyAll, respond, startedAt, this.ednsReply(query.edns), this.logBadRecord);
    if (query.class === RRClass.CH) return answerChaos(query, this.options.chaos, respond);
    if (query.class !== RRClass.IN && query.class !== RRClass.ANY) {
      return respond(zoneOf(this.options.zone, query.name) === undefined && mayForward ? Rcode.NOTIMP : Rcode.REFUSED, false);
    }

    // A cacheable answer is encoded into the cache in each rotation, rotation 0 first, and served from there in its turn.
    const cacheable = cache !== undefined && fast !== undefined;
    const turn = cacheable ? 0 : this.turns.takeForName(query.name, query.type);
    let fromZone = lookup(this.options.registry, this.options.zone, query.name, query.type, turn, view);
    // An answer the cache cannot keep (a wildcard's, a CNAME chain's) takes its turn of the rotation here.
    if (cacheable && fromZone?.dependsOnOtherNames === true) {
      fromZone = lookup(this.options.registry, this.options.zone, query.name, query.type, this.turns.takeForName(query.name, query.type), view);
    }
    if (fromZone !== undefined) {
      if (fromZone.leavesZonesAt !== undefined && mayForward && (this.options.forwarder?.upstreams.length ?? 0) > 0) {
        return this.answerChainOutOfZone(query, viaTcp, fromZone, fromZone.leavesZonesAt, view, respond, settled);
      }
      if (cacheable && fromZone.dependsOnOtherNames !== true) {
        // Answered from the cache unless it is too big for this client (then TC below, as without the cache).
        this.cacheZoneAnswer(message, query, fast, fromZone, cache, view);
        const served = cache.serve(message, fast, mayForward, this.turns);
        if (served !== undefined) {
          reply(served.reply);
          this.options.onAnswer?.(served.type, served.rcode, startedAt);
          return false;
        }
      }
      return respond(fromZone.rcode, true, fromZone);
    }

    const forwarder = this.options.forwarder;
    if (!mayForward || forwarder === undefined || forwarder.upstreams.length === 0) return respond(Rcode.REFUSED, false);
    // The generation in which the zone view had no answer: the forwarded answer is cached until a later change touches its name.
    const generation = this.options.registry.generation;
    // The cache's read of the query is reused by the next query: a copy outlives the wait.
    const kept = fast === undefined ? undefined : { ...fast };
    forwarder.resolve(message, query, viaTcp).then(
      (result) => {
        if (result.kind === 'failed') respond(Rcode.SERVFAIL, false);
        // RD clear and nothing cached: seamark would have to recurse to answer, which the client did not ask for.
        else if (result.kind === 'not-cached') respond(Rcode.REFUSED, false);
        else if (result.kind === 'into-zone') this.answerChainIntoZone(query, result.chain, result.target, view, respond);
        else this.relay(message, query, kept, viaTcp, result, generation, respond, reply, startedAt);
        settled?.();
      },
      (error: unknown) => {
        this.options.log.error({ err: error, name: query.name }, 'forwarding failed');
        respond(Rcode.SERVFAIL, false);
        settled?.();
      },
    );
    return true;
  }

  /**
   * An upstream CNAME chain that ends in seamark's own zone: the chain, then seamark's own answer for its target,
   * with that answer's rcode (RFC 1034 §4.3.2, RFC 6604). Nothing the upstream said about the target is used.
   * `before`: the zone's own chain that led out to the upstream's (a hand-made alias of an outside name).
   */
  private answerChainIntoZone(query: Query, chain: readonly ChainLink[], target: string, view: ClientView, respond: Respond, before: readonly ResourceRecord[] = []): void {
    const cnames: ResourceRecord[] = chain.map((link) => ({ name: link.name, ttl: link.ttl, type: RRType.CNAME, target: link.target }));
    const fromZone = lookup(this.options.registry, this.options.zone, target, query.type, this.turns.takeForName(target, query.type), view);
    if (fromZone === undefined) {
      respond(Rcode.SERVFAIL, false);
      return;
    }
    respond(fromZone.rcode, before.length > 0, { answers: [...before, ...cnames, ...fromZone.answers], authority: fromZone.authority, additional: fromZone.additional });
  }

  /**
   * A zone answer whose CNAME chain leaves the zones at `target`, for a client allowed to forward: the chain, then
   * the forwarded answer for `target` with its rcode (RFC 6604), as a recursive resolver answers. When `target`
   * cannot be resolved, the chain alone, as an authoritative server answers; the client's resolver may try.
   */
  private answerChainOutOfZone(query: Query, viaTcp: boolean, fromZone: ZoneResponse, target: string, view: ClientView, respond: Respond, settled?: () => void): true {
    const asked = targetQuestion(query, target);
    const chainAlone = () => respond(fromZone.rcode, true, fromZone);
    (this.options.forwarder as NonNullable<DnsServerOptions['forwarder']>).resolve(asked.message, asked.query, viaTcp).then(
      (result) => {
        if (result.kind === 'into-zone') this.answerChainIntoZone(query, result.chain, result.target, view, respond, fromZone.answers);
        else if (result.kind !== 'answer') chainAlone();
        else if ((result.response.readUInt16BE(2) & 0x0200) !== 0) respond(fromZone.rcode, true, { truncated: true });
        else {
          const relayed = relayedSections(result.response, target);
          if (relayed === undefined) chainAlone();
          else respond(relayed.rcode, true, { answers: [...fromZone.answers, ...relayed.answers], authority: relayed.authority, additional: fromZone.additional });
        }
        settled?.();
      },
      (error: unknown) => {
        this.options.log.error({ err: error, name: target }, 'forwarding the target of a CNAME failed');
        chainAlone();
        settled?.();
      },
    );
    return true;
  }

  /** Sends a forwarded answer, or TC when it is too big for the client's UDP size; keeps it for the fast path. */
  private relay(
    message: Buffer,
    query: Query,
    fast: FastQuery | undefined,
    viaTcp: boolean,
    { response, cached, fromCache }: { response: Buffer; cached?: CachedAnswer | undefined; fromCache?: true | undefined },
    generation: number,
    respond: Respond,
    reply: Reply,
    startedAt: number,
  ): void {
    if (cached !== undefined && fast !== undefined) this.cache?.storeForward(message, fast, query.type, cached, generation);
    const limit = viaTcp ? MAX_MESSAGE_SIZE : this.udpLimit(query);
    if (response.length <= limit) {
      reply(response, fromCache === true ? 'forward-cache' : undefined);
      this.options.onAnswer?.(query.type, response.readUInt16BE(2) & 0xf, startedAt);
    } else {
      respond(response.readUInt16BE(2) & 0xf, false, { truncated: true });
    }
  }

  /**
   * Encodes the answer in each rotation of its addresses, full size with RA clear, for the fast path: an address
   * RRset is encoded once and its records' bytes rotated; any other answer is looked up and encoded per rotation.
   */
  private cacheZoneAnswer(message: Buffer, query: Query, fast: FastQuery, first: ZoneResponse, cache: AnswerCache, view: ClientView): void {
    // Already there (the client's UDP size was too small for it): nothing to encode again.
    if (cache.hasFreshZoneAnswer(message, fast)) return;
    const generation = this.options.registry.generation;
    const rotations = Math.min(Math.max(first.answers.length, 1), MAX_ROTATIONS);
    const responses: Buffer[] = [];
    let serialAt = 0;
    for (let rotation = 0; rotation < rotations; rotation++) {
      const response = rotation === 0 ? first : lookup(this.options.registry, this.options.zone, query.name, query.type, rotation, view);
      if (response === undefined) return;
      const encoded = this.encode(message, query, true, response.rcode, true, false, response);
      // Too big for any UDP client (or for any message, which SERVFAIL says): the fast path could never serve it.
      if (encoded.length > this.options.udpPayloadMax || (encoded.readUInt16BE(2) & 0xf) !== response.rcode) return;
      // The SOA serial moves with every change: the cache writes the current one in, at the same place in every rotation.
      const at = firstSoaSerialAt(encoded, query.questionEnd) ?? 0;
      if (rotation > 0 && at !== serialAt) return;
      serialAt = at;
      encoded.writeUInt16BE(0, 0);
      const rotated = rotation === 0 && rotations > 1 ? rotatedAnswers(encoded, query.questionEnd, rotations) : undefined;
      if (rotated !== undefined) {
        responses.push(...rotated);
        break;
      }
      responses.push(encoded);
    }
    cache.storeZone(message, fast, query.type, first.rcode, responses, generation, serialAt);
  }

  /** Whether the client may forward (the allow-list), and its view: the networks it is on when it is a container seamark knows. */
  private client(address: string): Client {
    const generation = this.options.registry.generation;
    let known = this.clients.get(address);
    if (known !== undefined && known.generation === generation) return known;
    const view = clientView(this.options.registry, address);
    const key = viewKey(view);
    let viewId = this.viewIds.get(key);
    // Past this many distinct views a new one is answered without the cache rather than under another's key.
    if (viewId === undefined && this.viewIds.size < MAX_VIEWS) {
      viewId = this.viewIds.size;
      this.viewIds.set(key, viewId);
    }
    known = { generation, mayForward: known?.mayForward ?? isAllowed(this.options.forwardAllow, address), view, viewId };
    if (this.clients.size >= 10000) this.clients.clear();
    this.clients.set(address, known);
    return known;
  }

  private encode(
    message: Buffer,
    query: Query,
    viaTcp: boolean,
    rcode: number,
    authoritative: boolean,
    recursionAvailable: boolean,
    records: Records = {},
  ): Buffer {
    return encodeResponse({
      query: message,
      id: query.id,
      opcode: query.opcode,
      recursionDesired: query.recursionDesired,
      checkingDisabled: query.checkingDisabled,
      questionEnd: query.questionEnd,
      rcode,
      authoritative,
      recursionAvailable,
      ...records,
      edns: this.ednsReply(query.edns),
      maxSize: viaTcp ? MAX_MESSAGE_SIZE : this.udpLimit(query),
      viaTcp,
      onBadRecord: this.logBadRecord,
    });
  }

  /** The OPT of a reply to a query that had one: seamark's own payload size (RFC 6891 §6.1.1). */
  private ednsReply(edns: Edns | undefined): ResponseOptions['edns'] {
    return edns === undefined ? undefined : { payloadSize: this.options.udpPayloadMax, dnssecOk: edns.dnssecOk };
  }

  /** A record the encoder had to leave out (bad data from a source): the reply goes out without it. */
  private readonly logBadRecord = (record: ResourceRecord, error: unknown): void => {
    this.options.log.error({ err: error, name: record.name, type: record.type }, 'record left out of an answer: it cannot be encoded');
  };

  private udpLimit(query: Query): number {
    return query.edns ? Math.min(query.edns.payloadSize, this.options.udpPayloadMax) : PLAIN_UDP_SIZE;
  }
}
