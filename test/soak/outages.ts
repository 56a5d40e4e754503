// The soak's book of upstream outages, and its judgement of a SERVFAIL for
// the forwarded name against it. Times are performance.now() milliseconds.

/** The upstream was away from `from` (the soak began to stop it) until `to` (listening again; Infinity while away). */
export interface Outage {
  from: number;
  to: number;
}

export class UpstreamOutages {
  readonly all: Outage[] = [];

  /**
   * @param forwardTimeoutMs seamark's forwardTimeout in the run
   * @param timerSlackMs how late seamark's timeout may fire on a loaded machine
   * @param runStart the run's start, for the times in messages
   * @param failureTtlMs seamark's forwardFailureTtl: how long a failed lookup is answered SERVFAIL from its failure cache
   */
  constructor(
    private readonly forwardTimeoutMs: number,
    private readonly timerSlackMs: number,
    private readonly runStart: number,
    private readonly failureTtlMs = 0,
  ) {}

  /** Called before the upstream is told to stop: a query it has not answered yet is lost with it. */
  begin(at: number): Outage {
    const outage = { from: at, to: Infinity };
    this.all.push(outage);
    return outage;
  }

  /** Called once the upstream listens again. */
  end(outage: Outage, at: number): void {
    outage.to = at;
  }

  /**
   * Why a SERVFAIL for a forwarded query sent at `sentAt` and answered at
   * `answeredAt` is wrong, or undefined when it is right. A forwarder owes
   * SERVFAIL when its upstream did not answer within forwardTimeout. seamark's
   * upstream exchange for the query began at most forwardTimeout before it (the
   * query may have joined an exchange in flight) and ended when the SERVFAIL
   * left; or the query was answered from the failure cache, whose entry an
   * exchange that failed at most forwardFailureTtl earlier left (RFC 9520). The
   * SERVFAIL is right only when an outage overlaps that span.
   */
  judgeServfail(sentAt: number, answeredAt: number): string | undefined {
    const exchangeFrom = sentAt - this.failureTtlMs - this.forwardTimeoutMs - this.timerSlackMs;
    if (this.all.some((outage) => outage.from <= answeredAt && outage.to >= exchangeFrom)) return undefined;
    const before = this.all.filter((outage) => outage.from <= answeredAt).at(-1);
    const last = before === undefined ? 'no upstream outage before it' : `the last upstream outage was ${this.at(before.from)}–${this.at(before.to)}`;
    return `SERVFAIL for a query sent at ${this.at(sentAt)}, answered ${Math.round(answeredAt - sentAt)} ms later, with the upstream up all that time (${last})`;
  }

  /** A moment as seconds into the run. */
  at(time: number): string {
    return `${((time - this.runStart) / 1000).toFixed(1)} s`;
  }
}
