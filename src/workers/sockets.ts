// How DNS workers get their sockets: each its own with SO_REUSEPORT where
// Node offers it (the kernel spreads queries over them), else the sockets the
// cluster module shares from the primary.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { Endpoint } from '../config/addresses.js';

/**
 * Whether each DNS worker binds its own sockets with SO_REUSEPORT: dgram's and net's `reusePort` (Node >= 22.12
 * and >= 23.1) on Linux. Older Node ignores the option without an error, so the version decides, not a trial.
 * Port 0 would give every worker a port of its own: those share the cluster's socket.
 */
export function workersReusePort(listen: readonly Endpoint[], version = process.versions.node, platform = process.platform): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const nodeHasIt = major >= 24 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
  return nodeHasIt && platform === 'linux' && listen.every((endpoint) => endpoint.port !== 0);
}

/**
 * Binds every endpoint without SO_REUSEPORT, UDP and TCP, and lets go: with SO_REUSEPORT a socket another process
 * holds with it too (a seamark left running) would share the port silently, so a port in use fails the start, as
 * it does with the shared sockets.
 */
export async function checkPortsFree(listen: readonly Endpoint[]): Promise<void> {
  for (const endpoint of listen) {
    await new Promise<void>((resolve, reject) => {
      const socket = createSocket({ type: endpoint.family === 6 ? 'udp6' : 'udp4', ipv6Only: endpoint.family === 6 });
      socket.once('error', reject);
      socket.bind(endpoint.port, endpoint.address, () => socket.close(() => resolve()));
    });
    await new Promise<void>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen({ port: endpoint.port, host: endpoint.address, ipv6Only: endpoint.family === 6 }, () => server.close(() => resolve()));
    });
  }
}
