// What the primary process and the DNS workers say to each other over IPC.
import type { Config } from '../config/schema.js';
import type { Instance } from '../registry/instance.js';
import type { RegistryChange } from '../registry/registry.js';
import type { DnsCountsSnapshot } from '../ops/dns-counts.js';

export type ToWorker =
  /** The configuration and the whole registry, once, before the worker listens. */
  | { type: 'snapshot'; config: Config; reusePort: boolean; sequence: number; generation: number; serialBase: number; serialCeiling: number; instances: Instance[] }
  /** `serialCeiling`: the highest SOA serial that may be served as of this change (zone/serial.ts). */
  | { type: 'change'; sequence: number; generation: number; serialCeiling: number; change: RegistryChange }
  | { type: 'metrics'; request: number }
  /** A reloaded configuration: the worker applies its DNS settings and log level (app.ts reload) on the sockets it has. */
  | { type: 'reconfigure'; config: Config; dnsChanged: boolean }
  /** A thread's way of being let go (a process is disconnected instead): stop serving and end. */
  | { type: 'stop' };

export type FromWorker =
  /** The worker listens for messages: it can take the snapshot. */
  | { type: 'hello' }
  | { type: 'listening' }
  /** The worker cannot listen (a port in use, a permission): the error, for the primary to report once, and the worker ends. */
  | { type: 'cannot-listen'; message: string; code?: string; syscall?: string; address?: string; port?: number }
  /** Every change up to `sequence` is applied and served. */
  | { type: 'ack'; sequence: number }
  | { type: 'metrics'; request: number; counts: DnsCountsSnapshot }
  /** A log record, for the primary's logger to write. */
  | { type: 'log'; level: LogLevel; fields: Record<string, unknown>; msg: string | undefined };

export type LogLevel = Exclude<Config['logLevel'], 'silent'>;
