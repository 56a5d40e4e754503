// The DNS server: UDP and TCP listeners, and the request path that answers a
// query from the zone view or the forwarder.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server as TcpServer, type Socket as TcpSocket } from 'node:net';
import type { BlockList } from 'node:net';
import type { Logger } from 'pino';
import { formatEndpoint, isAllowed, type Endpoint } from '../config/addresses.js';
import type { Registry } from '../registry/registry.js';
import { RRClass, RRType, Rcode } from '../zone/records.js';
import { lookup, zoneOf, zoneTransfer, type ZoneSettings } from '../zone/view.js';
import type { Forwarder } from './forwarder.js';
import { PLAIN_UDP_SIZE, encodeResponse, encodeTransfer, parseQuery, type Query } from './wire.js';

export interface DnsServerOptions {
  listen: readonly Endpoint[];
  registry: Registry;
  zone: ZoneSettings;
  forwarder?: Forwarder;
  forwardAllow: BlockList;
  axfrAllow: BlockList;
  udpPayloadMax: number;
  tcpIdleTimeoutMs: number;
  log: Logger;
  /** Counts each answered query (type, rcode). */
  onAnswer?: (type: number, rcode: number, startedAt: bigint) => void;
}

/** Where a reply goes: one function per transport, so the request path does not care. */
type Reply = (response: Buffer) => void;

const MAX_TCP_CONNECTIONS = 1000;

export class DnsServer {
  private readonly udpSockets: UdpSocket[] = [];
  private readonly tcpServers: TcpServer[] = [];
  private readonly tcpConnections = new Set<TcpSocket>();
  private rotation = 0;

  constructor(private readonly options: DnsServerOptions) {}

  async start(): Promise<void> {
    for (const endpoint of this.options.listen) {
      await this.listenUdp(endpoint);
      await this.listenTcp(endpoint);
      this.options.log.info({ listen: formatEndpoint(endpoint) }, 'DNS listening on UDP and TCP');
    }
  }

  async stop(): Promise<void> {
    for (const socket of this.udpSockets) socket.close();
    for (const connection of this.tcpConnections) connection.destroy();
    await Promise.all(this.tcpServers.map((server) => new Promise((resolve) => server.close(resolve))));
    this.options.forwarder?.close();
  }

  /** The request path: parse, decide, answer. */
  answer(message: Buffer, client: string, viaTcp: boolean, reply: Reply): void {
    const startedAt = process.hrtime.bigint();
    const parsed = parseQuery(message);
    if (parsed.kind === 'drop') return;
    if (parsed.kind === 'error') {
      reply(
        encodeResponse({
          query: message,
          id: parsed.id,
          opcode: parsed.opcode,
          recursionDesired: parsed.recursionDesired,
          questionEnd: parsed.questionEnd ?? 0,
          rcode: parsed.rcode,
          authoritative: false,
          recursionAvailable: false,
          maxSize: PLAIN_UDP_SIZE,
        }),
      );
      this.options.onAnswer?.(0, parsed.rcode, startedAt);
      return;
    }

    const query = parsed.query;
    const mayForward = isAllowed(this.options.forwardAllow, client);
    const respond = (rcode: number, authoritative: boolean, records?: Pick<Parameters<typeof encodeResponse>[0], 'answers' | 'authority' | 'additional'>) => {
      reply(this.encode(message, query, viaTcp, rcode, authoritative, mayForward, records));
      this.options.onAnswer?.(query.type, rcode, startedAt);
    };

    if (query.edns !== undefined && query.edns.version > 0) return respond(Rcode.BADVERS, false);
    if (query.type === RRType.AXFR || query.type === RRType.IXFR) return this.transfer(message, query, client, viaTcp, reply, respond);
    if (query.class !== RRClass.IN && query.class !== RRClass.ANY) {
      return respond(zoneOf(this.options.zone, query.name) === undefined && mayForward ? Rcode.NOTIMP : Rcode.REFUSED, false);
    }

    const fromZone = lookup(this.options.registry, this.options.zone, query.name, query.type, this.rotation++);
    if (fromZone !== undefined) return respond(fromZone.rcode, true, fromZone);

    const forwarder = this.options.forwarder;
    if (!mayForward || forwarder === undefined || forwarder.upstreams.length === 0) return respond(Rcode.REFUSED, false);
    forwarder.resolve(message, query, viaTcp).then(
      (response) => {
        if (response === undefined) return respond(Rcode.SERVFAIL, false);
        const limit = viaTcp ? 65535 : this.udpLimit(query);
        if (response.length <= limit) {
          reply(response);
          this.options.onAnswer?.(query.type, response.readUInt16BE(2) & 0xf, startedAt);
        } else {
          respond(response.readUInt16BE(2) & 0xf, false, {}); // too big for this client: TC, empty
        }
      },
      (error: unknown) => {
        this.options.log.error({ err: error, name: query.name }, 'forwarding failed');
        respond(Rcode.SERVFAIL, false);
      },
    );
  }

  private transfer(message: Buffer, query: Query, client: string, viaTcp: boolean, reply: Reply, respond: (rcode: number, aa: boolean) => void): void {
    const zone = zoneOf(this.options.zone, query.name);
    if (zone !== query.name || !viaTcp || !isAllowed(this.options.axfrAllow, client)) {
      this.options.log.debug({ client, zone: query.name, viaTcp }, 'zone transfer refused');
      return respond(zone === query.name ? Rcode.REFUSED : Rcode.NOTIMP, false);
    }
    const records = zoneTransfer(this.options.registry, this.options.zone, zone);
    for (const part of encodeTransfer(message, query.id, query.questionEnd, records)) reply(part);
    this.options.onAnswer?.(query.type, Rcode.NOERROR, process.hrtime.bigint());
  }

  private encode(
    message: Buffer,
    query: Query,
    viaTcp: boolean,
    rcode: number,
    authoritative: boolean,
    recursionAvailable: boolean,
    records: Pick<Parameters<typeof encodeResponse>[0], 'answers' | 'authority' | 'additional'> = {},
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
      edns: query.edns ? { payloadSize: this.options.udpPayloadMax, dnssecOk: query.edns.dnssecOk } : undefined,
      maxSize: viaTcp ? 65535 : this.udpLimit(query),
    });
  }

  private udpLimit(query: Query): number {
    return query.edns ? Math.min(query.edns.payloadSize, this.options.udpPayloadMax) : PLAIN_UDP_SIZE;
  }

  private listenUdp(endpoint: Endpoint): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = createSocket({ type: endpoint.family === 6 ? 'udp6' : 'udp4', ipv6Only: endpoint.family === 6 });
      socket.once('error', reject);
      socket.on('message', (message, remote) => {
        try {
          this.answer(message, remote.address, false, (response) => socket.send(response, remote.port, remote.address, ignoreSendError));
        } catch (error) {
          this.options.log.error({ err: error, client: remote.address }, 'query failed');
        }
      });
      socket.bind(endpoint.port, endpoint.address, () => {
        socket.off('error', reject);
        socket.on('error', (error) => this.options.log.warn({ err: error }, 'UDP socket error'));
        this.udpSockets.push(socket);
        resolve();
      });
    });
  }

  private listenTcp(endpoint: Endpoint): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((connection) => this.serveTcp(connection));
      server.maxConnections = MAX_TCP_CONNECTIONS;
      server.once('error', reject);
      server.listen({ port: endpoint.port, host: endpoint.address, ipv6Only: endpoint.family === 6 }, () => {
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
    connection.setNoDelay(true);
    connection.setTimeout(this.options.tcpIdleTimeoutMs, () => connection.destroy());
    connection.on('close', () => this.tcpConnections.delete(connection));
    connection.on('error', () => connection.destroy());
    // A client that pipelines faster than it reads is paused until its answers drain.
    connection.on('drain', () => connection.resume());
    const reply: Reply = (response) => {
      if (connection.destroyed) return;
      const frame = Buffer.allocUnsafe(response.length + 2);
      frame.writeUInt16BE(response.length, 0);
      response.copy(frame, 2);
      if (!connection.write(frame)) connection.pause();
    };
    connection.on('data', (chunk) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < length + 2) break;
        const message = buffered.subarray(2, length + 2);
        buffered = buffered.subarray(length + 2);
        try {
          this.answer(message, client, true, reply);
        } catch (error) {
          this.options.log.error({ err: error, client }, 'query failed');
        }
      }
    });
  }
}

function ignoreSendError(): void {
  // A client that went away is not seamark's problem; there is nobody to tell.
}
