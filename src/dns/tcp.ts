// The TCP transport (RFC 7766): length-prefixed messages, pipelined, answered as they are ready, closed when idle.
import { createServer, type ListenOptions, type Server as TcpServer, type Socket as TcpSocket } from 'node:net';
import type { Log } from '../ops/log.js';
import type { Endpoint } from '../config/addresses.js';
import type { Reply, ReplyAll } from './request.js';

const MAX_TCP_CONNECTIONS = 1000;

/**
 * Answers one query: true when the reply comes later (a forwarded query), and `settled` is called once it is sent.
 * `replyAll` sends the messages of a zone transfer.
 */
export type AnswerTcp = (message: Buffer, client: string, reply: Reply, settled: () => void, replyAll: ReplyAll) => boolean;

/** Listens on `endpoint`; each connection is served by `serveTcp` until it closes. */
export function listenTcp(endpoint: Endpoint, reusePort: boolean, log: Log, onConnection: (connection: TcpSocket) => void): Promise<TcpServer> {
  return new Promise((resolve, reject) => {
    // Half-open: a client may shut its side after its last query and still read the answers (RFC 7766 §6.2.4).
    const server = createServer({ allowHalfOpen: true }, onConnection);
    server.maxConnections = MAX_TCP_CONNECTIONS;
    server.once('error', reject);
    const options: ListenOptions & { reusePort: boolean } = { port: endpoint.port, host: endpoint.address, ipv6Only: endpoint.family === 6, exclusive: reusePort, reusePort };
    server.listen(options, () => {
      server.off('error', reject);
      server.on('error', (error) => log.warn({ err: error }, 'TCP server error'));
      resolve(server);
    });
  });
}

/** RFC 7766: length-prefixed messages, pipelined, answered as they are ready, closed when idle. */
export function serveTcp(connection: TcpSocket, idleTimeoutMs: number, log: Log, answer: AnswerTcp): void {
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
  connection.setTimeout(idleTimeoutMs, () => {
    if (waiting === 0) connection.destroy();
  });
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
        if (answer(message, client, reply, settled, replyAll)) waiting++;
      } catch (error) {
        log.error({ err: error, client }, 'query failed');
      }
    }
  });
}
