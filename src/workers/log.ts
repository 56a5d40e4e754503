// A DNS worker's logger: its records go to the primary (over IPC from a
// process, as a message from a thread) and the primary writes them with its
// pino logger, so a worker does not load pino (about 8 MB resident per
// worker, measured). Errors are serialized here the
// way pino serializes them, with pino's own serializer.
import { requireCommonJs } from '../lib/commonjs.js';
import type { Log } from '../ops/log.js';
import type { Config } from '../config/schema.js';
import type { FromWorker, LogLevel } from './messages.js';

/** pino's own error serialiser, loaded with the first error logged: most workers never log one. */
let serializeError: ((error: Error) => unknown) | undefined;

/** pino's level numbers. */
const LEVELS: Record<Config['logLevel'], number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

export interface WorkerLog extends Log {
  /** Calls `then` once every record logged so far is written to the IPC channel (before an exit). */
  flush(then: () => void): void;
  /** A reloaded log level. */
  setLevel(level: Config['logLevel']): void;
}

/** Sends one record to the primary; calls `written` once it is handed to the channel. */
export type SendRecord = (record: FromWorker, written: () => void) => void;

export function createWorkerLog(level: Config['logLevel'], sendRecord: SendRecord): WorkerLog {
  let threshold = LEVELS[level];
  let unsent = 0;
  let whenFlushed: (() => void) | undefined;
  const written = () => {
    if (--unsent === 0) whenFlushed?.();
  };
  const at =
    (name: LogLevel) =>
    (fieldsOrMessage: unknown, message?: string): void => {
      if (LEVELS[name] < threshold) return;
      const record: FromWorker =
        typeof fieldsOrMessage === 'string'
          ? { type: 'log', level: name, fields: {}, msg: fieldsOrMessage }
          : { type: 'log', level: name, fields: serializeErrors(fieldsOrMessage as Record<string, unknown>), msg: message };
      unsent++;
      sendRecord(record, written);
    };
  return {
    fatal: at('fatal'),
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    trace: at('trace'),
    setLevel(level) {
      threshold = LEVELS[level];
    },
    flush(then) {
      if (unsent === 0) then();
      else whenFlushed = then;
    },
  };
}

/** The fields with `err` as pino writes it: an Error does not survive the IPC channel's JSON. */
function serializeErrors(fields: Record<string, unknown>): Record<string, unknown> {
  if (!(fields.err instanceof Error)) return fields;
  serializeError ??= (requireCommonJs('pino-std-serializers') as typeof import('pino-std-serializers')).err;
  return { ...fields, err: serializeError(fields.err) };
}
