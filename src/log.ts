// The process logger: pino, JSON lines on stdout.
import type { Logger } from 'pino';
import { requireCommonJs } from './commonjs.js';

const { pino } = requireCommonJs('pino') as typeof import('pino');

export function createLogger(level: string): Logger {
  return pino({ level, base: { name: 'seamark' } });
}
