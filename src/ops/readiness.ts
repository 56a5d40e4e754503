// Which parts of seamark have finished their first load: what /readyz reports.

export class Readiness {
  private readonly parts = new Map<string, boolean>();
  private readonly describers = new Map<string, () => unknown>();
  private readonly degradedParts = new Map<string, string>();

  /** Declares a part that must become ready before seamark is. */
  expect(part: string): void {
    if (!this.parts.has(part)) this.parts.set(part, false);
  }

  markReady(part: string): void {
    this.parts.set(part, true);
  }

  get ready(): boolean {
    return [...this.parts.values()].every(Boolean);
  }

  /** Adds the state of a part to /readyz's body (cluster mode: the etcd link). */
  describe(part: string, describer: () => unknown): void {
    this.describers.set(part, describer);
  }

  details(): Record<string, unknown> {
    return Object.fromEntries([...this.describers].map(([part, describer]) => [part, describer()]));
  }

  /** Marks a part as serving a picture that may be stale, with why; undefined clears it. Degraded parts stay ready. */
  setDegraded(part: string, reason: string | undefined): void {
    if (reason === undefined) this.degradedParts.delete(part);
    else this.degradedParts.set(part, reason);
  }

  /** Degraded parts and why. */
  degraded(): Record<string, string> {
    return Object.fromEntries(this.degradedParts);
  }

  /** Parts not ready yet. */
  pending(): string[] {
    return [...this.parts].filter(([, ready]) => !ready).map(([part]) => part);
  }
}
