// Lease deadlines of hand-made records: one timer for the earliest deadline,
// however many records have a lease, so 100,000 leased records cost one timer.

/** The time leases are reckoned in, and how to be woken: the system's, unless a test drives its own. */
export interface LeaseClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `wake` after `ms` (it never holds the process open); returns what cancels it. */
  setTimer(wake: () => void, ms: number): () => void;
}

export const systemClock: LeaseClock = {
  now: () => Date.now(),
  setTimer(wake, ms) {
    const timer = setTimeout(wake, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

/** A min-heap of (deadline, id); an entry whose id has since moved to another deadline is skipped when it surfaces. */
export class LeaseDeadlines {
  private readonly deadlineOf = new Map<string, number>();
  private readonly heap: { at: number; id: string }[] = [];
  private cancelTimer: (() => void) | undefined;
  private timerAt = Infinity;

  /** `onDue(id, deadline)` runs once a deadline has passed; it is not awaited. */
  constructor(
    private readonly onDue: (id: string, deadline: number) => void,
    private readonly clock: LeaseClock = systemClock,
  ) {}

  /** Sets (or moves) the deadline of `id`, in ms since the epoch. */
  set(id: string, at: number): void {
    this.deadlineOf.set(id, at);
    this.push({ at, id });
    if (at < this.timerAt) this.schedule();
  }

  clear(id: string): void {
    this.deadlineOf.delete(id);
  }

  stop(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.timerAt = -Infinity;
    this.deadlineOf.clear();
    this.heap.length = 0;
  }

  private schedule(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const next = this.heap[0];
    this.timerAt = next?.at ?? Infinity;
    if (next === undefined) return;
    // Node timers reach at most 2^31-1 ms; a later deadline is reached by re-arming.
    this.cancelTimer = this.clock.setTimer(() => this.fire(), Math.min(Math.max(0, next.at - this.clock.now()), 2 ** 31 - 1));
  }

  private fire(): void {
    const now = this.clock.now();
    for (let top = this.heap[0]; top !== undefined && top.at <= now; top = this.heap[0]) {
      this.pop();
      if (this.deadlineOf.get(top.id) !== top.at) continue;
      this.deadlineOf.delete(top.id);
      this.onDue(top.id, top.at);
    }
    this.schedule();
  }

  private push(entry: { at: number; id: string }): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as { at: number }).at <= entry.at) break;
      heap[i] = heap[parent] as { at: number; id: string };
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && (heap[right] as { at: number }).at < (heap[left] as { at: number }).at ? right : left;
      if ((heap[child] as { at: number }).at >= last.at) break;
      heap[i] = heap[child] as { at: number; id: string };
      i = child;
    }
    heap[i] = last;
  }
}
