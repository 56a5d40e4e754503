// DNS wire format, zone transfers: a zone's records as a series of TCP messages.
import type { ResourceRecord } from '../../zone/records.js';
import { MAX_MESSAGE_SIZE, MessageWriter, scratch, type BadRecordListener } from './write.js';

/** Messages of a zone transfer are filled to about this size. */
const TRANSFER_MESSAGE_SIZE = 16000;

/**
 * An encoded zone transfer: a series of TCP messages of at most ~16 KiB
 * each, every one with an OPT when the query had one. A record that cannot
 * be encoded is left out and reported; the transfer goes on.
 */
export function* encodeTransfer(
  query: Buffer,
  id: number,
  questionEnd: number,
  records: readonly ResourceRecord[],
  edns?: { payloadSize: number; dnssecOk: boolean },
  onBadRecord?: BadRecordListener,
): Generator<Buffer, void, undefined> {
  let messages = 0;
  let index = 0;
  // Encoded one message at a time, as the connection takes them: a large zone is never all in memory twice.
  while (index < records.length || messages === 0) {
    const writer = new MessageWriter(scratch);
    writer.header(id, 0x8000 | 0x0400, 1);
    writer.question(query, questionEnd);
    let count = 0;
    for (; index < records.length && writer.offset < TRANSFER_MESSAGE_SIZE; index++) {
      count += writer.records([records[index] as ResourceRecord], MAX_MESSAGE_SIZE, onBadRecord);
    }
    writer.setCounts(count, 0, 0);
    if (edns) writer.opt(edns.payloadSize, 0, edns.dnssecOk);
    messages++;
    yield Buffer.from(scratch.subarray(0, writer.offset));
  }
}
