// The UDP transport: a socket per endpoint, and replies sent through response rate limiting.
import { createSocket, type RemoteInfo, type SocketOptions, type Socket as UdpSocket } from 'node:dgram';
import { isIP } from 'node:net';
import type { LookupOptions } from 'node:dns';
import type { Log } from '../ops/log.js';
import type { Endpoint } from '../config/addresses.js';
import { DROP, SLIP, slipReply, type ResponseRateLimiter } from './rrl.js';

/** Binds a UDP socket on `endpoint`; each datagram goes to `onMessage`, a throw in it is logged. */
export function listenUdp(endpoint: Endpoint, reusePort: boolean, log: Log, onMessage: (message: Buffer, remote: RemoteInfo, socket: UdpSocket) => void): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    // Replies go to the address a query came from, always an IP literal: resolving it (and the
    // deferred callback that costs per packet) is skipped.
    // `reusePort` is Node >= 22.12's (its types are not in @types/node 20).
    const options: SocketOptions & { reusePort: boolean } = { type: endpoint.family === 6 ? 'udp6' : 'udp4', ipv6Only: endpoint.family === 6, lookup: literalAddress, reusePort };
    const socket = createSocket(options);
    socket.once('error', reject);
    socket.on('message', (message, remote) => {
      try {
        onMessage(message, remote, socket);
      } catch (error) {
        log.error({ err: error, client: remote.address }, 'query failed');
      }
    });
    // `exclusive`: a cluster worker binds the socket itself instead of asking the primary for its shared one.
    socket.bind({ port: endpoint.port, address: endpoint.address, exclusive: reusePort }, () => {
      socket.off('error', reject);
      // Per-packet send failures (a client gone, buffers full under load) are not worth more than debug.
      socket.on('error', (error) => log.debug({ err: error }, 'UDP send failed'));
      resolve(socket);
    });
  });
}

/** Sends a UDP answer, unless response rate limiting drops it or slips an empty TC reply in its place. */
export function sendUdp(socket: UdpSocket, response: Buffer, remote: RemoteInfo, rateLimiter: ResponseRateLimiter | undefined): void {
  const verdict = rateLimiter?.verdict(response, remote.address);
  if (verdict === DROP) return;
  // No send callback: Node then tries the send at once; a failure is an 'error' event.
  socket.send(verdict === SLIP ? slipReply(response) : response, remote.port, remote.address);
}

/**
 * A socket's `lookup` for an address that is always an IP literal (a client's, an upstream's): it is given back
 * as it is, with no resolving and none of the deferred callback that would cost per packet.
 */
export function literalAddress(address: string, _options: number | LookupOptions, callback: (error: null, address: string, family: number) => void): void {
  callback(null, address, isIP(address));
}
