// Starts the real `seamark` command as a child process on free loopback ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

export interface RunningSeamark {
  process: ChildProcess;
  pid: number;
  dnsPort: number;
  httpPort: number;
  dataDir: string;
  /** The YAML file seamark was started with (a test may write it again and send SIGHUP). */
  configFile: string;
  /** Every log line so far, parsed. */
  logs: Record<string, unknown>[];
  stderr: string[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  /** Settings written to a YAML config file (dns/http/dataDir are filled in unless given). */
  config?: Record<string, unknown>;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  dataDir?: string;
  /** Log line (msg) to wait for before resolving. */
  waitFor?: string;
  dnsPort?: number;
  /** The node binary to run seamark with; the test runner's by default. */
  node?: string;
}

/** A port free for both UDP and TCP on 127.0.0.1. */
/**
 * A port free for TCP and UDP on 127.0.0.1, below the kernel's ephemeral range (32768 and up): a port the kernel
 * hands out for an outgoing socket (every forwarded query takes a random one, dig and the Docker client too) can
 * then never be taken between this check and the server binding it.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const tcpFree = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (!tcpFree) continue;
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
}

export async function startSeamark(options: StartOptions = {}): Promise<RunningSeamark> {
  const dir = mkdtempSync(join(tmpdir(), 'seamark-test-'));
  const dnsPort = options.dnsPort ?? (await freePort());
  const httpPort = await freePort();
  const dataDir = options.dataDir ?? join(dir, 'data');
  const config = {
    dns: [`127.0.0.1:${dnsPort}`],
    http: `127.0.0.1:${httpPort}`,
    dataDir,
    logLevel: 'debug',
    ...options.config,
  };
  const configFile = join(dir, 'seamark.yaml');
  writeFileSync(configFile, stringify(config));
  const child = spawn(options.node ?? process.execPath, [MAIN, '--config', configFile, ...(options.args ?? [])], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  const waitFor = options.waitFor ?? 'seamark started';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let timer: NodeJS.Timeout | undefined;
  const started = new Promise<void>((resolve, reject) => {
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      let newline;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          if (entry.msg === waitFor) resolve();
        } catch {
          stderr.push(line);
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    void exited.then((code) => reject(new Error(`seamark exited with ${code} before "${waitFor}": ${stderr.join('')}`)));
    timer = setTimeout(() => reject(new Error(`seamark did not log "${waitFor}" within 15 s: ${stderr.join('')}`)), 15000);
  });
  await started
    .catch((error: unknown) => {
      child.kill('SIGKILL');
      throw error;
    })
    .finally(() => clearTimeout(timer));
  return {
    process: child,
    pid: child.pid as number,
    dnsPort,
    httpPort,
    dataDir,
    configFile,
    logs,
    stderr,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}

/**
 * The seamark of the tests in the describe() this is called in: started before the first of them, stopped after
 * the last. Its fields are filled in by then. `options` may be a function, called in that before() (for what has
 * to exist first: a port, a certificate, a proxy).
 */
export function seamarkForSuite(options: StartOptions | (() => StartOptions | Promise<StartOptions>) = {}): RunningSeamark {
  const seamark = {} as Partial<RunningSeamark>;
  before(async () => {
    Object.assign(seamark, await startSeamark(typeof options === 'function' ? await options() : options));
  });
  after(async () => {
    await seamark.stop?.();
  });
  return seamark as RunningSeamark;
}

/** Runs `test` with a seamark of its own, stopped after it whatever it did. */
export async function withSeamark<T>(options: StartOptions, test: (seamark: RunningSeamark) => Promise<T>): Promise<T> {
  const seamark = await startSeamark(options);
  try {
    return await test(seamark);
  } finally {
    await seamark.stop();
  }
}

/** A metric's value on seamark's /metrics, summed over its labels; fails when the metric is not exported. */
export async function metric(seamark: Pick<RunningSeamark, 'httpPort'>, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${seamark.httpPort}/metrics`)).text();
  if (!new RegExp(`^# TYPE ${name} `, 'm').test(text)) throw new Error(`metric ${name} is not exported`);
  const lines = text.split('\n').filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return lines.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}
