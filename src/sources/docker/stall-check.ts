// The check of a silent event stream: after `eventsCheckMs` with nothing on
// the stream, list the containers (one cheap call) and compare with the last
// list. A change the stream never announced means it is stalled: end it, and
// the watcher reconnects, which resyncs. Owns its timer and whether a check
// is running; compares against the list and the touched containers that
// `WatchState` keeps.
import type { WatchState } from './watch-state.js';
import { withHint } from '../../ops/hints.js';

export class StallCheck {
  private readonly state: WatchState;
  private timer: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(state: WatchState) {
    this.state = state;
  }

  /** Checks twice per `eventsCheckMs` whether the stream has been silent that long, unless `eventsCheckMs` is 0. */
  start(): void {
    const { eventsCheckMs, log } = this.state.options;
    if (eventsCheckMs <= 0) return;
    this.timer = setInterval(() => {
      this.checkSilentStream().catch((error: unknown) => log.error({ err: error }, 'checking the silent Docker event stream failed; checking again'));
    }, Math.max(100, eventsCheckMs / 2));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** A daemon that does not answer the list is a warning, and a reconnect too. */
  private async checkSilentStream(): Promise<void> {
    const state = this.state;
    const stream = state.stream;
    const { eventsCheckMs, log } = state.options;
    if (stream === undefined || this.checking || state.syncing !== undefined) return;
    if (performance.now() - stream.quietSince < eventsCheckMs) return;
    this.checking = true;
    stream.quietSince = performance.now();
    try {
      const bytesBefore = stream.bytes;
      const previous = state.listed;
      const touched = state.touched;
      let containers;
      try {
        containers = await state.listContainers(state.lifetime.signal);
      } catch (error) {
        if (state.stopped || state.stream !== stream) return;
        log.warn({ err: withHint(error) }, 'Docker does not answer while its event stream is silent; reconnecting');
        state.degraded('connection', `Docker does not answer: ${withHint(error)}`);
        stream.controller.abort();
        return;
      }
      if (state.stream !== stream || state.syncing !== undefined) return;
      const current = state.rememberListed(containers);
      if (previous === undefined) return;
      const unannounced = [...new Set([...previous.keys(), ...current.keys()])].filter(
        (id) => previous.get(id) !== current.get(id) && !touched.has(id) && !state.touched.has(id),
      );
      if (unannounced.length === 0) return;
      // The event may be on its way: give the stream a moment before calling it stalled.
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, eventsCheckMs)));
      if (state.stream !== stream || stream.bytes !== bytesBefore) return;
      log.warn({ containers: unannounced.map((id) => id.slice(0, 12)) }, 'the Docker event stream is stalled (the daemon lists changes it never sent); reconnecting');
      state.degraded('connection', 'the Docker event stream stalled; reconnecting');
      stream.controller.abort();
    } finally {
      this.checking = false;
    }
  }
}
