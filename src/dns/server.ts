// The DNS server: UDP and TCP listeners, and the request path that answers a
// query from the zone view or the forwarder.
import { createSocket, type RemoteInfo, type SocketOptions, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type ListenOptions, type Server as TcpServer, type Socket as TcpSocket } from 'node:net';
import { isIP, type BlockList } from 'node:net';
import type { LookupOptions } from 'node:dns';
import type { Log } from '../log.js';
import { formatEndpoint, isAllowed, type Endpoint } from '../config/addresses.js';
import type { Registry } from '../registry/registry.js';
import { RRClass, RRType, Rcode, type ResourceRecord, type ZoneResponse } from '../zone/records.js';
import { lookup, soaRecord, zoneOf, zoneSerial, zoneTransfer, type ZoneSettings } from '../zone/view.js';
import type { CachedAnswer, Forwarder } from './forwarder.js';
import type { ChainLink } from './scrub.js';
import { performance } from 'node:perf_hooks';
import { AnswerCache, MAX_ROTATIONS } from './answer-cache.js';
import { DROP, SLIP, slipReply, type ResponseRateLimiter } from './rrl.js';
import { touchedNames } from './touched-names.js';
import { PLAIN_UDP_SIZE, firstSoaSerialAt, ixfrClientSerial, parseQuery, type Edns, type Query } from './wire/read.js';
import { MAX_MESSAGE_SIZE, encodeResponse, type ResponseOptions } from './wire/write.js';
import { encodeTransfer } from './wire/transfer.js';

export interface DnsServerOptions {
  listen: readonly Endpoint[];
  registry: Registry;
  zone: ZoneSettings;
  forwarder?: Forwarder;
  forwardAllow: BlockList;
  axfrAllow: BlockList;
  udpPayloadMax: number;
  tcpIdleTimeoutMs: number;
  log: Log;
  /** Encoded answers kept for the UDP fast path, entries; 0 turns the cache off. */
  answerCacheSize: number;
  /** Response rate limiting of UDP answers; undefined: off. */
  rateLimiter?: ResponseRateLimiter;
  /** Heap the answer cache may hold, bytes. */
  answerCacheBytes: number;
  /** Text of CH TXT version.bind and id.server; undefined: REFUSED. */
  chaos: { version?: string; identity?: string };
  /**
   * Bind this process's own UDP and TCP sockets with SO_REUSEPORT (DNS workers on Node >= 22.12), so that the
   * kernel spreads queries and connections over the workers; otherwise a DNS worker uses the cluster's shared sockets.
   */
  reusePort?: boolean;
  /** Counts each answered query (type, rcode, performance.now() when it arrived). */
  onAnswer?: (type: number, rcode: number, startedAt: number) => void;
}

/** The record sections of a response, or `truncated` for an answer too big for the client. */
type Records = Pick<ResponseOptions, 'answers' | 'authority' | 'additional' | 'truncated'>;

/** Sends an answer built from an rcode and records; false, so that the request path can `return respond(…)`. */
type Respond = (rcode: number, authoritative: boolean, records?: Records) => false;

/** Where a reply goes: one function per transport, so the request path does not care. */
type Reply = (response: Buffer) => void;

/** Sends the messages of a zone transfer over TCP, each once the connection has taken the one before. */
type ReplyAll = (responses: Iterator<Buffer>) => void;

const MAX_TCP_CONNECTIONS = 1000;

export class DnsServer {
  private readonly udpSockets: UdpSocket[] = [];
  private readonly tcpServers: TcpServer[] = [];
  private readonly tcpConnections = new Set<TcpSocket>();
  private rotation = 0;
  /** UDP queries answered from the cache. */
  answerCacheHits = 0;
  private readonly cache: AnswerCache | undefined;
  /** Whether a client address may forward, by address: the allow-list is checked once per client. */
  private readonly forwardingAllowedByClient = new Map<string, boolean>();

  /** The answer cache, for the forwarder to tell of the answers it lets go of (setup.ts). */
  dropForwarded(answer: CachedAnswer): void {
    this.cache?.dropForwarded(answer);
  }

  /** Stops the answer cache hearing of registry changes. */
  private readonly unsubscribe: () => void = () => undefined;

  constructor(private readonly options: DnsServerOptions) {
    const { registry, zone } = options;
    if (options.answerCacheSize > 0) {
      const cache = new AnswerCache(options.answerCacheSize, options.answerCacheBytes, options.udpPayloadMax, () => zoneSerial(zone, registry));
      this.cache = cache;
      // A change drops the cached answers for the names it touches, and no others.
      this.unsubscribe = registry.onMutation((change, generation, previous) => cache.touch(touchedNames(change, previous, registry), generation));
    }
  }

  async start(): Promise<void> {
    for (const endpoint of this.options.listen) {
      await this.listenUdp(endpoint);
      await this.listenTcp(endpoint);
      this.options.log.info({ listen: formatEndpoint(endpoint) }, 'DNS listening on UDP and TCP');
    }
  }

  async stop(): Promise<void> {
    this.unsubscribe();
    for (const socket of this.udpSockets) socket.close();
    for (const connection of this.tcpConnections) connection.destroy();
    await Promise.all(this.tcpServers.map((server) => new Promise((resolve) => server.close(resolve))));
    this.options.forwarder?.close();
  }

  get answerCacheEntries(): number {
    return this.cache?.size ?? 0;
  }

  /** Heap bytes the answer cache holds, as counted against its budget. */
  get answerCacheBytes(): number {
    return this.cache?.bytes ?? 0;
  }

  /**
   * The request path: parse, decide, answer. Returns true when the reply
   * comes later (a forwarded query): `settled` is called once it is sent.
   */
  answer(message: Buffer, client: string, viaTcp: boolean, reply: Reply, settled?: () => void, replyAll?: ReplyAll): boolean {
    const startedAt = performance.now();
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
    const mayForward = this.forwardingAllowed(client);
    const respond: Respond = (rcode, authoritative, records) => {
      reply(this.encode(message, query, viaTcp, rcode, authoritative, mayForward, records));
      this.options.onAnswer?.(query.type, rcode, startedAt);
      return false;
    };

    if (query.edns !== undefined && query.edns.version > 0) return respond(Rcode.BADVERS, false);
    if (query.type === RRType.AXFR || query.type === RRType.IXFR) return this.transfer(message, query, client, viaTcp, replyAll, respond, startedAt);
    if (query.class === RRClass.CH) return this.answerChaos(query, respond);
    if (query.class !== RRClass.IN && query.class !== RRClass.ANY) {
      return respond(zoneOf(this.options.zone, query.name) === undefined && mayForward ? Rcode.NOTIMP : Rcode.REFUSED, false);
    }

    const fromZone = lookup(this.options.registry, this.options.zone, query.name, query.type, this.rotation++);
    if (fromZone !== undefined) {
      if (!viaTcp && this.cache !== undefined) {
        // Encode once, into the cache, and answer from there (rotation 0 first), unless it is too big for this client.
        this.cacheZoneAnswer(message, query, fromZone);
        const cached = this.cache.serve(message, mayForward);
        if (cached !== undefined) {
          reply(cached);
          this.options.onAnswer?.(query.type, fromZone.rcode, startedAt);
          return false;
        }
      }
      return respond(fromZone.rcode, true, fromZone);
    }

    const forwarder = this.options.forwarder;
    if (!mayForward || forwarder === undefined || forwarder.upstreams.length === 0) return respond(Rcode.REFUSED, false);
    // The generation in which the zone view had no answer: a forwarded answer is cached for that generation only.
    const generation = this.options.registry.generation;
    forwarder.resolve(message, query, viaTcp).then(
      (result) => {
        if (result.kind === 'failed') respond(Rcode.SERVFAIL, false);
        // RD clear and nothing cached: seamark would have to recurse to answer, which the client did not ask for.
        else if (result.kind === 'not-cached') respond(Rcode.REFUSED, false);
        else if (result.kind === 'into-zone') this.answerChainIntoZone(query, result.chain, result.target, respond);
        else this.relay(message, query, viaTcp, result.response, result.cached, generation, respond, reply, startedAt);
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
   */
  private answerChainIntoZone(query: Query, chain: readonly ChainLink[], target: string, respond: Respond): void {
    const cnames: ResourceRecord[] = chain.map((link) => ({ name: link.name, ttl: link.ttl, type: RRType.CNAME, target: link.target }));
    const fromZone = lookup(this.options.registry, this.options.zone, target, query.type, this.rotation++);
    if (fromZone === undefined) {
      respond(Rcode.SERVFAIL, false);
      return;
    }
    respond(fromZone.rcode, false, { answers: [...cnames, ...fromZone.answers], authority: fromZone.authority, additional: fromZone.additional });
  }

  /** Sends a forwarded answer, or TC when it is too big for the client's UDP size; keeps it for the fast path. */
  private relay(
    message: Buffer,
    query: Query,
    viaTcp: boolean,
    response: Buffer,
    cached: CachedAnswer | undefined,
    generation: number,
    respond: Respond,
    reply: Reply,
    startedAt: number,
  ): void {
    if (cached !== undefined && !viaTcp) this.cache?.storeForward(message, query.type, cached, generation);
    const limit = viaTcp ? MAX_MESSAGE_SIZE : this.udpLimit(query);
    if (response.length <= limit) {
      reply(response);
      this.options.onAnswer?.(query.type, response.readUInt16BE(2) & 0xf, startedAt);
    } else {
      respond(response.readUInt16BE(2) & 0xf, false, { truncated: true });
    }
  }

  /**
   * AXFR, and IXFR answered from the zone as it is now (RFC 1995): a single
   * SOA when the client's serial is current, or over UDP (telling it to use
   * TCP); otherwise the whole zone in AXFR form.
   */
  private transfer(message: Buffer, query: Query, client: string, viaTcp: boolean, replyAll: ReplyAll | undefined, respond: Respond, startedAt: number): false {
    const zone = zoneOf(this.options.zone, query.name);
    const isIxfr = query.type === RRType.IXFR;
    if (zone !== query.name || (!viaTcp && !isIxfr) || !isAllowed(this.options.axfrAllow, client)) {
      this.options.log.debug({ client, zone: query.name, viaTcp }, 'zone transfer refused');
      // A name that is not one of seamark's zones: not authoritative for it (RFC 5936 §2.2.1), as Knot answers.
      return respond(zone === query.name ? Rcode.REFUSED : Rcode.NOTAUTH, false);
    }
    const soa = soaRecord(this.options.zone, this.options.registry, zone, this.options.zone.ttl);
    if (isIxfr && soa.type === RRType.SOA) {
      const known = ixfrClientSerial(message, query.questionEnd);
      if (!viaTcp || (known !== undefined && !serialIsBefore(known, soa.serial))) return respond(Rcode.NOERROR, true, { answers: [soa] });
    }
    // Only TCP carries a whole zone (UDP got the SOA above).
    if (replyAll === undefined) return respond(Rcode.REFUSED, false);
    const records = zoneTransfer(this.options.registry, this.options.zone, zone);
    replyAll(encodeTransfer(message, query.id, query.questionEnd, records, this.ednsReply(query.edns), this.logBadRecord));
    this.options.onAnswer?.(query.type, Rcode.NOERROR, startedAt);
    return false;
  }

  /** CH TXT `version.bind`/`version.server` and `id.server`/`hostname.bind`, as Knot DNS and BIND answer them; REFUSED when hidden and for anything else in CH. */
  private answerChaos(query: Query, respond: Respond): false {
    const { version, identity } = this.options.chaos;
    const text =
      query.name === 'version.bind' || query.name === 'version.server' ? version : query.name === 'id.server' || query.name === 'hostname.bind' ? identity : undefined;
    if (text === undefined || (query.type !== RRType.TXT && query.type !== RRType.ANY)) return respond(Rcode.REFUSED, false);
    return respond(Rcode.NOERROR, true, { answers: [{ name: query.name, ttl: 0, class: RRClass.CH, type: RRType.TXT, text }] });
  }

  /** The reply to a UDP query from the answer cache, or undefined when the slow path must answer it. */
  private answerFromCache(message: Buffer, client: string): Buffer | undefined {
    if (this.cache === undefined) return undefined;
    const startedAt = performance.now();
    const reply = this.cache.serve(message, this.forwardingAllowed(client));
    if (reply === undefined) return undefined;
    this.answerCacheHits++;
    this.options.onAnswer?.(this.cache.servedType, this.cache.servedRcode, startedAt);
    return reply;
  }

  /** Encodes the answer in each rotation of its addresses, full size with RA clear, for the fast path. */
  private cacheZoneAnswer(message: Buffer, query: Query, first: ZoneResponse): void {
    // Already there (the client's UDP size was too small for it): nothing to encode again.
    if (this.cache === undefined || this.cache.hasFreshZoneAnswer(message)) return;
    const generation = this.options.registry.generation;
    const rotations = Math.min(Math.max(first.answers.length, 1), MAX_ROTATIONS);
    const responses: Buffer[] = [];
    let serialAt = 0;
    for (let rotation = 0; rotation < rotations; rotation++) {
      const response = lookup(this.options.registry, this.options.zone, query.name, query.type, rotation);
      if (response === undefined) return;
      const encoded = this.encode(message, query, true, response.rcode, true, false, response);
      // Too big for any UDP client (or for any message, which SERVFAIL says): the fast path could never serve it.
      if (encoded.length > this.options.udpPayloadMax || (encoded.readUInt16BE(2) & 0xf) !== response.rcode) return;
      // The SOA serial moves with every change: the cache writes the current one in, at the same place in every rotation.
      const at = firstSoaSerialAt(encoded, query.questionEnd) ?? 0;
      if (rotation > 0 && at !== serialAt) return;
      serialAt = at;
      encoded.writeUInt16BE(0, 0);
      responses.push(encoded);
    }
    this.cache.storeZone(message, query.type, first.rcode, responses, generation, serialAt);
  }

  private forwardingAllowed(client: string): boolean {
    let allowed = this.forwardingAllowedByClient.get(client);
    if (allowed === undefined) {
      allowed = isAllowed(this.options.forwardAllow, client);
      if (this.forwardingAllowedByClient.size >= 10000) this.forwardingAllowedByClient.clear();
      this.forwardingAllowedByClient.set(client, allowed);
    }
    return allowed;
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

  private listenUdp(endpoint: Endpoint): Promise<void> {
    return new Promise((resolve, reject) => {
      // Replies go to the address a query came from, always an IP literal: resolving it (and the
      // deferred callback that costs per packet) is skipped.
      const reusePort = this.options.reusePort === true;
      // `reusePort` is Node >= 22.12's (its types are not in @types/node 20).
      const options: SocketOptions & { reusePort: boolean } = { type: endpoint.family === 6 ? 'udp6' : 'udp4', ipv6Only: endpoint.family === 6, lookup: literalAddress, reusePort };
      const socket = createSocket(options);
      socket.once('error', reject);
      socket.on('message', (message, remote) => {
        try {
          // No send callback: Node then tries the send at once; a failure is an 'error' event.
          const cached = this.answerFromCache(message, remote.address);
          if (cached !== undefined) this.sendUdp(socket, cached, remote);
          else this.answer(message, remote.address, false, (response) => this.sendUdp(socket, response, remote));
        } catch (error) {
          this.options.log.error({ err: error, client: remote.address }, 'query failed');
        }
      });
      // `exclusive`: a cluster worker binds the socket itself instead of asking the primary for its shared one.
      socket.bind({ port: endpoint.port, address: endpoint.address, exclusive: reusePort }, () => {
        socket.off('error', reject);
        // Per-packet send failures (a client gone, buffers full under load) are not worth more than debug.
        socket.on('error', (error) => this.options.log.debug({ err: error }, 'UDP send failed'));
        this.udpSockets.push(socket);
        resolve();
      });
    });
  }

  /** Sends a UDP answer, unless response rate limiting drops it or slips an empty TC reply in its place. */
  private sendUdp(socket: UdpSocket, response: Buffer, remote: RemoteInfo): void {
    const verdict = this.options.rateLimiter?.verdict(response, remote.address);
    if (verdict === DROP) return;
    socket.send(verdict === SLIP ? slipReply(response) : response, remote.port, remote.address);
  }

  private listenTcp(endpoint: Endpoint): Promise<void> {
    return new Promise((resolve, reject) => {
      // Half-open: a client may shut its side after its last query and still read the answers (RFC 7766 §6.2.4).
      const server = createServer({ allowHalfOpen: true }, (connection) => this.serveTcp(connection));
      server.maxConnections = MAX_TCP_CONNECTIONS;
      server.once('error', reject);
      const reusePort = this.options.reusePort === true;
      const options: ListenOptions & { reusePort: boolean } = { port: endpoint.port, host: endpoint.address, ipv6Only: endpoint.family === 6, exclusive: reusePort, reusePort };
      server.listen(options, () => {
        server.off('error', reject);
        server.on('error', (error) => this.options.log.warn({ err: error }, 'TCP server error'));
        this.tcpServers.push(server);
        resolve();
      });
    });
  }

  /** RFC 7766: length-prefixed messages, pipelined, answered as they are ready, closed when idle. */
  private serveTcp(connection: TcpSocket): void {
    this.tcpConnections.add(connection);
    const client = connection.remoteAddress ?? '';
    let buffered = Buffer.alloc(0);
    // Forwarded queries not answered yet, and whether the client has shut its side: the connection ends when both are done.
    let waiting = 0;
    let clientDone = false;
    const settled = () => {
      waiting--;
      if (clientDone && waiting === 0) connection.end();
    };
    connection.on('end', () => {
      clientDone = true;
      if (waiting === 0) connection.end();
    });
    connection.setNoDelay(true);
    // Idle means no query waiting for its answer either; writing that answer starts the idle time again.
    connection.setTimeout(this.options.tcpIdleTimeoutMs, () => {
      if (waiting === 0) connection.destroy();
    });
    connection.on('close', () => this.tcpConnections.delete(connection));
    connection.on('error', () => connection.destroy());
    // A client that pipelines faster than it reads is paused until its answers drain.
    connection.on('drain', () => connection.resume());
    const frame = (response: Buffer) => {
      const framed = Buffer.allocUnsafe(response.length + 2);
      framed.writeUInt16BE(response.length, 0);
      response.copy(framed, 2);
      return framed;
    };
    const reply: Reply = (response) => {
      if (connection.destroyed) return;
      if (!connection.write(frame(response))) connection.pause();
    };
    // A zone transfer goes on only as the client reads it: the next message is encoded once the last one drained.
    const replyAll: ReplyAll = (responses) => {
      for (let next = responses.next(); !next.done; next = responses.next()) {
        if (connection.destroyed) return;
        if (!connection.write(frame(next.value))) {
          connection.pause();
          connection.once('drain', () => replyAll(responses));
          return;
        }
      }
    };
    connection.on('data', (chunk) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < length + 2) break;
        const message = buffered.subarray(2, length + 2);
        buffered = buffered.subarray(length + 2);
        try {
          if (this.answer(message, client, true, reply, settled, replyAll)) waiting++;
        } catch (error) {
          this.options.log.error({ err: error, client }, 'query failed');
        }
      }
    });
  }
}

/** RFC 1982: whether serial `a` comes before `b`. */
function serialIsBefore(a: number, b: number): boolean {
  return a !== b && ((b - a) >>> 0) < 0x80000000;
}

function literalAddress(address: string, family: number | LookupOptions, callback: (error: null, address: string, family: number) => void): void {
  callback(null, address, isIP(address));
}
