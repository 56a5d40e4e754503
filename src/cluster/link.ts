// The state of this node's link to etcd, shared by publisher, subscriber and
// record store: one warning per outage (not per retry), the metrics of cluster
// mode, and what /readyz and /v1/cluster say about it.
import type { Logger } from 'pino';
import { requireCommonJs } from '../lib/commonjs.js';

const { Counter, Gauge } = requireCommonJs('prom-client') as typeof import('prom-client');
type Counter = import('prom-client').Counter;
type MetricsRegistry = import('prom-client').Registry;

export class EtcdLink {
  private connectedNow = false;
  private downSince: number | undefined;
  private lastError: string | undefined;
  readonly watchEvents: Counter;
  readonly resyncs: Counter;
  readonly leaseRenewals: Counter;
  readonly leaseLosses: Counter;
  /** Seconds etcd's clock is ahead of this node's (negative: behind), as last measured. */
  clockOffsetSeconds = 0;

  constructor(
    private readonly log: Logger,
    metrics: MetricsRegistry,
  ) {
    const registers = [metrics];
    const link = this;
    new Gauge({
      name: 'seamark_cluster_connected',
      help: '1 while etcd answers this node, 0 while it does not',
      registers,
      collect() {
        this.set(link.connectedNow ? 1 : 0);
      },
    });
    this.watchEvents = new Counter({ name: 'seamark_cluster_watch_events_total', help: 'etcd watch events applied', registers });
    this.resyncs = new Counter({ name: 'seamark_cluster_resyncs_total', help: 'Full re-reads of the cluster prefix (start, watch error, compaction, reconnect)', registers });
    this.leaseRenewals = new Counter({ name: 'seamark_cluster_lease_renewals_total', help: 'Keep-alives of this node\'s lease that etcd accepted', registers });
    new Gauge({
      name: 'seamark_cluster_clock_offset_seconds',
      help: 'How far etcd\'s clock is ahead of this node\'s (negative: behind), from the Date of an etcd member\'s answer; nothing expires by a node\'s clock, but the times it writes are off by this much',
      registers,
      collect() {
        this.set(link.clockOffsetSeconds);
      },
    });
    this.leaseLosses = new Counter({ name: 'seamark_cluster_lease_losses_total', help: 'Times etcd said this node\'s lease had expired and a new one was taken (other nodes keep its instances for a grace period meanwhile)', registers });
  }

  get connected(): boolean {
    return this.connectedNow;
  }

  /** An etcd call succeeded. */
  up(): void {
    if (this.connectedNow) return;
    if (this.downSince !== undefined) {
      this.log.warn({ downSeconds: Math.round((Date.now() - this.downSince) / 1000) }, 'etcd answers again: catching up');
    }
    this.connectedNow = true;
    this.downSince = undefined;
    this.lastError = undefined;
  }

  /** An etcd call failed; logs once per outage. */
  down(error: unknown): void {
    this.lastError = (error as Error)?.message ?? String(error);
    if (this.downSince !== undefined) return;
    this.connectedNow = false;
    this.downSince = Date.now();
    this.log.warn({ err: this.lastError }, 'etcd unreachable: serving the last known picture and local changes; retrying');
  }

  status(): { connected: boolean; downSince?: string; error?: string } {
    return {
      connected: this.connectedNow,
      ...(this.downSince === undefined ? {} : { downSince: new Date(this.downSince).toISOString() }),
      ...(this.lastError === undefined ? {} : { error: this.lastError }),
    };
  }
}
