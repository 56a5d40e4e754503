// The primary's side of multi-process DNS: forks the workers, which bind the
// DNS sockets (each its own with SO_REUSEPORT on Node >= 22.12, else shared
// through Node's cluster module), replicates every registry change to them,
// and knows when all of them serve it.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { parseEndpoint } from '../config/addresses.js';
import type { Config } from '../config/schema.js';
import type { Metrics } from '../metrics.js';
import type { Registry } from '../registry/registry.js';
import type { SerialLimits } from '../zone/serial.js';
import type { DnsCountsSnapshot } from '../dns-counts.js';
import { operatorGave } from '../heap.js';
import type { FromWorker, ToWorker } from './messages.js';
import { checkPortsFree, workersReusePort } from './sockets.js';

export interface Replicas {
  /** Resolves once every worker serves every registry change made so far. */
  synced(): Promise<void>;
  stop(): Promise<void>;
}

/** Longest wait for workers to confirm a change before a write is answered anyway (a stuck worker must not stall the API). */
const SYNC_TIMEOUT_MS = 2000;

export async function startDnsWorkers(config: Config, count: number, registry: Registry, serial: SerialLimits, metrics: Metrics, log: Logger): Promise<Replicas> {
  let sequence = 0;
  let stopping = false;
  const acknowledged = new Map<Worker, number>();
  /** Every worker sent a snapshot, by the last change it applied: changes go to a starting worker too, or it would miss them. */
  const applied = new Map<Worker, number>();
  let waiters: { sequence: number; resolve: () => void }[] = [];
  const listen = config.dns.map((text) => parseEndpoint(text));
  const reusePort = workersReusePort(listen);
  if (reusePort) await checkPortsFree(listen);

  // One V8 helper thread per worker instead of Node's default four: about 1 MB less resident per worker, and no
  // change in CPU per query (`npm run bench`). An operator's own --v8-pool-size (node flags or NODE_OPTIONS) wins.
  if (!operatorGave(/^--v8-pool-size/)) cluster.setupPrimary({ execArgv: [...process.execArgv, '--v8-pool-size=1'] });

  const send = (worker: Worker, message: ToWorker) => {
    if (worker.isConnected()) worker.send(message);
  };
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
  });

  let metricsRequest = 0;
  const pendingMetrics = new Map<number, { remaining: number; parts: DnsCountsSnapshot[]; done: () => void }>();

  const fork = (): Promise<Worker> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork();
      // The worker's log records, written as the worker's own: their `err` comes serialized already.
      const workerLog = log.child({ worker: worker.id }, { serializers: { err: (serialized: unknown) => serialized } });
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'hello') {
          // The configured hosts are in the registry already: not sent twice.
          send(worker, { type: 'snapshot', config: { ...config, hosts: [] }, reusePort, sequence, generation: registry.generation, serialBase: serial.base, serialCeiling: serial.ceiling, instances: [...registry.all()] });
          applied.set(worker, sequence);
        } else if (message.type === 'listening') {
          acknowledged.set(worker, applied.get(worker) ?? 0);
          settleWaiters();
          resolve(worker);
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
      worker.once('exit', (code, signal) => {
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
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
    throw error;
  });
  log.info({ workers: workers.length, sockets: reusePort ? 'one per worker (SO_REUSEPORT)' : 'shared' }, 'DNS workers listening');

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
    async stop() {
      stopping = true;
      await Promise.all(
        Object.values(cluster.workers ?? {}).map(
          (worker) =>
            new Promise<void>((resolve) => {
              if (worker === undefined || worker.isDead()) return resolve();
              const timer = setTimeout(() => worker.kill('SIGKILL'), 500);
              worker.once('exit', () => (clearTimeout(timer), resolve()));
              worker.disconnect();
            }),
        ),
      );
    },
  };
}
