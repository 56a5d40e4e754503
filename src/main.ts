#!/usr/bin/env node
// The `seamark` command: read the configuration, start, reload on SIGHUP, stop on SIGINT/SIGTERM.
// The V8 heap settings first; everything else is imported in main(), after them (heap.ts says why).
import './workers/heap.js';
import { readFileSync } from 'node:fs';
import cluster from 'node:cluster';
import type { Logger } from 'pino';
import type { Seamark } from './app.js';
import type { CommandLine, LoadedConfig } from './config/load.js';
import type { LogFormat } from './ops/log.js';

async function main(argv: string[]): Promise<number> {
  const io = { out: (text: string) => process.stdout.write(text + '\n'), err: (text: string) => process.stderr.write(text + '\n') };
  if (cluster.isWorker) {
    // A DNS worker takes its configuration from the primary: it loads none of the configuration parser, the HTTP API, the store or the Docker client.
    const { processChannel, runDnsWorker } = await import('./workers/worker.js');
    await runDnsWorker(processChannel());
    return 0;
  }
  if (argv[0] === 'records') return (await import('./cli/records.js')).runRecordsCommand(argv.slice(1), process.env, io);
  if (argv[0] === 'lookup') return (await import('./cli/lookup.js')).runLookupCommand(argv.slice(1), process.env, io);
  const started = await start(argv);
  if (typeof started === 'number') return started;
  const { seamark, log, reload } = started;
  process.on('SIGHUP', reload);
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      log.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });
  // Whatever hangs on, the process is gone within a second of the signal; a stop that had to be cut short is no clean exit.
  setTimeout(() => {
    log.error({ afterMs: STOP_DEADLINE_MS }, `seamark did not stop within ${STOP_DEADLINE_MS} ms: exiting with status 1`);
    process.exit(1);
  }, STOP_DEADLINE_MS).unref();
  try {
    await seamark.stop();
  } catch (error) {
    log.error({ err: error }, `${(error as Error).message}: exiting with status 1`);
    return 1;
  }
  return 0;
}

const STOP_DEADLINE_MS = 800;

/**
 * What reaches the process unhandled. A rejected promise is one failed task whose
 * state is its own: logged as the bug it is, and DNS goes on serving. An uncaught
 * exception unwound a synchronous call part-way (the registry's indexes or an
 * answer half-written, maybe): serving on could give wrong answers silently, so it
 * is logged and the process exits 1, to be restarted (systemd's Restart=on-failure,
 * Docker's restart policy); every acknowledged write is already on disk or in etcd.
 */
function handleStrayFailures(log: Logger): void {
  process.on('unhandledRejection', (reason) => {
    log.error({ err: reason }, 'unhandled promise rejection (a bug in seamark): logged, DNS goes on serving');
  });
  process.on('uncaughtException', (error, origin) => {
    log.fatal({ err: error, origin }, 'uncaught exception (a bug in seamark): state may be inconsistent, exiting with status 1 to be restarted');
    process.exit(1);
  });
}

/**
 * Reads the configuration and starts seamark: an exit code when it cannot. A
 * function of its own so that nothing running holds the configuration: its
 * hosts live on in the registry alone.
 */
async function start(argv: string[]): Promise<number | { seamark: Seamark; log: Logger; reload: () => void }> {
  const { ConfigError, helpText, loadConfig, parseCommandLine } = await import('./config/load.js');
  const { createLogger, logFormatOf } = await import('./ops/log.js');
  let loaded: LoadedConfig;
  let commandLine: CommandLine;
  try {
    commandLine = parseCommandLine(argv);
    if (commandLine.help) {
      process.stdout.write(helpText() + '\n');
      return 0;
    }
    if (commandLine.version) {
      process.stdout.write(version() + '\n');
      return 0;
    }
    loaded = loadConfig(commandLine, process.env);
    if (commandLine.checkConfig) return await checkConfig(loaded);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`seamark: ${error.message}\n`);
      return 2;
    }
    throw error;
  }

  const format = logFormatOf(loaded.config.logFormat);
  const log = createLogger(loaded.config.logLevel, format);
  handleStrayFailures(log);
  // A SIGHUP before seamark runs would end the process (the default action): it is remembered and done once started.
  let reloadAsked = false;
  const askedEarly = () => (reloadAsked = true);
  process.on('SIGHUP', askedEarly);
  const { startSeamark } = await import('./app.js');
  let seamark: Seamark;
  try {
    seamark = await startSeamark(loaded.config, log);
  } catch (error) {
    reportStartFailure(error, log, format, (await import('./ops/hints.js')).withHint);
    return 1;
  }
  // The reload keeps the file's name, never the configuration read at start (its hosts would stay in memory).
  const startFile = loaded.file;
  const reload = () => {
    let next;
    try {
      next = loadConfig(commandLine, process.env);
      seamark.reload(next.config, next.file);
    } catch (error) {
      log.error(
        { file: next?.file ?? startFile },
        `configuration not reloaded, seamark runs on with the configuration it had: ${(error as Error).message}`,
      );
    }
  };
  process.off('SIGHUP', askedEarly);
  if (reloadAsked) reload();
  return { seamark, log, reload };
}

/**
 * Why seamark could not start, said once and readably: the fatal log line (in pretty form on a terminal). A
 * system error (a port in use, a permission) or a plain Error (seamark's own refusals) is its message, without a
 * stack; anything else is a bug and keeps its stack. With JSON logs the message is also one line on stderr, the
 * line a terminal or `systemctl status` shows.
 */
function reportStartFailure(error: unknown, log: Logger, format: LogFormat, withHint: (error: unknown) => string): void {
  const failure = error as NodeJS.ErrnoException & { address?: string; port?: number };
  const systemError = typeof failure.code === 'string' && typeof failure.syscall === 'string';
  const message = systemError && LISTEN_ERRORS.has(failure.code as string) ? `cannot listen: ${withHint(error)}` : String(failure.message ?? error);
  if (systemError) log.fatal({ code: failure.code, syscall: failure.syscall, address: failure.address, port: failure.port }, message);
  else if (error instanceof Error && error.constructor === Error) log.fatal(message);
  else log.fatal({ err: error }, message);
  if (format === 'json') process.stderr.write(`seamark: ${message}\n`);
}

const LISTEN_ERRORS = new Set(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL']);

/** `--check-config`: the configuration is good (exit 0), or the ConfigError thrown says why (exit 2). */
async function checkConfig(loaded: LoadedConfig): Promise<number> {
  const { readToken } = await import('./http/server.js');
  try {
    readToken(loaded.config);
  } catch (error) {
    process.stderr.write(`seamark: ${(error as Error).message}\n`);
    return 2;
  }
  process.stdout.write(`configuration OK${loaded.file === undefined ? ' (no file: environment, flags and defaults)' : `: ${loaded.file}`}\n`);
  return 0;
}

function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`seamark: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
