// Health checks of hand-made records: an HTTP(S) request or a TCP connect,
// repeated every interval. node:http is used rather than fetch, which refuses
// the "bad ports" of the Fetch standard (6667, 10080, ...) that real services use.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { parseHostPort, type HealthCheck } from './record.js';

/** Probes a check now and then every interval, reporting each result; returns a function that stops it. */
export function runHealthCheck(check: HealthCheck, report: (healthy: boolean) => void): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const round = async () => {
    const healthy = await probe(check);
    if (stopped) return;
    report(healthy);
    timer = setTimeout(() => void round(), check.interval * 1000);
    timer.unref();
  };
  void round();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
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
