// Zone transfers: AXFR, and IXFR answered from the zone as it is now.
import { isAllowed } from '../config/addresses.js';
import { RRType, Rcode } from '../zone/records.js';
import { soaRecord, zoneOf, zoneTransfer } from '../zone/view.js';
import { ixfrClientSerial, type Query } from './wire/read.js';
import type { BadRecordListener, ResponseOptions } from './wire/write.js';
import { encodeTransfer } from './wire/transfer.js';
import type { DnsServerOptions } from './server.js';
import type { ReplyAll, Respond } from './request.js';

/**
 * AXFR, and IXFR answered from the zone as it is now (RFC 1995): a single
 * SOA when the client's serial is current, or over UDP (telling it to use
 * TCP); otherwise the whole zone in AXFR form.
 */
export function answerTransfer(
  options: Pick<DnsServerOptions, 'zone' | 'registry' | 'axfrAllow' | 'log' | 'onAnswer'>,
  message: Buffer,
  query: Query,
  client: string,
  viaTcp: boolean,
  replyAll: ReplyAll | undefined,
  respond: Respond,
  startedAt: number,
  edns: ResponseOptions['edns'],
  onBadRecord: BadRecordListener,
): false {
  const zone = zoneOf(options.zone, query.name);
  const isIxfr = query.type === RRType.IXFR;
  if (zone !== query.name || (!viaTcp && !isIxfr) || !isAllowed(options.axfrAllow, client)) {
    options.log.debug({ client, zone: query.name, viaTcp }, 'zone transfer refused');
    // A name that is not one of seamark's zones: not authoritative for it (RFC 5936 §2.2.1), as Knot answers.
    return respond(zone === query.name ? Rcode.REFUSED : Rcode.NOTAUTH, false);
  }
  const soa = soaRecord(options.zone, options.registry, zone, options.zone.ttl);
  if (isIxfr && soa.type === RRType.SOA) {
    const known = ixfrClientSerial(message, query.questionEnd);
    if (!viaTcp || (known !== undefined && !serialIsBefore(known, soa.serial))) return respond(Rcode.NOERROR, true, { answers: [soa] });
  }
  // Only TCP carries a whole zone (UDP got the SOA above).
  if (replyAll === undefined) return respond(Rcode.REFUSED, false);
  const records = zoneTransfer(options.registry, options.zone, zone);
  replyAll(encodeTransfer(message, query.id, query.questionEnd, records, edns, onBadRecord));
  options.onAnswer?.(query.type, Rcode.NOERROR, startedAt);
  return false;
}

/** RFC 1982: whether serial `a` comes before `b`. */
function serialIsBefore(a: number, b: number): boolean {
  return a !== b && ((b - a) >>> 0) < 0x80000000;
}
