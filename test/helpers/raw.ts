// Raw DNS over UDP for what dig cannot send: odd opcodes, broken packets.
import { createSocket } from 'node:dgram';

/** Sends `packet` to 127.0.0.1:port and resolves with the reply, or undefined after `waitMs`. */
export function sendRaw(port: number, packet: Buffer, waitMs = 1000, bindAddress = '127.0.0.1'): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => done(undefined), waitMs);
    const done = (reply: Buffer | undefined) => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    };
    socket.on('message', (reply) => done(reply));
    socket.bind(0, bindAddress, () => socket.send(packet, port, '127.0.0.1'));
  });
}

/** A plain query: header (given flags) + one question. */
export function buildQuery(name: string, type: number, options: { id?: number; flags?: number; qdcount?: number; klass?: number } = {}): Buffer {
  const labels = name.split('.').filter(Boolean);
  const question = Buffer.concat([
    ...labels.map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'latin1')])),
    Buffer.from([0, type >> 8, type & 0xff, 0, options.klass ?? 1]),
  ]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(options.id ?? 0x1234, 0);
  header.writeUInt16BE(options.flags ?? 0x0100, 2);
  header.writeUInt16BE(options.qdcount ?? 1, 4);
  return Buffer.concat([header, question]);
}

export function rcodeOf(reply: Buffer): number {
  return reply.readUInt16BE(2) & 0xf;
}
