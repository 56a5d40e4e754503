// A zone answer whose CNAME chain leaves seamark's zones (a hand-made alias of an outside name): the question the
// forwarder is asked for its target, and the records of the forwarded answer that are appended to the chain, as
// a recursive resolver's answer carries them.
import { RELAYED, type ResourceRecord } from '../zone/records.js';
import { HEADER_SIZE, readQuestionName, readRecordHeader, skipName, type Query } from './wire/read.js';

/** The client's question with the name `target` (normalised, unescaped): its wire form and its parse, for the forwarder. */
export function targetQuestion(query: Query, target: string): { message: Buffer; query: Query } {
  const labels = target.split('.').map((label) => Buffer.from(label, 'latin1'));
  const name = Buffer.concat([...labels.flatMap((label) => [Buffer.from([label.length]), label]), Buffer.from([0])]);
  const message = Buffer.alloc(HEADER_SIZE + name.length + 4);
  message.writeUInt16BE(query.id, 0);
  message.writeUInt16BE((query.recursionDesired ? 0x0100 : 0) | (query.checkingDisabled ? 0x0010 : 0), 2);
  message.writeUInt16BE(1, 4);
  name.copy(message, HEADER_SIZE);
  message.writeUInt16BE(query.type, HEADER_SIZE + name.length);
  message.writeUInt16BE(query.class, HEADER_SIZE + name.length + 2);
  return { message, query: { ...query, name: target, questionEnd: message.length } };
}

/**
 * The rcode, answer and authority records of a forwarded answer to the question `target` (a message the
 * forwarder's scrub wrote: owners equal to the question point at it, every other name is written whole), as
 * records the encoder copies; undefined when it cannot be read so.
 */
export function relayedSections(response: Buffer, target: string): { rcode: number; answers: ResourceRecord[]; authority: ResourceRecord[] } | undefined {
  if (response.length < HEADER_SIZE) return undefined;
  let offset = skipName(response, HEADER_SIZE);
  if (offset === undefined) return undefined;
  offset += 4;
  const sections: ResourceRecord[][] = [[], []];
  for (const [index, count] of [response.readUInt16BE(6), response.readUInt16BE(8)].entries()) {
    for (let i = 0; i < count; i++) {
      const header = readRecordHeader(response, offset);
      if (header === undefined) return undefined;
      const owner = response.readUInt16BE(offset) === (0xc000 | HEADER_SIZE) ? target : readQuestionName(response, offset)?.name;
      // An owner with an escaped dot or backslash cannot be written again as a name; nor can another pointer.
      if (owner === undefined || owner.includes('\\')) return undefined;
      sections[index]?.push({
        name: owner,
        ttl: response.readUInt32BE(header.ttlOffset),
        type: RELAYED,
        class: header.class,
        wireType: header.type,
        rdata: Buffer.from(response.subarray(header.rdataStart, header.end)),
      });
      offset = header.end;
    }
  }
  return { rcode: response.readUInt16BE(2) & 0xf, answers: sections[0] ?? [], authority: sections[1] ?? [] };
}
