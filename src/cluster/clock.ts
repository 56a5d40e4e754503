// This node's clock against etcd's. Nothing in cluster mode is decided by a
// node's clock (record leases are etcd leases, node liveness is etcd's), but
// the times a node writes (a record's updatedAt and expiresAt, its startedAt)
// are read by people: a clock far off is said loudly, and as a metric.

/** How far a node's clock may be from etcd's before it is warned about. */
export const CLOCK_SKEW_BOUND_MS = 5000;

/**
 * Milliseconds etcd's clock is ahead of `now` (negative: behind), from the Date header of the member's HTTP
 * answer (etcd serves /version on its client port); undefined when the member gives no date.
 */
export async function etcdClockOffset(endpoint: string, now: () => number): Promise<number | undefined> {
  const sent = now();
  const response = await fetch(new URL('/version', endpoint), { signal: AbortSignal.timeout(3000) });
  const received = now();
  await response.body?.cancel();
  const date = Date.parse(response.headers.get('date') ?? '');
  if (Number.isNaN(date)) return undefined;
  // The header counts whole seconds: etcd's time at the answer lies within [date, date + 1 s).
  return date + 500 - (sent + received) / 2;
}
