// A DNS worker: a registry replica fed by the primary, and a DNS server on
// its own sockets (SO_REUSEPORT, or a thread's plain ones) or on the ones the
// cluster shares, as the primary says. Its configuration comes with the
// snapshot. The same code runs in a worker process and in a worker thread;
// only the channel to the primary differs.
import { createDnsServer, reconfigureDnsServer, zoneSettings } from '../dns/setup.js';
import type { ZoneSettings } from '../zone/view.js';
import type { DnsServer } from '../dns/server.js';
import { DnsCounts } from '../ops/dns-counts.js';
import { tightenHeapGrowth } from './heap.js';
import { compactInstance } from '../registry/instance.js';
import { Registry, type RegistryChange } from '../registry/registry.js';
import { createWorkerLog, type WorkerLog } from './log.js';
import type { FromWorker, ToWorker } from './messages.js';

/** How a worker talks to the primary. */
export interface PrimaryChannel {
  /** `written` is called once the message is handed over (a process's IPC may queue it). */
  send(message: FromWorker, written?: () => void): void;
  onMessage(listener: (message: ToWorker) => void): void;
  /** Called once when the primary lets go of the worker: stop serving. */
  onceClosed(listener: () => void): void;
  /** Ends the worker after a fatal error. */
  exit(code: number): void;
}

/** The channel of a worker process forked by the cluster module: IPC. */
export function processChannel(): PrimaryChannel {
  // The primary decides when to stop; a terminal's Ctrl-C reaches it too.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => undefined);
  // A terminal's hangup reaches the whole process group: the primary reloads, and tells the workers.
  process.on('SIGHUP', () => undefined);
  return {
    send: (message, written) => (written === undefined ? process.send?.(message) : process.send?.(message, written)),
    onMessage: (listener) => process.on('message', listener),
    onceClosed: (listener) => process.once('disconnect', listener),
    exit: (code) => process.exit(code),
  };
}

/** Runs until the primary lets go. */
export function runDnsWorker(channel: PrimaryChannel): Promise<void> {
  const registry = new Registry();
  const counts = new DnsCounts();
  const send = (message: FromWorker) => channel.send(message);
  let dns: DnsServer | undefined;
  let log: WorkerLog | undefined;
  let zone: ZoneSettings | undefined;
  /** The SOA serial's base and ceiling, as the primary last said: the ceiling rises as serials are reserved. */
  const serial = { base: 0, ceiling: 0 };

  channel.onMessage((message) => {
    if (message.type === 'snapshot') {
      const { config } = message;
      const workerLog = createWorkerLog(config.logLevel, (record, written) => channel.send(record, written));
      log = workerLog;
      serial.base = message.serialBase;
      serial.ceiling = message.serialCeiling;
      registry.apply({ kind: 'replace', ownerPrefix: '', instances: message.instances.map(compactInstance) }, message.generation);
      zone = zoneSettings(config, serial);
      dns = createDnsServer(config, registry, zone, workerLog, counts, message.reusePort);
      counts.watchAnswerCache(dns);
      dns.start().then(
        () => {
          send({ type: 'listening' });
          // In a later task: while this message's task runs, the runtime still holds the snapshot as it was
          // received, and the collection would keep it.
          setImmediate(tightenHeapGrowth);
        },
        (error: unknown) => {
          const { message, code, syscall, address, port } = error as NodeJS.ErrnoException & { address?: string; port?: number };
          workerLog.flush(() => channel.send({ type: 'cannot-listen', message, code, syscall, address, port }, () => channel.exit(1)));
        },
      );
    } else if (message.type === 'change') {
      serial.ceiling = message.serialCeiling;
      registry.apply(compactChange(message.change), message.generation);
      send({ type: 'ack', sequence: message.sequence });
    } else if (message.type === 'reconfigure') {
      if (dns === undefined || log === undefined || zone === undefined) return;
      log.setLevel(message.config.logLevel);
      if (message.dnsChanged) reconfigureDnsServer(dns, message.config, registry, zone, log, counts);
    } else if (message.type === 'metrics') {
      send({ type: 'metrics', request: message.request, counts: counts.snapshot() });
    }
  });

  send({ type: 'hello' });
  return new Promise((resolve) => {
    channel.onceClosed(() => {
      void (dns?.stop() ?? Promise.resolve()).finally(resolve);
    });
  });
}

/** A change as received, its instances made compact (see compactInstance). */
function compactChange(change: RegistryChange): RegistryChange {
  if (change.kind === 'upsert') return { kind: 'upsert', instance: compactInstance(change.instance) };
  if (change.kind === 'replace') return { kind: 'replace', ownerPrefix: change.ownerPrefix, instances: change.instances.map(compactInstance) };
  return change;
}
