// The Docker source as app.ts starts it: from the configuration to a running watcher.
import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import type { Registry } from '../../registry/registry.js';
import { loadDockerode } from './dockerode.js';
import { describeEndpoint, dockerOptions } from '../../config/docker-endpoint.js';
import { DockerWatcher } from './watcher.js';

export { DockerWatcher } from './watcher.js';

/** Starts following Docker unless `docker: off`; undefined when turned off. */
export function startDockerSource(
  config: Config,
  registry: Registry,
  log: Logger,
  onFirstSync: () => void,
  onDegraded?: (reason: string | undefined) => void,
): DockerWatcher | undefined {
  if (config.docker.trim().toLowerCase() === 'off') {
    log.info('Docker source turned off (docker: off)');
    return undefined;
  }
  const options = dockerOptions(config.docker, process.env);
  const watcher = new DockerWatcher({
    // timeout 0 (docker-modem's "none") overrides the DOCKER_CLIENT_TIMEOUT docker-modem reads from the environment
    // with a tcp:// DOCKER_HOST: the event stream lives for days, and that timeout would cut it whenever it is quiet.
    docker: new (loadDockerode())({ ...options, timeout: 0 }),
    endpoint: describeEndpoint(options),
    registry,
    settings: {
      zones: config.zones,
      publishAll: config.publishAll,
      dnsdockNames: config.dnsdockNames,
      startingHealthy: config.startingHealthy,
      networks: config.dockerNetworks,
      hostAddresses: config.dockerHostAddresses,
      maxPorts: config.dockerMaxPorts,
      maxNames: config.dockerMaxNames,
    },
    reconcileMs: config.dockerReconcile * 1000,
    callTimeoutMs: config.dockerTimeout * 1000,
    eventsCheckMs: config.dockerEventsCheck * 1000,
    log: log.child({ source: 'docker' }),
    onFirstSync,
    onDegraded,
  });
  watcher.start();
  return watcher;
}
