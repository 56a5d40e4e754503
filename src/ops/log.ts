// The process logger: pino, JSON lines on stdout, or lines for people (pino-pretty) on a terminal.
import type { Logger } from 'pino';
import { requireCommonJs } from '../lib/commonjs.js';
import type { Config } from '../config/schema.js';

const { pino } = requireCommonJs('pino') as typeof import('pino');

/** What the DNS path logs with: a pino logger, or a DNS worker's (src/workers/log.ts), which sends its records to the primary's. */
export type Log = Pick<Logger, 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'>;

export type LogFormat = 'pretty' | 'json';

/** `auto` is pretty when stdout is a terminal, JSON when it goes to a file, a pipe or the journal. */
export function logFormatOf(setting: Config['logFormat'], stdoutIsTerminal = process.stdout.isTTY === true): LogFormat {
  return setting === 'auto' ? (stdoutIsTerminal ? 'pretty' : 'json') : setting;
}

/**
 * The pretty form is pino-pretty as a synchronous stream on this thread (no transport thread): a fatal line is
 * written before the process exits. DNS workers never format: their records reach this logger (workers/log.ts).
 */
export function createLogger(level: string, format: LogFormat = 'json'): Logger {
  const options = { level, base: { name: 'seamark' } };
  if (format === 'json') return pino(options);
  const { PinoPretty } = requireCommonJs('pino-pretty') as typeof import('pino-pretty');
  return pino(
    options,
    PinoPretty({ sync: true, colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name', singleLine: true }),
  );
}
