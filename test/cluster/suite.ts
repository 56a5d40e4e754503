// The frame of a cluster test suite on the real Docker engine: its own etcd,
// its own names (containers and key prefix), and every seamark it starts, all
// stopped and removed after its last test whatever the tests left paused.
import { after, before } from 'node:test';
import { startSeamark, type RunningSeamark, type StartOptions } from '../helpers/seamark.js';
import { describeWithDocker } from '../docker/engine.js';
import { startEtcd, type EtcdCluster } from './etcd.js';

export interface ClusterSuite {
  /** Starts the names of the suite's containers (and of its etcd key prefix). */
  readonly prefix: string;
  /** The suite's etcd, started before the suite's own before() hooks. */
  readonly etcd: EtcdCluster;
  /** `<prefix><suffix>.docker` */
  fqdn(suffix: string): string;
  /** A node's settings: the suite's etcd and key prefix, an advertise address, the suite's settings, then `extra`. */
  config(node: string, extra?: Record<string, unknown>): Record<string, unknown>;
  /** Starts a seamark, killed (SIGKILL) after the suite's last test unless it stopped before. */
  start(options: StartOptions): Promise<RunningSeamark>;
}

export interface ClusterSuiteOptions {
  /** etcd members: 1 by default. */
  members?: number;
  timeout?: number;
  /** Settings of every node (`nodeTtl`, `clusterAddresses`, …). */
  settings?: Record<string, unknown>;
}

/**
 * describeWithDocker() (skipped loudly without an engine; containers named with the prefix removed before and after)
 * for a suite of cluster nodes over a real etcd of its own.
 */
export function describeCluster(name: string, tag: string, options: ClusterSuiteOptions, body: (suite: ClusterSuite) => void): void {
  describeWithDocker(name, tag, { timeout: options.timeout ?? 240000 }, (prefix) => {
    let etcd: EtcdCluster | undefined;
    const nodes: RunningSeamark[] = [];
    const suite: ClusterSuite = {
      prefix,
      get etcd() {
        if (etcd === undefined) throw new Error('the suite\'s etcd is started in a before() hook: use it in hooks and tests');
        return etcd;
      },
      fqdn: (suffix) => `${prefix}${suffix}.docker`,
      config: (node, extra = {}) => ({
        etcd: suite.etcd.endpoints, nodeName: node, advertiseAddress: '192.0.2.1', etcdPrefix: `/seamark-${prefix}/`, ...options.settings, ...extra,
      }),
      async start(startOptions) {
        const node = await startSeamark(startOptions);
        nodes.push(node);
        return node;
      },
    };
    before(async () => {
      etcd = await startEtcd(options.members ?? 1);
    });
    after(async () => {
      // SIGKILL ends a seamark a test left stopped (SIGSTOP) too.
      for (const node of nodes) await node.stop('SIGKILL');
      for (const member of etcd?.members ?? []) etcd?.resume(member);
      await etcd?.stop();
    });
    body(suite);
  });
}
