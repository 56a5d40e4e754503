// Which parts of seamark have finished their first load: what /readyz reports.

export class Readiness {
  private readonly parts = new Map<string, boolean>();
  private readonly describers = new Map<string, () => unknown>();

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

  /** Parts not ready yet. */
  pending(): string[] {
    return [...this.parts].filter(([, ready]) => !ready).map(([part]) => part);
  }
}
