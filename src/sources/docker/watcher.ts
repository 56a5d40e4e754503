// Keeps the registry's Docker-owned instances equal to the daemon's running
// containers: follows the event stream, resyncs fully on every (re)connect
// and on a timer, and never stops trying while the daemon is away. Every call
// to the daemon has a time limit, and a silent event stream is checked
// against the daemon's list, so one stalled request never freezes the picture.
//
// This file is the connection loop and the path of an event; the parts live
// beside it: event-stream.ts (the stream of one connection), refresh.ts
// (reading and publishing one container), sync.ts (the full sync and the
// reconcile), stall-check.ts (the silent-stream check), watch-state.ts (what
// they share).
import { subscribe } from './event-stream.js';
import { Refresher } from './refresh.js';
import { StallCheck } from './stall-check.js';
import { FullSync } from './sync.js';
import { WatchState, type DockerWatcherOptions } from './watch-state.js';
import { withHint } from '../../ops/hints.js';

export type { DockerWatcherOptions } from './watch-state.js';

export class DockerWatcher {
  private readonly state: WatchState;
  private readonly refresher: Refresher;
  private readonly fullSync: FullSync;
  private readonly stallCheck: StallCheck;
  private wakeUp: (() => void) | undefined;
  private running: Promise<void> | undefined;

  constructor(options: DockerWatcherOptions) {
    this.state = new WatchState(options);
    this.refresher = new Refresher(this.state);
    this.fullSync = new FullSync(this.state, this.refresher);
    this.stallCheck = new StallCheck(this.state);
  }

  /** Starts following the daemon in the background; never throws. */
  start(): void {
    this.running ??= this.connectForever();
    this.fullSync.start();
    this.stallCheck.start();
  }

  async stop(): Promise<void> {
    this.state.stopped = true;
    this.fullSync.stop();
    this.stallCheck.stop();
    this.refresher.stop();
    this.state.lifetime.abort(new Error('seamark is stopping'));
    this.wakeUp?.();
    await this.running;
  }

  private async connectForever(): Promise<void> {
    const state = this.state;
    const { log, endpoint } = state.options;
    const minMs = state.options.backoffMinMs ?? 250;
    const maxMs = state.options.backoffMaxMs ?? 5000;
    let delayMs = minMs;
    let complained = false;
    while (!state.stopped) {
      let synced = false;
      try {
        await this.follow(() => {
          synced = true;
          complained = false;
        });
        if (!state.stopped) {
          log.warn({ endpoint }, 'Docker event stream ended; serving the last known containers and reconnecting');
          state.degraded('connection', 'the Docker event stream ended; reconnecting');
        }
      } catch (error) {
        if (state.stopped) break;
        const message = withHint(error);
        // Said once per outage at warn; the retries are debug lines.
        if (!complained) log.warn({ endpoint, err: message }, 'cannot reach Docker; serving the last known containers and retrying in the background');
        else log.debug({ endpoint, err: message, retryMs: delayMs }, 'Docker still unreachable');
        complained = true;
        state.degraded('connection', `cannot reach Docker: ${message}`);
      }
      if (synced) delayMs = minMs;
      await this.sleep(delayMs);
      delayMs = Math.min(delayMs * 2, maxMs);
    }
  }

  /** One connection: subscribe, sync afresh, apply events until the stream ends (or is found stalled). */
  private async follow(onSynced: () => void): Promise<void> {
    const { log, endpoint } = this.state.options;
    // Events first, so nothing that happens during the list + inspect is missed.
    const events = await subscribe(this.state, (id) => this.containerEvent(id));
    try {
      await this.fullSync.sync('connect');
      onSynced();
      log.info({ endpoint }, 'following Docker events');
      await events.ended;
    } finally {
      events.close();
    }
  }

  /** The path of an event: numbered (a sync never undoes it), read again at the next reconcile, and read now. */
  private containerEvent(id: string): void {
    this.state.eventSeen(id);
    this.fullSync.readAgain(id);
    this.refresher.refresh(id);
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
