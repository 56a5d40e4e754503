// The DNS server: UDP and TCP listeners on each endpoint, wired to the request path (request.ts).
import type { Socket as UdpSocket } from 'node:dgram';
import type { BlockList, Server as TcpServer, Socket as TcpSocket } from 'node:net';
import type { Log } from '../ops/log.js';
import { formatEndpoint, type Endpoint } from '../config/addresses.js';
import type { Registry } from '../registry/registry.js';
import { zoneSerial, type ZoneSettings } from '../zone/view.js';
import type { CachedAnswer, Forwarder } from './forwarder.js';
import { AnswerCache } from './answer-cache.js';
import type { ResponseRateLimiter } from './rrl.js';
import { touchedNames } from './touched-names.js';
import { RequestPath, type Reply, type ReplyAll } from './request.js';
import type { QueryLog } from './query-log.js';
import { performance } from 'node:perf_hooks';
import { listenUdp, sendUdp } from './udp.js';
import { listenTcp, serveTcp } from './tcp.js';

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
  /** The query log (--query-log); undefined: off, which costs each query one check. */
  queryLog?: QueryLog;
}

export class DnsServer {
  private readonly udpSockets: UdpSocket[] = [];
  private readonly tcpServers: TcpServer[] = [];
  private readonly tcpConnections = new Set<TcpSocket>();
  private cache: AnswerCache | undefined;
  private requests: RequestPath;

  /** The answer cache, for the forwarder to tell of the answers it lets go of (setup.ts). */
  dropForwarded(answer: CachedAnswer): void {
    this.cache?.dropForwarded(answer);
  }

  /** Stops the answer cache hearing of registry changes. */
  private unsubscribe: () => void = () => undefined;

  constructor(private readonly options: DnsServerOptions) {
    this.cache = this.startAnswerCache();
    this.requests = new RequestPath(options, this.cache);
  }

  private startAnswerCache(): AnswerCache | undefined {
    const { registry, zone } = this.options;
    if (this.options.answerCacheSize === 0) return undefined;
    const cache = new AnswerCache(this.options.answerCacheSize, this.options.answerCacheBytes, this.options.udpPayloadMax, () => zoneSerial(zone, registry));
    // A change drops the cached answers for the names it touches, and no others.
    this.unsubscribe = registry.onMutation((change, generation, previous) => cache.touch(touchedNames(change, previous, registry), generation));
    return cache;
  }

  /**
   * Settings changed while serving (a reload): the queries that arrive from now on take them, on the same sockets
   * and connections; a query already waiting for an upstream finishes with the forwarder it went to. The answer
   * cache starts empty, as its answers were encoded under the old TTLs, upstreams and allow-lists.
   */
  reconfigure(changed: Pick<DnsServerOptions, 'forwarder' | 'forwardAllow' | 'axfrAllow' | 'rateLimiter' | 'queryLog'>): void {
    Object.assign(this.options, changed);
    this.unsubscribe();
    this.unsubscribe = () => undefined;
    const hits = this.requests.answerCacheHits;
    this.cache = this.startAnswerCache();
    this.requests = new RequestPath(this.options, this.cache);
    this.requests.answerCacheHits = hits;
  }

  async start(): Promise<void> {
    const { log, tcpIdleTimeoutMs } = this.options;
    const reusePort = this.options.reusePort === true;
    for (const endpoint of this.options.listen) {
      const socket = await listenUdp(endpoint, reusePort, log, (message, remote, socket) => {
        const queryLog = this.options.queryLog;
        if (queryLog === undefined) return this.requests.answer(message, remote.address, false, (response) => sendUdp(socket, response, remote, this.options.rateLimiter));
        return this.answerLogged(queryLog, message, remote.address, 'udp', (response) => sendUdp(socket, response, remote, this.options.rateLimiter));
      });
      this.udpSockets.push(socket);
      const server = await listenTcp(endpoint, reusePort, log, (connection) => {
        this.tcpConnections.add(connection);
        connection.on('close', () => this.tcpConnections.delete(connection));
        serveTcp(connection, tcpIdleTimeoutMs, log, (message, client, reply, settled, replyAll) => {
          const queryLog = this.options.queryLog;
          if (queryLog === undefined) return this.requests.answer(message, client, true, reply, settled, replyAll);
          return this.answerLogged(queryLog, message, client, 'tcp', reply, settled, replyAll);
        });
      });
      this.tcpServers.push(server);
      log.info({ listen: formatEndpoint(endpoint) }, 'DNS listening on UDP and TCP');
    }
  }

  /** The request path with each reply also written to the query log: from the answer cache when it counted a hit, from the forwarder when it came later. */
  private answerLogged(queryLog: QueryLog, message: Buffer, client: string, transport: 'udp' | 'tcp', reply: Reply, settled?: () => void, replyAll?: ReplyAll): boolean {
    const startedAt = performance.now();
    const requests = this.requests;
    const hits = requests.answerCacheHits;
    let later = false;
    const logged: Reply = (response, origin) => {
      reply(response);
      queryLog.answered(client, transport, response, startedAt, origin ?? (requests.answerCacheHits !== hits ? 'cache' : later ? 'forward' : undefined));
    };
    later = requests.answer(message, client, transport === 'tcp', logged, settled, replyAll);
    return later;
  }

  async stop(): Promise<void> {
    this.unsubscribe();
    for (const socket of this.udpSockets) socket.close();
    for (const connection of this.tcpConnections) connection.destroy();
    await Promise.all(this.tcpServers.map((server) => new Promise((resolve) => server.close(resolve))));
    this.options.forwarder?.close();
  }

  /** UDP queries answered from the cache. */
  get answerCacheHits(): number {
    return this.requests.answerCacheHits;
  }

  get answerCacheEntries(): number {
    return this.cache?.size ?? 0;
  }

  /** Heap bytes the answer cache holds, as counted against its budget. */
  get answerCacheBytes(): number {
    return this.cache?.bytes ?? 0;
  }

}
