// The full sync: list and inspect every running container, publish what
// changed, remove what is gone. Run on every connect and, as a reconcile, on
// a timer (and soon again after a reconcile fails). Owns the reconcile timer
// and its retry, the listed state each container was last read in (so a
// reconcile reads again only what changed), and whether the first sync is done.
import { setMaxListeners } from 'node:events';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { containerOfOwner, dockerOwner } from '../../registry/owners.js';
import type { Refresher } from './refresh.js';
import { RETRY_MAX_MS, RETRY_MIN_MS, type WatchState } from './watch-state.js';

const SYNC_INSPECT_CONCURRENCY = 32;
/** Registry changes applied by a sync between two turns of the event loop, so DNS keeps answering. */
const APPLY_BATCH = 64;

/** A reconcile abandoned for a newer sync: not a failure worth a warning. */
class SyncReplaced extends Error {}

export class FullSync {
  private readonly state: WatchState;
  private readonly refresher: Refresher;
  private reconcileTimer: NodeJS.Timeout | undefined;
  /** A failed reconcile is tried again soon, not only at the next period. */
  private reconcileRetry: { timer: NodeJS.Timeout | undefined; delayMs: number } = { timer: undefined, delayMs: RETRY_MIN_MS };
  /** The listed state of each container when a sync last read it; a reconcile reads again only those whose state changed. */
  private readonly inspectedAs = new Map<string, string>();
  private firstSyncDone = false;

  constructor(state: WatchState, refresher: Refresher) {
    this.state = state;
    this.refresher = refresher;
  }

  /** Starts the periodic reconcile, unless `reconcileMs` is 0. */
  start(): void {
    const { reconcileMs } = this.state.options;
    if (reconcileMs <= 0) return;
    this.reconcileTimer = setInterval(() => this.reconcile(), reconcileMs);
    this.reconcileTimer.unref();
  }

  stop(): void {
    clearInterval(this.reconcileTimer);
    clearTimeout(this.reconcileRetry.timer);
  }

  /** A container had an event: the next reconcile reads it again whatever the list says. */
  readAgain(id: string): void {
    this.inspectedAs.delete(id);
  }

  /**
   * Full picture: list and inspect every running container, publish what
   * changed, remove what is gone. A connect always starts a fresh sync (a
   * reconcile still running is abandoned: its list may predate what the
   * reconnect missed); a reconcile joins a sync already running.
   */
  sync(why: 'connect' | 'reconcile'): Promise<void> {
    const state = this.state;
    if (why === 'reconcile' && state.syncing !== undefined) return state.syncing.done;
    state.syncing?.controller.abort(new SyncReplaced('a newer sync replaced it'));
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    const abortWithLifetime = () => controller.abort(state.lifetime.signal.reason);
    state.lifetime.signal.addEventListener('abort', abortWithLifetime, { once: true });
    const done = this.runSync(why, controller.signal).finally(() => {
      state.lifetime.signal.removeEventListener('abort', abortWithLifetime);
      if (state.syncing?.controller === controller) state.syncing = undefined;
    });
    state.syncing = { done, controller };
    return done;
  }

  /** A reconcile, while connected. */
  private reconcile(): void {
    if (this.state.stream !== undefined) void this.sync('reconcile').catch((error: unknown) => this.syncFailed(error));
  }

  private syncFailed(error: unknown): void {
    if (this.state.stopped || error instanceof SyncReplaced) return;
    const message = (error as Error).message;
    const retry = this.reconcileRetry;
    this.state.options.log.warn({ err: message, retryMs: retry.delayMs }, 'Docker reconcile failed; serving what was known and retrying');
    this.state.degraded('sync', `the last reconcile failed: ${message}`);
    clearTimeout(retry.timer);
    retry.timer = setTimeout(() => this.reconcile(), retry.delayMs);
    retry.timer.unref();
    retry.delayMs = Math.min(retry.delayMs * 2, RETRY_MAX_MS);
  }

  private async runSync(why: 'connect' | 'reconcile', signal: AbortSignal): Promise<void> {
    const state = this.state;
    const refresher = this.refresher;
    const { registry, log, endpoint } = state.options;
    const started = performance.now();
    log.debug({ why }, 'Docker sync started');
    const sequenceAtList = state.lastEventNumber;
    const containers = await state.listContainers(signal);
    const stateAtList = state.rememberListed(containers);
    let published = 0;
    let changes = 0;
    let inspected = 0;
    let next = 0;
    const worker = async () => {
      while (next < containers.length && !signal.aborted) {
        const id = containers[next++]?.Id;
        if (id === undefined) continue;
        const listedAs = stateAtList.get(id);
        // A reconcile leaves alone what neither an event nor the list says has changed since it was read.
        if (why === 'reconcile' && listedAs !== undefined && this.inspectedAs.get(id) === listedAs && !state.eventSince(id, sequenceAtList)) {
          if (registry.get(dockerOwner(id)) !== undefined) published++;
          continue;
        }
        inspected++;
        const sequenceAtInspect = state.lastEventNumber;
        const inspection = await refresher.inspect(id, signal);
        if (signal.aborted) return;
        // An event newer than this inspect decides (its own refresh reads the container again).
        if (state.eventSince(id, sequenceAtInspect) || refresher.isReading(id)) continue;
        if (inspection === 'failed') {
          refresher.retryLater(id);
          continue;
        }
        if (typeof inspection === 'object' && inspection.instance !== undefined) published++;
        if (listedAs !== undefined) this.inspectedAs.set(id, listedAs);
        if (refresher.apply(id, inspection) && ++changes % APPLY_BATCH === 0) await yieldToEventLoop();
      }
    };
    await Promise.all(Array.from({ length: Math.min(SYNC_INSPECT_CONCURRENCY, containers.length) }, worker));
    if (signal.aborted) throw signal.reason;

    const live = new Set(containers.map((c) => c.Id));
    // Not listed, and no event since the list: gone. An event since then decides by itself.
    const gone = (id: string) => !live.has(id) && !state.eventSince(id, sequenceAtList) && !refresher.isReading(id);
    const vanished: string[] = [];
    for (const instance of registry.all()) {
      const id = containerOfOwner(instance.owner);
      if (id !== undefined && gone(id)) vanished.push(id);
    }
    for (const id of vanished) {
      refresher.apply(id, 'gone');
      if (++changes % APPLY_BATCH === 0) await yieldToEventLoop();
    }
    refresher.synced(live, gone);
    state.forgetEventsUpTo(sequenceAtList);
    for (const id of this.inspectedAs.keys()) if (!live.has(id)) this.inspectedAs.delete(id);
    state.degraded('connection', undefined);
    state.degraded('sync', undefined);
    clearTimeout(this.reconcileRetry.timer);
    this.reconcileRetry = { timer: undefined, delayMs: RETRY_MIN_MS };
    const level = why === 'reconcile' ? 'debug' : 'info';
    log[level]({ endpoint, why, containers: containers.length, inspected, published, changes, ms: Math.round(performance.now() - started) }, 'Docker containers synced');
    if (!this.firstSyncDone) {
      this.firstSyncDone = true;
      state.options.onFirstSync?.();
    }
  }
}
