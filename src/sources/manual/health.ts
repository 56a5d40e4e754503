// Health checks of hand-made records: an HTTP(S) request or a TCP connect,
// repeated every interval. node:http is used rather than fetch, which refuses
// the "bad ports" of the Fetch standard (6667, 10080, ...) that real services use.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { DEFAULT_CHECK_FALL, DEFAULT_CHECK_RISE, parseHostPort, type CheckCounts, type HealthCheck } from './record.js';

export interface HealthState extends CheckCounts {
  healthy: boolean;
}

/**
 * Probes a check now and then every interval, reporting the state after each
 * result; returns a function that stops it. A host starts healthy. A round that
 * fails (a probe or a report that throws) is told to `failed` and the checks go on.
 */
export function runHealthCheck(check: HealthCheck, report: (state: HealthState) => void, failed: (error: unknown) => void): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let state: HealthState = { healthy: true, passing: 0, failing: 0 };
  const round = async () => {
    try {
      const passed = await probe(check);
      if (stopped) return;
      state = nextHealthState(state, passed, check);
      report(state);
    } catch (error) {
      if (stopped) return;
      failed(error);
    }
    timer = setTimeout(() => void round(), check.interval * 1000);
    timer.unref();
  };
  // round() never rejects: it catches everything it runs.
  void round();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** HAProxy's rule: healthy flips only after `fall` failures or `rise` passes in a row. */
export function nextHealthState(state: HealthState, passed: boolean, check: Pick<HealthCheck, 'rise' | 'fall'>): HealthState {
  const passing = passed ? state.passing + 1 : 0;
  const failing = passed ? 0 : state.failing + 1;
  // Records stored before rise/fall existed have neither: they take the defaults.
  const healthy = state.healthy ? failing < (check.fall ?? DEFAULT_CHECK_FALL) : passing >= (check.rise ?? DEFAULT_CHECK_RISE);
  return { healthy, passing, failing };
}

function probe(check: HealthCheck): Promise<boolean> {
  const timeoutMs = check.timeout * 1000;
  return check.http !== undefined ? probeHttp(check.http, timeoutMs) : probeTcp(check.tcp ?? '', timeoutMs);
}

/** Healthy on 2xx or 3xx (redirects are not followed), within the timeout. */
function probeHttp(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const request = send(url, { method: 'GET', headers: { 'user-agent': 'seamark-health-check' } }, (response) => {
      const status = response.statusCode ?? 0;
      response.destroy();
      finish(status >= 200 && status < 400);
    });
    const timer = setTimeout(() => finish(false), timeoutMs);
    function finish(healthy: boolean): void {
      clearTimeout(timer);
      request.destroy();
      resolve(healthy);
    }
    request.once('error', () => finish(false));
    request.end();
  });
}

function probeTcp(hostPort: string, timeoutMs: number): Promise<boolean> {
  const target = parseHostPort(hostPort);
  if (target === undefined) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const socket = connect({ host: target.host, port: target.port });
    const finish = (healthy: boolean) => {
      socket.destroy();
      resolve(healthy);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}
