// Shared by the image tests: the image under test (built by test/image/build.sh when missing) and the Docker socket's group.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { dockerUnavailable } from '../docker/engine.js';

export const SEAMARK_IMAGE = 'seamark:test';
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BUILD_SCRIPT = fileURLToPath(new URL('../../../test/image/build.sh', import.meta.url));
export const SOCKET = '/var/run/docker.sock';

/** Why the image tests cannot run here, or undefined once an engine answers and seamark:test exists (built if missing). */
export function imageUnavailable(): string | undefined {
  const reason = dockerUnavailable();
  if (reason !== undefined) return reason;
  try {
    execFileSync('docker', ['image', 'inspect', SEAMARK_IMAGE], { stdio: 'pipe' });
  } catch {
    execFileSync('bash', [BUILD_SCRIPT, SEAMARK_IMAGE], { stdio: 'inherit' });
  }
  return undefined;
}

/** The group owning the Docker socket: the container's non-root user joins it to read the socket. */
export function socketGroup(): string {
  return String(statSync(SOCKET).gid);
}

/**
 * A JSON request to seamark's HTTP API with the bearer token. node:http rather than fetch: while the container
 * starts, Docker's port proxy accepts and drops connections, and Node 20's fetch can then leave its promise unsettled.
 */
export function api(port: number, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port, method, path, timeout: 5000, headers: { authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          try {
            resolve({ status: response.statusCode ?? 0, body: text === '' ? undefined : (JSON.parse(text) as unknown) });
          } catch {
            resolve({ status: response.statusCode ?? 0, body: text });
          }
        });
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`${method} ${path}: no answer within 5 s`)));
    request.on('error', reject);
    request.end(payload);
  });
}
