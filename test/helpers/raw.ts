// Raw DNS over UDP for what dig cannot send: odd opcodes, broken packets.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';

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

/** Sends `packet` over TCP to 127.0.0.1:port and resolves with the first `count` replies (fewer if the server closes or `waitMs` passes). */
export function sendRawTcp(port: number, packet: Buffer, count = 1, waitMs = 5000): Promise<Buffer[]> {
  return new Promise((resolve) => {
    const replies: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port });
    let buffered = Buffer.alloc(0);
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(replies);
    };
    const timer = setTimeout(done, waitMs);
    socket.on('error', done);
    socket.on('close', done);
    socket.on('connect', () => socket.write(Buffer.concat([Buffer.from([packet.length >> 8, packet.length & 0xff]), packet])));
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= buffered.readUInt16BE(0) + 2) {
        replies.push(buffered.subarray(2, buffered.readUInt16BE(0) + 2));
        buffered = buffered.subarray(buffered.readUInt16BE(0) + 2);
      }
      if (replies.length >= count) done();
    });
  });
}

/** `query` with an OPT record (EDNS version 0, this payload size) added to its additional section. */
export function withOpt(query: Buffer, payloadSize = 1232): Buffer {
  const packet = Buffer.concat([query, Buffer.from([0, 0, 41, payloadSize >> 8, payloadSize & 0xff, 0, 0, 0, 0, 0, 0])]);
  packet.writeUInt16BE(packet.readUInt16BE(10) + 1, 10);
  return packet;
}

/** The OPT of a reply (payload size), when its last record is one. */
export function optOf(reply: Buffer): { payloadSize: number } | undefined {
  if (reply.length < 23 || reply.readUInt16BE(10) === 0) return undefined;
  const at = reply.length - 11;
  return reply[at] === 0 && reply.readUInt16BE(at + 1) === 41 ? { payloadSize: reply.readUInt16BE(at + 3) } : undefined;
}
