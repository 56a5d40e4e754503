// The primary's side of DNS workers: starts them, replicates every registry
// change to them, and knows when all of them serve it. Several workers are
// processes forked by the cluster module, which bind the DNS sockets (each its
// own with SO_REUSEPORT on Node >= 22.12, else shared through the cluster);
// one worker is by default a thread of this process with sockets of its own,
// so that DNS has an event loop the HTTP API never blocks, at a fraction of a
// process's memory.
import cluster from 'node:cluster';
import { setPriority } from 'node:os';
import { Worker as Thread } from 'node:worker_threads';
import type { Logger } from 'pino';
import { parseEndpoint } from '../config/addresses.js';
import type { Config } from '../config/schema.js';
import type { Metrics } from '../ops/metrics.js';
import type { Registry } from '../registry/registry.js';
import type { SerialLimits } from '../zone/serial.js';
import type { DnsCountsSnapshot } from '../ops/dns-counts.js';
import { operatorGave } from './heap.js';
import type { FromWorker, ToWorker } from './messages.js';
import { checkPortsFree, workersReusePort } from './sockets.js';

export interface Replicas {
  /** Resolves once every worker serves every registry change made so far. */
  synced(): Promise<void>;
  /** A reloaded configuration, for every worker now and every one started later; `dnsChanged`: its DNS settings differ. */
  reconfigure(config: Config, dnsChanged: boolean): void;
  stop(): Promise<void>;
}

/** Where the DNS workers run: processes of their own, or one thread of this process. */
export type WorkerKind = 'process' | 'thread';

/** A DNS worker as the primary sees it, whether a process or a thread. */
interface DnsWorker {
  readonly id: number;
  send(message: ToWorker): void;
  onMessage(listener: (message: FromWorker) => void): void;
  onceExit(listener: (code: number | null, signal: string | null) => void): void;
  /** Asks it to stop serving and waits until it has gone; killed when it has not within half a second. */
  stop(): Promise<void>;
}

/** Longest wait for workers to confirm a change before a write is answered anyway (a stuck worker must not stall the API). */
const SYNC_TIMEOUT_MS = 2000;

/**
 * The niceness the API's thread takes once the DNS thread runs: when the two want more CPU than there is (a
 * flood of requests on a small host), the kernel gives DNS the larger share. Measured (`npm run bench`, 2 cores
 * shared with the flood's client and dnsperf): DNS p99 under the flood several times its value at rest without
 * it, within a few tenths of a ms with it.
 */
const API_NICENESS = 5;

/** Longest wait for a worker told to stop before it is killed. */
const STOP_TIMEOUT_MS = 500;

function forkProcess(): DnsWorker {
  const worker = cluster.fork();
  return {
    id: worker.id,
    send: (message) => {
      if (worker.isConnected()) worker.send(message);
    },
    onMessage: (listener) => worker.on('message', listener),
    onceExit: (listener) => worker.once('exit', listener),
    stop: () =>
      new Promise((resolve) => {
        if (worker.isDead()) return resolve();
        const timer = setTimeout(() => worker.kill('SIGKILL'), STOP_TIMEOUT_MS);
        worker.once('exit', () => (clearTimeout(timer), resolve()));
        worker.disconnect();
      }),
  };
}

let threadsStarted = 0;

function startThread(log: Logger): DnsWorker {
  const thread = new Thread(new URL('./thread.js', import.meta.url));
  let exited = false;
  thread.once('exit', () => (exited = true));
  // An exception thrown in the thread ends it; the exit restarts it, as a dead worker process is restarted.
  thread.on('error', (error) => log.error({ err: error }, 'DNS thread failed'));
  return {
    id: ++threadsStarted,
    send: (message) => {
      if (!exited) thread.postMessage(message);
    },
    onMessage: (listener) => thread.on('message', listener),
    onceExit: (listener) => thread.once('exit', (code) => listener(code, null)),
    stop: () =>
      new Promise((resolve) => {
        if (exited) return resolve();
        const timer = setTimeout(() => void thread.terminate().catch(() => undefined), STOP_TIMEOUT_MS);
        thread.once('exit', () => (clearTimeout(timer), resolve()));
        thread.postMessage({ type: 'stop' } satisfies ToWorker);
      }),
  };
}

export async function startDnsWorkers(startConfig: Config, count: number, kind: WorkerKind, registry: Registry, serial: SerialLimits, metrics: Metrics, log: Logger): Promise<Replicas> {
  if (kind === 'thread' && count !== 1) throw new Error(`DNS runs on one thread at most, not ${count}: several workers are processes`);
  let sequence = 0;
  let stopping = false;
  const running = new Set<DnsWorker>();
  const acknowledged = new Map<DnsWorker, number>();
  /** Every worker sent a snapshot, by the last change it applied: changes go to a starting worker too, or it would miss them. */
  const applied = new Map<DnsWorker, number>();
  let waiters: { sequence: number; resolve: () => void }[] = [];
  let config = startConfig;
  const listen = config.dns.map((text) => parseEndpoint(text));
  // A thread binds its sockets as any process does: nobody shares them.
  const reusePort = kind === 'process' && workersReusePort(listen);
  if (reusePort) await checkPortsFree(listen);

  // One V8 helper thread per worker instead of Node's default four: about 1 MB less resident per worker, and no
  // change in CPU per query (`npm run bench`). An operator's own --v8-pool-size (node flags or NODE_OPTIONS) wins.
  if (kind === 'process' && !operatorGave(/^--v8-pool-size/)) cluster.setupPrimary({ execArgv: [...process.execArgv, '--v8-pool-size=1'] });

  const send = (worker: DnsWorker, message: ToWorker) => worker.send(message);
  const settleWaiters = () => {
    const lowest = Math.min(...acknowledged.values());
    waiters = waiters.filter((waiter) => {
      if (waiter.sequence > lowest) return true;
      waiter.resolve();
      return false;
    });
  };

  registry.onMutation((change, generation) => {
    sequence++;
    for (const worker of applied.keys()) send(worker, { type: 'change', sequence, generation, serialCeiling: serial.ceiling, change });
  }, 'DNS worker replication');

  let metricsRequest = 0;
  const pendingMetrics = new Map<number, { remaining: number; parts: DnsCountsSnapshot[]; done: () => void }>();

  const fork = (): Promise<DnsWorker> =>
    new Promise((resolve, reject) => {
      const worker = kind === 'thread' ? startThread(log) : forkProcess();
      running.add(worker);
      // The worker's log records, written as the worker's own: their `err` comes serialized already.
      const workerLog = log.child({ worker: worker.id }, { serializers: { err: (serialized: unknown) => serialized } });
      worker.onMessage((message) => {
        if (message.type === 'hello') {
          // The configured hosts are in the registry already: not sent twice.
          send(worker, { type: 'snapshot', config: { ...config, hosts: [] }, reusePort, sequence, generation: registry.generation, serialBase: serial.base, serialCeiling: serial.ceiling, instances: [...registry.all()] });
          applied.set(worker, sequence);
        } else if (message.type === 'listening') {
          acknowledged.set(worker, applied.get(worker) ?? 0);
          settleWaiters();
          resolve(worker);
        } else if (message.type === 'cannot-listen') {
          // The start fails with the worker's own error (a port in use, a permission), said once by whoever reports it.
          const { type: _, message: text, ...facts } = message;
          reject(Object.assign(new Error(text), facts));
        } else if (message.type === 'ack') {
          applied.set(worker, message.sequence);
          if (acknowledged.has(worker)) acknowledged.set(worker, message.sequence);
          settleWaiters();
        } else if (message.type === 'metrics') {
          const pending = pendingMetrics.get(message.request);
          if (pending === undefined) return;
          pending.parts.push(message.counts);
          if (--pending.remaining === 0) pending.done();
        } else if (message.type === 'log') {
          workerLog[message.level](message.fields, message.msg);
        }
      });
      worker.onceExit((code, signal) => {
        running.delete(worker);
        applied.delete(worker);
        const wasServing = acknowledged.delete(worker);
        settleWaiters();
        if (stopping) return;
        if (!wasServing) return reject(new Error(`DNS worker exited with ${signal ?? code} before listening`));
        log.error({ worker: worker.id, code, signal }, 'DNS worker died; starting another');
        fork().catch((error: unknown) => log.error({ err: error }, 'cannot restart a DNS worker'));
      });
    });

  const workers = await Promise.all(Array.from({ length: count }, fork)).catch(async (error: unknown) => {
    stopping = true;
    await Promise.all([...running].map((worker) => worker.stop()));
    throw error;
  });
  if (kind === 'thread') lowerThisThreadsPriority(log);
  const sockets = kind === 'thread' ? 'a thread of its own' : reusePort ? 'one per worker (SO_REUSEPORT)' : 'shared';
  log.info({ workers: workers.length, sockets }, kind === 'thread' ? 'DNS thread listening' : 'DNS workers listening');

  metrics.addWorkerMetrics(
    () =>
      new Promise((resolve) => {
        const request = ++metricsRequest;
        const serving = [...acknowledged.keys()];
        const parts: DnsCountsSnapshot[] = [];
        const done = () => {
          clearTimeout(timer);
          pendingMetrics.delete(request);
          resolve(parts);
        };
        const timer = setTimeout(done, 1000);
        pendingMetrics.set(request, { remaining: serving.length, parts, done });
        for (const worker of serving) send(worker, { type: 'metrics', request });
        if (serving.length === 0) done();
      }),
  );

  return {
    synced() {
      if (acknowledged.size === 0 || Math.min(...acknowledged.values()) >= sequence) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          log.warn({ sequence }, 'DNS workers slow to apply a change');
          resolve();
        }, SYNC_TIMEOUT_MS);
        waiters.push({ sequence, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    reconfigure(next, dnsChanged) {
      config = { ...next, hosts: [] };
      for (const worker of applied.keys()) send(worker, { type: 'reconfigure', config, dnsChanged });
    },
    async stop() {
      stopping = true;
      await Promise.all([...running].map((worker) => worker.stop()));
    },
  };
}

/**
 * Lowers the CPU priority of the calling thread alone (on Linux a niceness is a thread's, and threads started
 * later inherit it): the API's, once the DNS thread has started at the process's own. A DNS thread restarted
 * after a crash inherits the lower one; an unprivileged process cannot raise it again.
 */
function lowerThisThreadsPriority(log: Logger): void {
  try {
    // 0: the calling thread on Linux.
    setPriority(0, API_NICENESS);
  } catch (error) {
    log.debug({ err: error }, 'cannot lower the HTTP API thread\'s CPU priority');
  }
}
