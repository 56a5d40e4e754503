// 100,000 random and mutated packets: seamark keeps answering and its memory settles.
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { test } from 'node:test';
import dns2 from 'dns2';
import { dig } from '../helpers/dig.js';
import { startDnsmasq } from '../helpers/dnsmasq.js';
import { startSeamark } from '../helpers/seamark.js';

const { Packet } = dns2;

/** Valid queries to mutate, built with dns2. */
function seeds(): Buffer[] {
  const queries: [string, number][] = [
    ['web.docker', Packet.TYPE.A],
    ['_http._tcp.web.docker', Packet.TYPE.SRV],
    ['docker', Packet.TYPE.AXFR],
    ['2.0.1.10.in-addr.arpa', Packet.TYPE.PTR],
    ['ext.example.test', Packet.TYPE.A],
    ['missing.docker', Packet.TYPE.AAAA],
  ];
  return queries.flatMap(([name, type]) => {
    const plain = new Packet();
    plain.header.id = randomInt(0x10000);
    plain.header.rd = 1;
    plain.questions.push(new Packet.Question(name, type, Packet.CLASS.IN));
    const withEdns = new Packet();
    withEdns.header.id = randomInt(0x10000);
    withEdns.questions.push(new Packet.Question(name, type, Packet.CLASS.IN));
    // An ECS option: an EDNS option seamark does not use and must skip.
    const { ECS } = Packet.Resource.EDNS as unknown as { ECS: (subnet: string) => object };
    withEdns.additionals.push(Packet.Resource.EDNS([ECS('192.0.2.0/24')]));
    return [plain.toBuffer(), withEdns.toBuffer()];
  });
}

function mutate(seed: Buffer): Buffer {
  const packet = Buffer.from(seed);
  switch (randomInt(6)) {
    case 0: // flip bytes
      for (let i = randomInt(1, 6); i > 0; i--) packet[randomInt(packet.length)] = randomInt(256);
      return packet;
    case 1: // truncate
      return packet.subarray(0, randomInt(packet.length));
    case 2: // counts set to anything
      packet.writeUInt16BE(randomInt(0x10000), 4 + 2 * randomInt(4));
      return packet;
    case 3: // a compression pointer, maybe a loop, in the question
      packet.writeUInt16BE(0xc000 | randomInt(64), 12 + randomInt(Math.max(1, packet.length - 13)));
      return packet;
    case 4: // trailing garbage
      return Buffer.concat([packet, randomBytes(randomInt(1, 300))]);
    default: // header bits
      packet.writeUInt16BE(randomInt(0x10000), 2);
      return packet;
  }
}

function residentKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
}

/** Garbage over TCP: bad frames, half frames, hang-ups. */
async function tcpGarbage(port: number, packets: Buffer[]): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await new Promise<void>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        const seed = mutate(packets[randomInt(packets.length)] as Buffer);
        const frame = Buffer.alloc(2);
        frame.writeUInt16BE(randomInt(3) === 0 ? randomInt(0x10000) : seed.length);
        socket.end(Buffer.concat([frame, seed, randomInt(2) ? randomBytes(randomInt(40)) : Buffer.alloc(0)]));
      });
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
      socket.resume();
    });
  }
}

async function blast(port: number, count: number, packets: Buffer[]): Promise<void> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  for (let sent = 0; sent < count; ) {
    const batch = Math.min(500, count - sent);
    await Promise.all(
      Array.from({ length: batch }, () => {
        const seed = packets[randomInt(packets.length)] as Buffer;
        const packet = randomInt(4) === 0 ? randomBytes(randomInt(0, 600)) : mutate(seed);
        return new Promise<void>((resolve) => socket.send(packet, port, '127.0.0.1', () => resolve()));
      }),
    );
    sent += batch;
    await new Promise((resolve) => setImmediate(resolve));
  }
  socket.close();
}

test('100,000 random and mutated packets: still answering, memory settles', { timeout: 300_000 }, async () => {
  const upstream = await startDnsmasq({ 'ext.example.test': '192.0.2.7' });
  const seamark = await startSeamark({
    config: { docker: 'off', logLevel: 'info', upstreams: [`127.0.0.1:${upstream.port}`], forwardTimeout: 0.2, hosts: [{ names: ['web'], addresses: ['10.1.0.2'], srv: [{ service: 'http', port: 80 }] }] },
  });
  try {
    const packets = seeds();
    // Four rounds of 25,000; caches fill during the first ones, after which memory must stay put.
    const resident: number[] = [];
    for (let round = 0; round < 4; round++) {
      await blast(seamark.dnsPort, 25_000, packets);
      if (round === 3) await tcpGarbage(seamark.dnsPort, packets);
      await new Promise((resolve) => setTimeout(resolve, 500));
      resident.push(residentKb(seamark.pid));
    }

    assert.equal(seamark.process.exitCode, null, 'seamark still running');
    const reply = await dig(seamark.dnsPort, 'web.docker', 'A');
    assert.deepEqual(reply.answer.map((r) => r.data), ['10.1.0.2']);
    console.log(`resident memory after each 25,000 packets: ${resident.map((kb) => Math.round(kb / 1024)).join(', ')} MB`);
    const lastGrowthMb = ((resident[3] ?? 0) - (resident[1] ?? 0)) / 1024;
    assert.ok(lastGrowthMb < 12, `memory grew ${lastGrowthMb.toFixed(1)} MB over the last 50,000 packets`);
  } finally {
    await seamark.stop();
    await upstream.stop();
  }
});
