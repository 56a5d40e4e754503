// Keeps the registry's Docker-owned instances equal to the daemon's running
// containers: follows the event stream, resyncs fully on every (re)connect
// and on a timer, and never stops trying while the daemon is away.
import { StringDecoder } from 'node:string_decoder';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { Instance } from '../../registry/instance.js';
import type { Registry } from '../../registry/registry.js';
import { factsFromInspect } from './facts.js';
import { DOCKER_OWNER_PREFIX, dockerOwner, publishContainer, type PublishSettings } from './publish.js';

export interface DockerWatcherOptions {
  docker: Docker;
  /** For log lines. */
  endpoint: string;
  registry: Registry;
  settings: PublishSettings;
  /** Full reconcile period; 0 turns it off. */
  reconcileMs: number;
  log: Logger;
  /** Called once, after the first full sync. */
  onFirstSync?: () => void;
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

interface DockerEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

export class DockerWatcher {
  private readonly options: DockerWatcherOptions;
  private stopped = false;
  private stream: NodeJS.ReadableStream | undefined;
  private wakeUp: (() => void) | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  /** While a full sync runs, events only note their container here; it is refreshed after the sync. */
  private buffering = false;
  private readonly buffered = new Set<string>();
  private readonly inFlight = new Set<string>();
  private readonly dirty = new Set<string>();
  private syncing: Promise<void> | undefined;
  private firstSyncDone = false;
  /** The last "not published" / problem line per container, so a reconcile does not repeat it. */
  private readonly lastNote = new Map<string, string>();
  private running: Promise<void> | undefined;

  constructor(options: DockerWatcherOptions) {
    this.options = options;
  }

  /** Starts following the daemon in the background; never throws. */
  start(): void {
    this.running ??= this.connectForever();
    const reconcileMs = this.options.reconcileMs;
    if (reconcileMs > 0) {
      this.reconcileTimer = setInterval(() => {
        if (this.stream !== undefined) void this.sync('reconcile').catch((error: unknown) => this.options.log.warn({ err: error }, 'Docker reconcile failed; retrying at the next one'));
      }, reconcileMs);
      this.reconcileTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.reconcileTimer);
    this.wakeUp?.();
    (this.stream as { destroy?: () => void } | undefined)?.destroy?.();
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
        if (!this.stopped) log.warn({ endpoint }, 'Docker event stream ended; serving the last known containers and reconnecting');
      } catch (error) {
        if (this.stopped) break;
        // Said once per outage at warn; the retries are debug lines.
        if (!complained) log.warn({ endpoint, err: (error as Error).message }, 'cannot reach Docker; serving the last known containers and retrying in the background');
        else log.debug({ endpoint, err: (error as Error).message, retryMs: delayMs }, 'Docker still unreachable');
        complained = true;
      }
      if (synced) delayMs = minMs;
      await this.sleep(delayMs);
      delayMs = Math.min(delayMs * 2, maxMs);
    }
  }

  /** One connection: subscribe, sync, apply events until the stream ends. */
  private async follow(onSynced: () => void): Promise<void> {
    const { docker, log, endpoint } = this.options;
    // Events first, so nothing that happens during the list + inspect is missed.
    this.buffering = true;
    const stream = (await docker.getEvents({ filters: { type: ['container', 'network'] } })) as NodeJS.ReadableStream;
    if (this.stopped) {
      (stream as { destroy?: () => void }).destroy?.();
      return;
    }
    this.stream = stream;
    const ended = this.readEvents(stream);
    try {
      await this.sync('connect');
      onSynced();
      log.info({ endpoint }, 'following Docker events');
      await ended;
    } finally {
      this.stream = undefined;
      (stream as { destroy?: () => void }).destroy?.();
    }
  }

  /** Parses the newline-delimited JSON event stream; resolves when it ends or fails. */
  private readEvents(stream: NodeJS.ReadableStream): Promise<void> {
    return new Promise((resolve) => {
      const decoder = new StringDecoder('utf8');
      let pending = '';
      stream.on('data', (chunk: Buffer | string) => {
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
    this.refresh(containerId);
  }

  /**
   * Re-reads one container and publishes what it is now. Refreshes of one
   * container never overlap: an event during an inspect marks it dirty and it
   * is read again, so the last answer applied is always the newest.
   */
  private refresh(id: string): void {
    if (this.buffering) {
      this.buffered.add(id);
      return;
    }
    if (this.inFlight.has(id)) {
      this.dirty.add(id);
      return;
    }
    this.inFlight.add(id);
    void (async () => {
      try {
        do {
          this.dirty.delete(id);
          await this.inspectAndApply(id);
        } while (this.dirty.has(id) && !this.buffering);
        if (this.dirty.delete(id)) this.buffered.add(id);
      } finally {
        this.inFlight.delete(id);
      }
    })();
  }

  private async inspectAndApply(id: string): Promise<void> {
    const { registry, log } = this.options;
    const publication = await this.inspect(id);
    if (publication === 'gone') {
      if (registry.remove(dockerOwner(id))) log.debug({ container: id.slice(0, 12) }, 'container gone');
      this.lastNote.delete(id);
      return;
    }
    if (publication === 'failed') return; // logged; the next event or reconcile tries again
    if (publication.instance === undefined) {
      registry.remove(dockerOwner(id));
      return;
    }
    registry.upsert(publication.instance);
  }

  /** Inspects and applies the rules; 'gone' when the container no longer exists, 'failed' on any other error. */
  private async inspect(id: string): Promise<{ instance?: Instance } | 'gone' | 'failed'> {
    const { docker, log, settings } = this.options;
    let info;
    try {
      info = await docker.getContainer(id).inspect();
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return 'gone';
      log.warn({ container: id.slice(0, 12), err: (error as Error).message }, 'cannot inspect container; keeping what was known');
      return 'failed';
    }
    try {
      const facts = factsFromInspect(info);
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

  /** Full picture: list + inspect every running container, replace all Docker instances at once, then apply buffered events. */
  private sync(why: string): Promise<void> {
    this.syncing ??= this.runSync(why).finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async runSync(why: string): Promise<void> {
    const { docker, registry, log, endpoint } = this.options;
    const started = performance.now();
    this.buffering = true;
    try {
      const listed = await docker.listContainers();
      const instances: Instance[] = [];
      let next = 0;
      const worker = async () => {
        while (next < listed.length) {
          const id = listed[next++]?.Id;
          if (id === undefined) continue;
          const publication = await this.inspect(id);
          if (typeof publication === 'object' && publication.instance !== undefined) instances.push(publication.instance);
          // An inspect that failed for another reason: keep what was known rather than drop it.
          if (publication === 'failed') {
            const known = registry.get(dockerOwner(id));
            if (known !== undefined) instances.push(known);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(SYNC_INSPECT_CONCURRENCY, listed.length) }, worker));
      registry.replaceByPrefix(DOCKER_OWNER_PREFIX, instances);
      const live = new Set(listed.map((c) => c.Id));
      for (const id of this.lastNote.keys()) if (!live.has(id)) this.lastNote.delete(id);
      const level = why === 'reconcile' ? 'debug' : 'info';
      log[level]({ endpoint, why, containers: listed.length, published: instances.length, ms: Math.round(performance.now() - started) }, 'Docker containers synced');
    } finally {
      this.buffering = false;
      const pending = [...this.buffered];
      this.buffered.clear();
      for (const id of pending) this.refresh(id);
    }
    if (!this.firstSyncDone) {
      this.firstSyncDone = true;
      this.options.onFirstSync?.();
    }
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
