// The query log (--query-log): one line per answer sent, like CoreDNS's `log` plugin or dnsmasq's
// log-queries, bounded by a rate cap. Read from the reply itself, so the request path does not change.
import { performance } from 'node:perf_hooks';
import type { Log } from '../ops/log.js';
import { RCODE_NAMES, TYPE_NAMES } from '../zone/records.js';
import { HEADER_SIZE, labelText } from './wire/read.js';

/**
 * Where an answer came from: seamark's zone, the answer cache (a zone or a forwarded answer kept), an upstream
 * (`forward`), the forwarder's own cache of upstream answers (`forward-cache`), or seamark itself (refusals, errors, CHAOS).
 */
export type AnswerSource = 'zone' | 'cache' | 'forward' | 'forward-cache' | 'seamark';

export interface QueryLog {
  /** One answer sent to `client` over `transport`, `startedAt` being performance.now() when its query arrived. */
  answered(client: string, transport: 'udp' | 'tcp', response: Buffer, startedAt: number, source: Exclude<AnswerSource, 'zone' | 'seamark'> | undefined): void;
}

/**
 * At most `linesPerSecond` lines in each second; the lines over it are counted, not written, and the count is
 * logged once the second is over (at warn), so a flood costs a counter, not a log line per query.
 */
export function createQueryLog(log: Log, linesPerSecond: number, now: () => number = performance.now.bind(performance)): QueryLog {
  let secondStart = -Infinity;
  let lines = 0;
  let dropped = 0;
  const reportDropped = () => {
    if (dropped > 0) log.warn({ dropped, queryLogRate: linesPerSecond }, `query log: ${dropped} lines left out (over queryLogRate, ${linesPerSecond} lines a second)`);
    dropped = 0;
  };
  return {
    answered(client, transport, response, startedAt, source) {
      const at = now();
      if (at - secondStart >= 1000) {
        reportDropped();
        secondStart = at;
        lines = 0;
      }
      if (++lines > linesPerSecond) {
        // The count is said when the second is over, whether or not another query comes.
        if (dropped++ === 0) setTimeout(reportDropped, Math.max(0, secondStart + 1000 - at)).unref();
        return;
      }
      const question = readQuestion(response);
      const rcode = response.length >= 4 ? response.readUInt16BE(2) & 0xf : 0;
      const authoritative = response.length >= 3 && ((response[2] as number) & 0x04) !== 0;
      log.info(
        {
          client,
          transport,
          name: question?.name ?? '',
          type: question === undefined ? '' : (TYPE_NAMES.get(question.type) ?? `TYPE${question.type}`),
          rcode: RCODE_NAMES.get(rcode) ?? `RCODE${rcode}`,
          from: source ?? (authoritative ? 'zone' : 'seamark'),
          ms: Math.round((at - startedAt) * 1000) / 1000,
        },
        'query',
      );
    },
  };
}

/** The question a reply echoes (uncompressed, right after the header), or undefined when it has none. */
function readQuestion(response: Buffer): { name: string; type: number } | undefined {
  if (response.length < HEADER_SIZE || response.readUInt16BE(4) === 0) return undefined;
  const labels: string[] = [];
  let offset = HEADER_SIZE;
  for (let length = response[offset]; length !== undefined && length > 0 && length < 64; length = response[offset]) {
    labels.push(labelText(response, offset + 1, offset + 1 + length));
    offset += length + 1;
  }
  if (response[offset] !== 0 || offset + 3 > response.length) return undefined;
  return { name: labels.length === 0 ? '.' : labels.join('.'), type: response.readUInt16BE(offset + 1) };
}
