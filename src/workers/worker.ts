// A DNS worker: a registry replica fed by the primary, and a DNS server on
// its own SO_REUSEPORT sockets or on the ones the cluster shares, as the
// primary says. Its configuration comes with the snapshot.
import { createDnsServer, zoneSettings } from '../dns/setup.js';
import type { DnsServer } from '../dns/server.js';
import { DnsCounts } from '../dns-counts.js';
import { tightenHeapGrowth } from '../heap.js';
import { Registry } from '../registry/registry.js';
import { createWorkerLog } from './log.js';
import type { FromWorker, ToWorker } from './messages.js';

/** Runs until the primary disconnects. */
export function runDnsWorker(): Promise<void> {
  const registry = new Registry();
  const counts = new DnsCounts();
  const send = (message: FromWorker) => process.send?.(message);
  let dns: DnsServer | undefined;
  /** The SOA serial's base and ceiling, as the primary last said: the ceiling rises as serials are reserved. */
  const serial = { base: 0, ceiling: 0 };

  // The primary decides when to stop; a terminal's Ctrl-C reaches it too.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => undefined);

  process.on('message', (message: ToWorker) => {
    if (message.type === 'snapshot') {
      const { config } = message;
      const log = createWorkerLog(config.logLevel);
      serial.base = message.serialBase;
      serial.ceiling = message.serialCeiling;
      registry.apply({ kind: 'replace', ownerPrefix: '', instances: message.instances }, message.generation);
      dns = createDnsServer(config, registry, zoneSettings(config, serial), log, counts, message.reusePort);
      counts.watchAnswerCache(dns);
      dns.start().then(
        () => {
          tightenHeapGrowth();
          send({ type: 'listening' });
        },
        (error: unknown) => {
          log.fatal({ err: error }, 'DNS worker cannot listen');
          log.flush(() => process.exit(1));
        },
      );
    } else if (message.type === 'change') {
      serial.ceiling = message.serialCeiling;
      registry.apply(message.change, message.generation);
      send({ type: 'ack', sequence: message.sequence });
    } else if (message.type === 'metrics') {
      send({ type: 'metrics', request: message.request, counts: counts.snapshot() });
    }
  });

  send({ type: 'hello' });
  return new Promise((resolve) => {
    process.once('disconnect', () => {
      void (dns?.stop() ?? Promise.resolve()).finally(resolve);
    });
  });
}
