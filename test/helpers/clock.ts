// A clock that moves only when a test advances it, with the timers set on it: time rules tested without waiting.
import type { LeaseClock } from '../../src/sources/manual/leases.js';

export class ManualClock implements LeaseClock {
  private readonly timers = new Set<{ at: number; wake: () => void }>();

  constructor(private ms = Date.UTC(2030, 0, 1)) {}

  now(): number {
    return this.ms;
  }

  setTimer(wake: () => void, ms: number): () => void {
    const timer = { at: this.ms + ms, wake };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }

  /** Moves the time on by `ms`, waking every timer that falls due on the way, in order, each at its own time. */
  advance(ms: number): void {
    const until = this.ms + ms;
    for (;;) {
      let next: { at: number; wake: () => void } | undefined;
      for (const timer of this.timers) if (timer.at <= until && (next === undefined || timer.at < next.at)) next = timer;
      if (next === undefined) break;
      this.timers.delete(next);
      this.ms = Math.max(this.ms, next.at);
      next.wake();
    }
    this.ms = until;
  }
}
