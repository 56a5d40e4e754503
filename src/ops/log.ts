// The process logger: pino, JSON lines on stdout.
import type { Logger } from 'pino';
import { requireCommonJs } from '../lib/commonjs.js';

const { pino } = requireCommonJs('pino') as typeof import('pino');

/** What the DNS path logs with: a pino logger, or a DNS worker's (src/workers/log.ts), which sends its records to the primary's. */
export type Log = Pick<Logger, 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'>;

export function createLogger(level: string): Logger {
  return pino({ level, base: { name: 'seamark' } });
}
