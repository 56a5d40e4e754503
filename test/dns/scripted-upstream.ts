// A scripted upstream resolver on loopback (UDP and TCP) for the faults a real
// one cannot produce on demand: truncating on purpose, odd TTLs, slow answers.
import { createSocket } from 'node:dgram';
import { createServer, type Socket } from 'node:net';
import { freePort } from '../helpers/seamark.js';

export interface UpstreamRecord {
  /** Owner name, dotted, no trailing dot. */
  name: string;
  type: number;
  ttl: number;
  rdata: Buffer;
}

export interface ScriptedAnswer {
  rcode?: number;
  truncated?: boolean;
  answers?: UpstreamRecord[];
  authority?: UpstreamRecord[];
  additional?: UpstreamRecord[];
  /** Payload size of an OPT added when the query had one. */
  optPayload?: number;
  /** Milliseconds before the answer is sent. */
  delayMs?: number;
}

export interface AskedQuestion {
  name: string;
  type: number;
  viaTcp: boolean;
  /** The address and port the query came from. */
  from: { address: string; port: number };
}

export interface ScriptedUpstream {
  port: number;
  asked: AskedQuestion[];
  /** Sends `message` from the upstream's own UDP address and port to 127.0.0.1:`port`, as an attacker forging it would. */
  sendFrom(message: Buffer, port: number): void;
  stop(): Promise<void>;
}

export function wireName(name: string): Buffer {
  const labels = name.split('.').filter(Boolean);
  return Buffer.concat([...labels.map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'latin1')])), Buffer.from([0])]);
}

export const rdataA = (address: string) => Buffer.from(address.split('.').map(Number));

export function rdataSoa(zone: string, serial: number, minimum: number): Buffer {
  const numbers = Buffer.alloc(20);
  [serial, 60, 30, 86400, minimum].forEach((value, i) => numbers.writeUInt32BE(value, i * 4));
  return Buffer.concat([wireName(`ns.${zone}`), wireName(`hostmaster.${zone}`), numbers]);
}

export function record(r: UpstreamRecord): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(r.type, 0);
  fixed.writeUInt16BE(1, 2);
  fixed.writeUInt32BE(r.ttl, 4);
  fixed.writeUInt16BE(r.rdata.length, 8);
  return Buffer.concat([wireName(r.name), fixed, r.rdata]);
}

/** Question name (lower case), type, end offset, and whether an OPT follows. */
function readQuestion(query: Buffer): { name: string; type: number; end: number; edns: boolean } {
  const labels: string[] = [];
  let offset = 12;
  while (query[offset] !== 0) {
    const length = query[offset] as number;
    labels.push(query.subarray(offset + 1, offset + 1 + length).toString('latin1').toLowerCase());
    offset += length + 1;
  }
  const end = offset + 5;
  return { name: labels.join('.'), type: query.readUInt16BE(offset + 1), end, edns: query.readUInt16BE(10) > 0 };
}

function buildAnswer(query: Buffer, script: ScriptedAnswer, edns: boolean, questionEnd: number): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  header.writeUInt16BE(0x8000 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | (script.truncated ? 0x0200 : 0) | (script.rcode ?? 0), 2);
  header.writeUInt16BE(1, 4);
  const answers = script.answers ?? [];
  const authority = script.authority ?? [];
  const additional = script.additional ?? [];
  header.writeUInt16BE(answers.length, 6);
  header.writeUInt16BE(authority.length, 8);
  const opt = edns ? Buffer.from([0, 0, 41, (script.optPayload ?? 4096) >> 8, (script.optPayload ?? 4096) & 0xff, 0, 0, 0, 0, 0, 0]) : Buffer.alloc(0);
  header.writeUInt16BE(additional.length + (edns ? 1 : 0), 10);
  return Buffer.concat([header, query.subarray(12, questionEnd), ...answers.map(record), ...authority.map(record), ...additional.map(record), opt]);
}

/** Answers each question with `script(question)`; undefined: no answer at all. */
export async function startScriptedUpstream(script: (question: AskedQuestion) => ScriptedAnswer | undefined): Promise<ScriptedUpstream> {
  const port = await freePort();
  const asked: AskedQuestion[] = [];
  let stopped = false;
  const respond = (query: Buffer, viaTcp: boolean, from: AskedQuestion['from'], send: (answer: Buffer) => void) => {
    const question = readQuestion(query);
    const asking = { name: question.name, type: question.type, viaTcp, from };
    asked.push(asking);
    const answer = script(asking);
    if (answer === undefined) return;
    const bytes = buildAnswer(query, answer, question.edns, question.end);
    // A late answer to a query asked just before stop() is not sent.
    if (answer.delayMs) setTimeout(() => stopped || send(bytes), answer.delayMs);
    else send(bytes);
  };
  const udp = createSocket('udp4');
  udp.on('message', (query, remote) => respond(query, false, { address: remote.address, port: remote.port }, (answer) => udp.send(answer, remote.port, remote.address)));
  await new Promise<void>((resolve) => udp.bind(port, '127.0.0.1', resolve));
  const connections = new Set<Socket>();
  const tcp = createServer((connection) => {
    connections.add(connection);
    connection.on('close', () => connections.delete(connection));
    connection.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    connection.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= buffered.readUInt16BE(0) + 2) {
        const query = buffered.subarray(2, buffered.readUInt16BE(0) + 2);
        buffered = buffered.subarray(query.length + 2);
        respond(Buffer.from(query), true, { address: connection.remoteAddress ?? '', port: connection.remotePort ?? 0 }, (answer) => {
          const length = Buffer.alloc(2);
          length.writeUInt16BE(answer.length);
          if (!connection.destroyed) connection.write(Buffer.concat([length, answer]));
        });
      }
    });
  });
  await new Promise<void>((resolve) => tcp.listen(port, '127.0.0.1', resolve));
  return {
    port,
    asked,
    sendFrom(message, to) {
      udp.send(message, to, '127.0.0.1');
    },
    async stop() {
      stopped = true;
      udp.close();
      for (const connection of connections) connection.destroy();
      await new Promise((resolve) => tcp.close(resolve));
    },
  };
}
