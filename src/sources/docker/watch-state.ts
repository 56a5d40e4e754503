// What the parts of the Docker watcher share, held in one place: the options,
// the watcher's lifetime, the current connection's event stream, the full sync
// running now, the numbering of events, the daemon's last list, and why the
// picture may be stale. Each part (event-stream.ts, refresh.ts, sync.ts,
// stall-check.ts) owns everything else it needs itself.
import { setMaxListeners } from 'node:events';
import type Docker from 'dockerode';
import type { ContainerInfo } from 'dockerode';
import type { Logger } from 'pino';
import type { Registry } from '../../registry/registry.js';
import type { PublishSettings } from './publish.js';
import { timedCall } from './timed-call.js';

export interface DockerWatcherOptions {
  docker: Docker;
  /** For log lines. */
  endpoint: string;
  registry: Registry;
  settings: PublishSettings;
  /** Full reconcile period; 0 turns it off. */
  reconcileMs: number;
  /** Longest wait for one answer from the daemon (for the event stream: its first bytes). */
  callTimeoutMs: number;
  /** Silence on the event stream after which it is checked against the daemon's list; 0 turns the check off. */
  eventsCheckMs: number;
  log: Logger;
  /** Called once, after the first full sync. */
  onFirstSync?: () => void;
  /** Called with why the source cannot keep the picture in sync, and with undefined once it can again. */
  onDegraded?: (reason: string | undefined) => void;
  /** Reconnect backoff: doubles from min to max, back to min after a successful sync. */
  backoffMinMs?: number;
  backoffMaxMs?: number;
}

/** A container whose inspect failed, and a failed reconcile, are tried again after this, doubling up to the max. */
export const RETRY_MIN_MS = 500;
export const RETRY_MAX_MS = 30000;
/** Containers with events since the last list, beyond which the stream check starts over from the next list. */
const MAX_TOUCHED = 10000;

/** The event stream of one connection. */
export interface EventStream {
  /** Aborting it ends the stream (and so the connection: the watcher reconnects). */
  controller: AbortController;
  bytes: number;
  /** Since when nothing arrived and no check was made (performance.now()). */
  quietSince: number;
}

/** A full sync in progress: what it settles with, and the controller that abandons it. */
export interface RunningSync {
  done: Promise<void>;
  controller: AbortController;
}

export type DegradedCause = 'connection' | 'sync' | 'containers';

export class WatchState {
  readonly options: DockerWatcherOptions;
  /** Aborted on stop: every call in flight ends. */
  readonly lifetime = new AbortController();
  stopped = false;
  /** The current connection's event stream, while there is one (event-stream.ts sets and clears it). */
  stream: EventStream | undefined;
  /** The full sync running now, if any (sync.ts starts and ends it). */
  syncing: RunningSync | undefined;
  /** Events seen so far; each container remembers the number of its last event, so a sync never undoes a newer event. */
  private eventSequence = 0;
  private readonly lastEventOf = new Map<string, number>();
  /** What the daemon's list said per container at the last sync or stream check (undefined: no usable baseline), and which containers had events since. */
  listed: Map<string, string> | undefined;
  touched = new Set<string>();
  /** Why the picture may be stale, by cause. */
  private readonly degradedBecause = new Map<DegradedCause, string>();
  private lastDegraded: string | undefined;

  constructor(options: DockerWatcherOptions) {
    this.options = options;
    // Every call in flight listens to it: hundreds at once when many containers start together.
    setMaxListeners(0, this.lifetime.signal);
  }

  /** Numbers an event of a container and marks it as touched since the last list. */
  eventSeen(id: string): void {
    this.lastEventOf.set(id, ++this.eventSequence);
    this.touched.add(id);
    // A stream that never falls silent is never checked: drop the baseline rather than grow without bound.
    if (this.touched.size > MAX_TOUCHED) {
      this.listed = undefined;
      this.touched.clear();
    }
  }

  /** The number of the last event seen: a sync compares against it what comes after. */
  get lastEventNumber(): number {
    return this.eventSequence;
  }

  /** Forgets the event number of one container (once no sync can need it). */
  forgetEvent(id: string): void {
    this.lastEventOf.delete(id);
  }

  /** Forgets the event numbers up to `sequence` (a sync has seen a list newer than them). */
  forgetEventsUpTo(sequence: number): void {
    for (const [id, number] of this.lastEventOf) if (number <= sequence) this.lastEventOf.delete(id);
  }

  /** Whether the container had an event numbered after `sequence`. */
  eventSince(id: string, sequence: number): boolean {
    return (this.lastEventOf.get(id) ?? 0) > sequence;
  }

  /** What a stream check compares: the parts of a listed container that only change with an event. */
  rememberListed(containers: readonly ContainerInfo[]): Map<string, string> {
    this.listed = new Map(containers.map((c) => [c.Id, listedState(c)]));
    this.touched = new Set();
    return this.listed;
  }

  /** One call to the daemon within `callTimeoutMs` (see `timedCall`). */
  call<T>(what: string, run: (signal: AbortSignal) => Promise<T>, outer: AbortSignal, controller?: AbortController): Promise<T> {
    return timedCall(what, this.options.callTimeoutMs, run, outer, controller);
  }

  /** GET /containers/json: the running containers. */
  listContainers(signal: AbortSignal): Promise<ContainerInfo[]> {
    return this.call('GET /containers/json', (s) => this.options.docker.listContainers({ abortSignal: s }), signal);
  }

  /** Records (or clears, with undefined) one cause of a stale picture and reports the change. */
  degraded(cause: DegradedCause, reason: string | undefined): void {
    if (reason === undefined) this.degradedBecause.delete(cause);
    else this.degradedBecause.set(cause, reason);
    const summary = this.degradedBecause.size === 0 ? undefined : [...this.degradedBecause.values()].join('; ');
    if (summary === this.lastDegraded) return;
    if (summary === undefined) this.options.log.info('Docker source back in sync');
    this.lastDegraded = summary;
    this.options.onDegraded?.(summary);
  }
}

/**
 * State, health, names and network endpoints of a listed container: what
 * only an event changes (not "Up 5 minutes"). Labels, environment and ports
 * are fixed when a container is created.
 */
function listedState(container: ContainerInfo): string {
  const health = /\((healthy|unhealthy|health: starting)\)/.exec(container.Status ?? '')?.[1] ?? '';
  const networks = Object.entries(container.NetworkSettings?.Networks ?? {})
    .map(([name, network]) => `${name}=${network?.EndpointID ?? ''}/${network?.IPAddress ?? ''}/${network?.GlobalIPv6Address ?? ''}`)
    .sort();
  return [container.State, health, (container.Names ?? []).join(','), networks.join(',')].join('|');
}
