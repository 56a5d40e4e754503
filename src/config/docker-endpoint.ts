// Where the Docker daemon is: `--docker`, else DOCKER_HOST, else the default
// socket; TLS from DOCKER_CERT_PATH / DOCKER_TLS_VERIFY as the docker CLI does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DockerOptions } from 'dockerode';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/**
 * dockerode options for an endpoint. The client gets no client-wide timeout
 * (see `startDockerSource`); the watcher puts a time limit on each call.
 */
export function dockerOptions(endpoint: string, env: NodeJS.ProcessEnv): DockerOptions {
  const target = endpoint.trim() || env.DOCKER_HOST?.trim() || `unix://${DEFAULT_DOCKER_SOCKET}`;
  if (target.startsWith('unix://')) return { socketPath: target.slice('unix://'.length) || DEFAULT_DOCKER_SOCKET };
  if (target.startsWith('/')) return { socketPath: target };
  const match = /^(tcp|http|https):\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(target);
  if (!match) throw new Error(`Docker endpoint "${target}" is not unix:///path, /path or tcp://host:port`);
  const host = (match[2] ?? '').replace(/^\[|\]$/g, '');
  const port = Number(match[3] ?? (env.DOCKER_TLS_VERIFY === '1' ? 2376 : 2375));
  const certPath = env.DOCKER_CERT_PATH?.trim();
  const tls = match[1] === 'https' || env.DOCKER_TLS_VERIFY === '1' || port === 2376;
  if (!tls) return { host, port, protocol: 'http' };
  const options: DockerOptions = { host, port, protocol: 'https' };
  if (certPath) {
    options.ca = readFileSync(join(certPath, 'ca.pem'));
    options.cert = readFileSync(join(certPath, 'cert.pem'));
    options.key = readFileSync(join(certPath, 'key.pem'));
  }
  return options;
}

/** The endpoint as a log line shows it. */
export function describeEndpoint(options: DockerOptions): string {
  return options.socketPath !== undefined ? `unix://${options.socketPath}` : `${options.protocol}://${options.host}:${options.port}`;
}
