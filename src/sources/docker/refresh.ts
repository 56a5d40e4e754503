// Reading one container and publishing what it is now: the refresh an event
// starts, the inspect and apply a full sync uses, and the retry of a
// container that cannot be inspected. Owns which containers are being read
// (and read again when an event came meanwhile), which keep failing and when
// they are read again, and the last note logged per container.
import { isDeepStrictEqual } from 'node:util';
import type { Instance } from '../../registry/instance.js';
import { dockerOwner } from '../../registry/owners.js';
import { factsFromInspect } from './facts.js';
import { publishContainer } from './publish.js';
import { RETRY_MAX_MS, RETRY_MIN_MS, type WatchState } from './watch-state.js';

/** What an inspect found: the instance to publish (none when the container is not published), gone, or not readable now. */
export type Inspection = { instance?: Instance } | 'gone' | 'failed';

export class Refresher {
  private readonly state: WatchState;
  private readonly inFlight = new Set<string>();
  private readonly dirty = new Set<string>();
  /** Containers whose last inspect failed: how many times in a row, and the timer that reads them again. */
  private readonly failing = new Map<string, { attempts: number; timer: NodeJS.Timeout }>();
  /** The last "not published" / problem line per container, so a reconcile does not repeat it. */
  private readonly lastNote = new Map<string, string>();

  constructor(state: WatchState) {
    this.state = state;
  }

  /**
   * Re-reads one container and publishes what it is now, at once, also while
   * a sync runs. Refreshes of one container never overlap: an event during an
   * inspect marks it dirty and it is read again, so the last answer applied
   * is always the newest. A failed read is retried until it succeeds.
   */
  refresh(id: string): void {
    const state = this.state;
    if (state.stopped) return;
    if (this.inFlight.has(id)) {
      this.dirty.add(id);
      return;
    }
    this.inFlight.add(id);
    void (async () => {
      try {
        do {
          this.dirty.delete(id);
          const inspection = await this.inspect(id, state.lifetime.signal);
          if (inspection === 'failed') this.retryLater(id);
          else this.apply(id, inspection);
        } while (this.dirty.has(id) && !state.stopped);
      } catch (error) {
        // Publishing it failed (not the daemon): read it again later rather than leave it as it was for good.
        if (!state.stopped) {
          state.options.log.error({ err: error, container: id.slice(0, 12) }, 'could not publish a Docker container; reading it again');
          this.retryLater(id);
        }
      } finally {
        this.inFlight.delete(id);
        // Event numbers only matter to a sync running now; without one, forget them (reconcile 0 must not grow this).
        if (state.syncing === undefined) state.forgetEvent(id);
      }
    })();
  }

  /** Whether a refresh of the container is running (its answer decides, not a sync's). */
  isReading(id: string): boolean {
    return this.inFlight.has(id);
  }

  /** Publishes one container's inspection; true when the registry changed (an unchanged container is not re-indexed). */
  apply(id: string, inspection: Exclude<Inspection, 'failed'>): boolean {
    const { registry, log } = this.state.options;
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
  async inspect(id: string, signal: AbortSignal): Promise<Inspection> {
    const { docker, log, settings } = this.state.options;
    let info;
    try {
      info = await this.state.call(`GET /containers/${id.slice(0, 12)}/json`, (s) => docker.getContainer(id).inspect({ abortSignal: s }), signal);
    } catch (error) {
      if (containerGone(error)) return 'gone';
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

  /** Reads the container again after a back-off that doubles with every failure in a row. */
  retryLater(id: string): void {
    if (this.state.stopped) return;
    const attempts = (this.failing.get(id)?.attempts ?? 0) + 1;
    clearTimeout(this.failing.get(id)?.timer);
    const timer = setTimeout(() => this.refresh(id), Math.min(RETRY_MIN_MS * 2 ** (attempts - 1), RETRY_MAX_MS));
    timer.unref();
    this.failing.set(id, { attempts, timer });
    this.state.degraded('containers', `cannot inspect ${this.failing.size} container(s) (${[...this.failing.keys()].map((c) => c.slice(0, 12)).join(', ')}); serving what was known`);
  }

  /** What a full sync found: failing containers that are `gone` fail no more; notes of containers not `live` are forgotten. */
  synced(live: ReadonlySet<string>, gone: (id: string) => boolean): void {
    for (const id of this.failing.keys()) if (gone(id)) this.recovered(id);
    for (const id of this.lastNote.keys()) if (!live.has(id)) this.lastNote.delete(id);
  }

  /** Ends every pending retry. */
  stop(): void {
    for (const { timer } of this.failing.values()) clearTimeout(timer);
  }

  /** The first failure of a container is a warning (what was known is kept); the retries are debug lines. */
  private inspectFailed(id: string, message: string): void {
    const { log } = this.state.options;
    if (this.failing.has(id)) log.debug({ container: id.slice(0, 12), err: message }, 'container still cannot be inspected');
    else log.warn({ container: id.slice(0, 12), err: message }, 'cannot inspect container; keeping what was known and retrying');
  }

  private recovered(id: string): void {
    const failure = this.failing.get(id);
    if (failure === undefined) return;
    clearTimeout(failure.timer);
    this.failing.delete(id);
    if (this.failing.size === 0) this.state.degraded('containers', undefined);
  }
}

/**
 * Whether an inspect failed because the container no longer exists: Docker answers 404; Podman's Docker-compatible
 * API answers 500 with "no such container" for a container removed while it is being inspected.
 */
export function containerGone(error: unknown): boolean {
  const { statusCode, json, message } = error as { statusCode?: number; json?: { cause?: unknown; message?: unknown }; message?: unknown };
  if (statusCode === 404) return true;
  if (statusCode !== 500) return false;
  return [json?.cause, json?.message, message].some((text) => typeof text === 'string' && /no such container/i.test(text));
}
