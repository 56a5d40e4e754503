// Keeps the registry's Docker-owned instances equal to the daemon's running
// containers: follows the event stream, resyncs fully on every (re)connect
// and on a timer, and never stops trying while the daemon is away. Every call
// to the daemon has a time limit, and a silent event stream is checked
// against the daemon's list, so one stalled request never freezes the picture.
import { setMaxListeners } from 'node:events';
import { StringDecoder } from 'node:string_decoder';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import type Docker from 'dockerode';
import type { ContainerInfo } from 'dockerode';
import type { Logger } from 'pino';
import type { Instance } from '../../registry/instance.js';
import type { Registry } from '../../registry/registry.js';
import { factsFromInspect } from './facts.js';
import { containerOfOwner, dockerOwner } from '../../registry/owners.js';
import { publishContainer, type PublishSettings } from './publish.js';
import { timedCall } from './timed-call.js';
import { withHint } from '../../ops/hints.js';

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

/** Container actions that can change what a container publishes; everything else (exec_*, attach, …) is noise. */
const CONTAINER_ACTIONS = new Set([
  'start', 'restart', 'die', 'stop', 'kill', 'destroy', 'pause', 'unpause', 'rename', 'health_status', 'update', 'oom',
]);
const NETWORK_ACTIONS = new Set(['connect', 'disconnect']);
const SYNC_INSPECT_CONCURRENCY = 32;
/** Registry changes applied by a sync between two turns of the event loop, so DNS keeps answering. */
const APPLY_BATCH = 64;
/** A container whose inspect failed is read again after this, doubling up to the max. */
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30000;
/** Containers with events since the last list, beyond which the stream check starts over from the next list. */
const MAX_TOUCHED = 10000;

interface DockerEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

type Inspection = { instance?: Instance } | 'gone' | 'failed';

interface EventStream {
  /** Aborting it ends the stream (and so the connection: the watcher reconnects). */
  controller: AbortController;
  bytes: number;
  /** Since when nothing arrived and no check was made (performance.now()). */
  quietSince: number;
}

type DegradedCause = 'connection' | 'sync' | 'containers';

/** A reconcile abandoned for a newer sync: not a failure worth a warning. */
class SyncReplaced extends Error {}

export class DockerWatcher {
  private readonly options: DockerWatcherOptions;
  private stopped = false;
  /** Aborted on stop: every call in flight ends. */
  private readonly lifetime = new AbortController();
  private stream: EventStream | undefined;
  private wakeUp: (() => void) | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private streamCheckTimer: NodeJS.Timeout | undefined;
  private streamChecking = false;
  /** Events seen so far; each container remembers the number of its last event, so a sync never undoes a newer event. */
  private eventSequence = 0;
  private readonly lastEventOf = new Map<string, number>();
  private readonly inFlight = new Set<string>();
  private readonly dirty = new Set<string>();
  /** Containers whose last inspect failed: how many times in a row, and the timer that reads them again. */
  private readonly failing = new Map<string, { attempts: number; timer: NodeJS.Timeout }>();
  private syncing: { done: Promise<void>; controller: AbortController } | undefined;
  private firstSyncDone = false;
  /** What the daemon's list said per container at the last sync or stream check (undefined: no usable baseline), and which containers had events since. */
  private listed: Map<string, string> | undefined;
  private touched = new Set<string>();
  /** The listed state of each container when a sync last read it; a reconcile reads again only those whose state changed. */
  private readonly inspectedAs = new Map<string, string>();
  /** Why the picture may be stale, by cause. */
  private readonly degradedBecause = new Map<DegradedCause, string>();
  /** A failed reconcile is tried again soon, not only at the next period. */
  private reconcileRetry: { timer: NodeJS.Timeout | undefined; delayMs: number } = { timer: undefined, delayMs: RETRY_MIN_MS };
  private lastDegraded: string | undefined;
  /** The last "not published" / problem line per container, so a reconcile does not repeat it. */
  private readonly lastNote = new Map<string, string>();
  private running: Promise<void> | undefined;

  constructor(options: DockerWatcherOptions) {
    this.options = options;
    // Every call in flight listens to it: hundreds at once when many containers start together.
    setMaxListeners(0, this.lifetime.signal);
  }

  /** Starts following the daemon in the background; never throws. */
  start(): void {
    this.running ??= this.connectForever();
    const { reconcileMs, eventsCheckMs } = this.options;
    if (reconcileMs > 0) {
      this.reconcileTimer = setInterval(() => {
        if (this.stream !== undefined) void this.sync('reconcile').catch((error: unknown) => this.syncFailed(error));
      }, reconcileMs);
      this.reconcileTimer.unref();
    }
    if (eventsCheckMs > 0) {
      this.streamCheckTimer = setInterval(() => {
        this.checkSilentStream().catch((error: unknown) => this.options.log.error({ err: error }, 'checking the silent Docker event stream failed; checking again'));
      }, Math.max(100, eventsCheckMs / 2));
      this.streamCheckTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.reconcileTimer);
    clearInterval(this.streamCheckTimer);
    clearTimeout(this.reconcileRetry.timer);
    for (const { timer } of this.failing.values()) clearTimeout(timer);
    this.lifetime.abort(new Error('seamark is stopping'));
    this.wakeUp?.();
    await this.running;
  }

  private async connectForever(): Promise<void> {
    const { log, endpoint } = this.options;
    const minMs = this.options.backoffMinMs ?? 250;
    const maxMs = this.options.backoffMaxMs ?? 5000;
    let delayMs = minMs;
    let complained = false;
    while (!this.stopped) {
      let synced = false;
      try {
        await this.follow(() => {
          synced = true;
          complained = false;
        });
        if (!this.stopped) {
          log.warn({ endpoint }, 'Docker event stream ended; serving the last known containers and reconnecting');
          this.degraded('connection', 'the Docker event stream ended; reconnecting');
        }
      } catch (error) {
        if (this.stopped) break;
        const message = withHint(error);
        // Said once per outage at warn; the retries are debug lines.
        if (!complained) log.warn({ endpoint, err: message }, 'cannot reach Docker; serving the last known containers and retrying in the background');
        else log.debug({ endpoint, err: message, retryMs: delayMs }, 'Docker still unreachable');
        complained = true;
        this.degraded('connection', `cannot reach Docker: ${message}`);
      }
      if (synced) delayMs = minMs;
      await this.sleep(delayMs);
      delayMs = Math.min(delayMs * 2, maxMs);
    }
  }

  /** One connection: subscribe, sync afresh, apply events until the stream ends (or is found stalled). */
  private async follow(onSynced: () => void): Promise<void> {
    const { docker, log, endpoint } = this.options;
    // Events first, so nothing that happens during the list + inspect is missed.
    const controller = new AbortController();
    const stream = await this.call<NodeJS.ReadableStream>(
      'GET /events',
      (signal) => docker.getEvents({ filters: { type: ['container', 'network'] }, abortSignal: signal }) as Promise<NodeJS.ReadableStream>,
      this.lifetime.signal,
      controller,
    );
    const state: EventStream = { controller, bytes: 0, quietSince: performance.now() };
    this.stream = state;
    const ended = this.readEvents(stream, state);
    const endWithLifetime = () => controller.abort();
    this.lifetime.signal.addEventListener('abort', endWithLifetime, { once: true });
    try {
      await this.sync('connect');
      onSynced();
      log.info({ endpoint }, 'following Docker events');
      await ended;
    } finally {
      this.lifetime.signal.removeEventListener('abort', endWithLifetime);
      if (this.stream === state) this.stream = undefined;
      controller.abort();
      (stream as { destroy?: () => void }).destroy?.();
    }
  }

  /** Parses the newline-delimited JSON event stream; resolves when it ends, fails or is aborted. */
  private readEvents(stream: NodeJS.ReadableStream, state: EventStream): Promise<void> {
    return new Promise((resolve) => {
      const decoder = new StringDecoder('utf8');
      let pending = '';
      stream.on('data', (chunk: Buffer | string) => {
        state.bytes += chunk.length;
        state.quietSince = performance.now();
        pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
        let newline;
        while ((newline = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          if (line !== '') this.handleEventLine(line);
        }
      });
      stream.once('end', () => resolve());
      stream.once('close', () => resolve());
      stream.once('error', (error: Error) => {
        this.options.log.debug({ err: error.message }, 'Docker event stream error');
        resolve();
      });
      state.controller.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  private handleEventLine(line: string): void {
    let event: DockerEvent;
    try {
      event = JSON.parse(line) as DockerEvent;
    } catch {
      this.options.log.warn({ line: line.slice(0, 200) }, 'ignoring a Docker event that is not JSON');
      return;
    }
    const type = event.Type ?? 'container';
    // `health_status: healthy` and friends carry their detail after a colon.
    const action = (event.Action ?? event.status ?? '').split(':')[0]?.trim() ?? '';
    let containerId: string | undefined;
    if (type === 'container' && CONTAINER_ACTIONS.has(action)) containerId = event.Actor?.ID ?? event.id;
    else if (type === 'network' && NETWORK_ACTIONS.has(action)) containerId = event.Actor?.Attributes?.container;
    if (containerId === undefined || containerId === '') return;
    this.options.log.trace({ type, action, container: containerId }, 'Docker event');
    this.lastEventOf.set(containerId, ++this.eventSequence);
    this.inspectedAs.delete(containerId);
    this.touched.add(containerId);
    // A stream that never falls silent is never checked: drop the baseline rather than grow without bound.
    if (this.touched.size > MAX_TOUCHED) {
      this.listed = undefined;
      this.touched.clear();
    }
    this.refresh(containerId);
  }

  /**
   * Re-reads one container and publishes what it is now, at once, also while
   * a sync runs. Refreshes of one container never overlap: an event during an
   * inspect marks it dirty and it is read again, so the last answer applied
   * is always the newest. A failed read is retried until it succeeds.
   */
  private refresh(id: string): void {
    if (this.stopped) return;
    if (this.inFlight.has(id)) {
      this.dirty.add(id);
      return;
    }
    this.inFlight.add(id);
    void (async () => {
      try {
        do {
          this.dirty.delete(id);
          const inspection = await this.inspect(id, this.lifetime.signal);
          if (inspection === 'failed') this.retryLater(id);
          else this.apply(id, inspection);
        } while (this.dirty.has(id) && !this.stopped);
      } catch (error) {
        // Publishing it failed (not the daemon): read it again later rather than leave it as it was for good.
        if (!this.stopped) {
          this.options.log.error({ err: error, container: id.slice(0, 12) }, 'could not publish a Docker container; reading it again');
          this.retryLater(id);
        }
      } finally {
        this.inFlight.delete(id);
        // Event numbers only matter to a sync running now; without one, forget them (reconcile 0 must not grow this).
        if (this.syncing === undefined) this.lastEventOf.delete(id);
      }
    })();
  }

  /** Publishes one container's inspection; true when the registry changed (an unchanged container is not re-indexed). */
  private apply(id: string, inspection: Exclude<Inspection, 'failed'>): boolean {
    const { registry, log } = this.options;
    this.recovered(id);
    const owner = dockerOwner(id);
    const instance = inspection === 'gone' ? undefined : inspection.instance;
    if (inspection === 'gone') this.lastNote.delete(id);
    if (instance === undefined) {
      const removed = registry.remove(owner);
      if (removed && inspection === 'gone') log.debug({ container: id.slice(0, 12) }, 'container gone');
      return removed;
    }
    if (isDeepStrictEqual(registry.get(owner), instance)) return false;
    registry.upsert(instance);
    return true;
  }

  /** Inspects and applies the rules; 'gone' when the container no longer exists, 'failed' on any other error (logged). */
  private async inspect(id: string, signal: AbortSignal): Promise<Inspection> {
    const { docker, log, settings } = this.options;
    let info;
    try {
      info = await this.call(`GET /containers/${id.slice(0, 12)}/json`, (s) => docker.getContainer(id).inspect({ abortSignal: s }), signal);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return 'gone';
      if (!signal.aborted) this.inspectFailed(id, (error as Error).message);
      return 'failed';
    }
    try {
      const facts = factsFromInspect(id, info);
      const publication = publishContainer(facts, settings);
      const label = facts.name || id.slice(0, 12);
      const note = 'skipped' in publication ? `not published: ${publication.skipped}` : '';
      const problems = publication.problems.join('; ');
      if (this.lastNote.get(id) !== note + problems) {
        this.lastNote.set(id, note + problems);
        if (problems !== '') log.warn({ container: label, problems: publication.problems }, `container ${label}: some of its settings are not usable`);
        if ('skipped' in publication && facts.running) log.debug({ container: label }, `container ${label} ${note}`);
      }
      return 'instance' in publication ? { instance: publication.instance } : {};
    } catch (error) {
      // One odd container must never stop the others from being served.
      log.warn({ container: id.slice(0, 12), err: (error as Error).message }, 'cannot read container; skipping it');
      return {};
    }
  }

  /** The first failure of a container is a warning (what was known is kept); the retries are debug lines. */
  private inspectFailed(id: string, message: string): void {
    const { log } = this.options;
    if (this.failing.has(id)) log.debug({ container: id.slice(0, 12), err: message }, 'container still cannot be inspected');
    else log.warn({ container: id.slice(0, 12), err: message }, 'cannot inspect container; keeping what was known and retrying');
  }

  private retryLater(id: string): void {
    if (this.stopped) return;
    const attempts = (this.failing.get(id)?.attempts ?? 0) + 1;
    clearTimeout(this.failing.get(id)?.timer);
    const timer = setTimeout(() => this.refresh(id), Math.min(RETRY_MIN_MS * 2 ** (attempts - 1), RETRY_MAX_MS));
    timer.unref();
    this.failing.set(id, { attempts, timer });
    this.degraded('containers', `cannot inspect ${this.failing.size} container(s) (${[...this.failing.keys()].map((c) => c.slice(0, 12)).join(', ')}); serving what was known`);
  }

  private recovered(id: string): void {
    const failure = this.failing.get(id);
    if (failure === undefined) return;
    clearTimeout(failure.timer);
    this.failing.delete(id);
    if (this.failing.size === 0) this.degraded('containers', undefined);
  }

  /**
   * Full picture: list and inspect every running container, publish what
   * changed, remove what is gone. A connect always starts a fresh sync (a
   * reconcile still running is abandoned: its list may predate what the
   * reconnect missed); a reconcile joins a sync already running.
   */
  private sync(why: 'connect' | 'reconcile'): Promise<void> {
    if (why === 'reconcile' && this.syncing !== undefined) return this.syncing.done;
    this.syncing?.controller.abort(new SyncReplaced('a newer sync replaced it'));
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    const abortWithLifetime = () => controller.abort(this.lifetime.signal.reason);
    this.lifetime.signal.addEventListener('abort', abortWithLifetime, { once: true });
    const done = this.runSync(why, controller.signal).finally(() => {
      this.lifetime.signal.removeEventListener('abort', abortWithLifetime);
      if (this.syncing?.controller === controller) this.syncing = undefined;
    });
    this.syncing = { done, controller };
    return done;
  }

  private syncFailed(error: unknown): void {
    if (this.stopped || error instanceof SyncReplaced) return;
    const message = (error as Error).message;
    const retry = this.reconcileRetry;
    this.options.log.warn({ err: message, retryMs: retry.delayMs }, 'Docker reconcile failed; serving what was known and retrying');
    this.degraded('sync', `the last reconcile failed: ${message}`);
    clearTimeout(retry.timer);
    retry.timer = setTimeout(() => {
      if (this.stream !== undefined) void this.sync('reconcile').catch((e: unknown) => this.syncFailed(e));
    }, retry.delayMs);
    retry.timer.unref();
    retry.delayMs = Math.min(retry.delayMs * 2, RETRY_MAX_MS);
  }

  private async runSync(why: 'connect' | 'reconcile', signal: AbortSignal): Promise<void> {
    const { docker, registry, log, endpoint } = this.options;
    const started = performance.now();
    log.debug({ why }, 'Docker sync started');
    const sequenceAtList = this.eventSequence;
    const containers = await this.call('GET /containers/json', (s) => docker.listContainers({ abortSignal: s }), signal);
    const stateAtList = this.rememberListed(containers);
    let published = 0;
    let changes = 0;
    let inspected = 0;
    let next = 0;
    const worker = async () => {
      while (next < containers.length && !signal.aborted) {
        const id = containers[next++]?.Id;
        if (id === undefined) continue;
        const state = stateAtList.get(id);
        // A reconcile leaves alone what neither an event nor the list says has changed since it was read.
        if (why === 'reconcile' && state !== undefined && this.inspectedAs.get(id) === state && (this.lastEventOf.get(id) ?? 0) <= sequenceAtList) {
          if (this.options.registry.get(dockerOwner(id)) !== undefined) published++;
          continue;
        }
        inspected++;
        const sequenceAtInspect = this.eventSequence;
        const inspection = await this.inspect(id, signal);
        if (signal.aborted) return;
        // An event newer than this inspect decides (its own refresh reads the container again).
        if ((this.lastEventOf.get(id) ?? 0) > sequenceAtInspect || this.inFlight.has(id)) continue;
        if (inspection === 'failed') {
          this.retryLater(id);
          continue;
        }
        if (typeof inspection === 'object' && inspection.instance !== undefined) published++;
        if (state !== undefined) this.inspectedAs.set(id, state);
        if (this.apply(id, inspection) && ++changes % APPLY_BATCH === 0) await yieldToEventLoop();
      }
    };
    await Promise.all(Array.from({ length: Math.min(SYNC_INSPECT_CONCURRENCY, containers.length) }, worker));
    if (signal.aborted) throw signal.reason;

    const live = new Set(containers.map((c) => c.Id));
    // Not listed, and no event since the list: gone. An event since then decides by itself.
    const gone = (id: string) => !live.has(id) && (this.lastEventOf.get(id) ?? 0) <= sequenceAtList && !this.inFlight.has(id);
    const vanished: string[] = [];
    for (const instance of registry.all()) {
      const id = containerOfOwner(instance.owner);
      if (id !== undefined && gone(id)) vanished.push(id);
    }
    for (const id of vanished) {
      this.apply(id, 'gone');
      if (++changes % APPLY_BATCH === 0) await yieldToEventLoop();
    }
    for (const id of this.failing.keys()) if (gone(id)) this.recovered(id);
    for (const [id, sequence] of this.lastEventOf) if (sequence <= sequenceAtList) this.lastEventOf.delete(id);
    for (const id of this.lastNote.keys()) if (!live.has(id)) this.lastNote.delete(id);
    for (const id of this.inspectedAs.keys()) if (!live.has(id)) this.inspectedAs.delete(id);
    this.degraded('connection', undefined);
    this.degraded('sync', undefined);
    clearTimeout(this.reconcileRetry.timer);
    this.reconcileRetry = { timer: undefined, delayMs: RETRY_MIN_MS };
    const level = why === 'reconcile' ? 'debug' : 'info';
    log[level]({ endpoint, why, containers: containers.length, inspected, published, changes, ms: Math.round(performance.now() - started) }, 'Docker containers synced');
    if (!this.firstSyncDone) {
      this.firstSyncDone = true;
      this.options.onFirstSync?.();
    }
  }

  /** What a stream check compares: the parts of a listed container that only change with an event. */
  private rememberListed(containers: readonly ContainerInfo[]): Map<string, string> {
    this.listed = new Map(containers.map((c) => [c.Id, listedState(c)]));
    this.touched = new Set();
    return this.listed;
  }

  /**
   * After `eventsCheckMs` of silence on the event stream: list the containers
   * (one cheap call) and compare with the last list. A change the stream
   * never announced means it is stalled: reconnect, which resyncs. A daemon
   * that does not answer the list is a warning, and a reconnect too.
   */
  private async checkSilentStream(): Promise<void> {
    const stream = this.stream;
    const { eventsCheckMs, log, docker } = this.options;
    if (stream === undefined || this.streamChecking || this.syncing !== undefined) return;
    if (performance.now() - stream.quietSince < eventsCheckMs) return;
    this.streamChecking = true;
    stream.quietSince = performance.now();
    try {
      const bytesBefore = stream.bytes;
      const previous = this.listed;
      const touched = this.touched;
      let containers;
      try {
        containers = await this.call('GET /containers/json', (s) => docker.listContainers({ abortSignal: s }), this.lifetime.signal);
      } catch (error) {
        if (this.stopped || this.stream !== stream) return;
        log.warn({ err: withHint(error) }, 'Docker does not answer while its event stream is silent; reconnecting');
        this.degraded('connection', `Docker does not answer: ${withHint(error)}`);
        stream.controller.abort();
        return;
      }
      if (this.stream !== stream || this.syncing !== undefined) return;
      const current = this.rememberListed(containers);
      if (previous === undefined) return;
      const unannounced = [...new Set([...previous.keys(), ...current.keys()])].filter(
        (id) => previous.get(id) !== current.get(id) && !touched.has(id) && !this.touched.has(id),
      );
      if (unannounced.length === 0) return;
      // The event may be on its way: give the stream a moment before calling it stalled.
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, eventsCheckMs)));
      if (this.stream !== stream || stream.bytes !== bytesBefore) return;
      log.warn({ containers: unannounced.map((id) => id.slice(0, 12)) }, 'the Docker event stream is stalled (the daemon lists changes it never sent); reconnecting');
      this.degraded('connection', 'the Docker event stream stalled; reconnecting');
      stream.controller.abort();
    } finally {
      this.streamChecking = false;
    }
  }

  /** One call to the daemon within `callTimeoutMs` (see `timedCall`). */
  private call<T>(what: string, run: (signal: AbortSignal) => Promise<T>, outer: AbortSignal, controller?: AbortController): Promise<T> {
    return timedCall(what, this.options.callTimeoutMs, run, outer, controller);
  }

  /** Records (or clears, with undefined) one cause of a stale picture and reports the change. */
  private degraded(cause: DegradedCause, reason: string | undefined): void {
    if (reason === undefined) this.degradedBecause.delete(cause);
    else this.degradedBecause.set(cause, reason);
    const summary = this.degradedBecause.size === 0 ? undefined : [...this.degradedBecause.values()].join('; ');
    if (summary === this.lastDegraded) return;
    if (summary === undefined) this.options.log.info('Docker source back in sync');
    this.lastDegraded = summary;
    this.options.onDegraded?.(summary);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
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
