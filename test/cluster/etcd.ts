// Real etcd processes for the cluster tests: one member or a 3-member cluster
// on free loopback ports with temporary data directories, always killed at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig } from '../helpers/dig.js';
import { freePort, type RunningSeamark } from '../helpers/seamark.js';
import { api, waitUntil } from '../http/client.js';

export interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  process: ChildProcess | undefined;
}

export interface EtcdCluster {
  members: EtcdMember[];
  /** Client URLs of every member. */
  endpoints: string[];
  /** Kills one member (SIGKILL); its data stays for a restart. */
  kill(member: EtcdMember): Promise<void>;
  start(member: EtcdMember): Promise<void>;
  /** Freezes a member (SIGSTOP): it keeps its connections and accepts new ones, but answers nothing. */
  pause(member: EtcdMember): void;
  /** Thaws a paused member (SIGCONT). */
  resume(member: EtcdMember): void;
  /** A call of etcd's JSON gateway (`/v3/...`) on the first live member. */
  gateway(path: string, body?: unknown): Promise<Record<string, unknown>>;
  /** Compacts the key-value history up to the current revision. */
  compact(): Promise<number>;
  leader(): Promise<EtcdMember>;
  stop(): Promise<void>;
}

export async function startEtcd(size = 1): Promise<EtcdCluster> {
  const base = mkdtempSync(join(tmpdir(), 'seamark-etcd-'));
  const members: EtcdMember[] = [];
  for (let i = 0; i < size; i++) {
    members.push({ name: `m${i}`, clientUrl: `http://127.0.0.1:${await freePort()}`, peerUrl: `http://127.0.0.1:${await freePort()}`, dataDir: join(base, `m${i}`), process: undefined });
  }
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  const endpoints = members.map((m) => m.clientUrl);
  const call = async (member: EtcdMember, path: string, body: unknown = {}) => {
    const response = await fetch(`${member.clientUrl}${path}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(3000) });
    if (!response.ok) throw new Error(`etcd ${path}: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as Record<string, unknown>;
  };

  const start = async (member: EtcdMember) => {
    member.process = spawn(
      'etcd',
      [
        '--name', member.name,
        '--data-dir', member.dataDir,
        '--listen-client-urls', member.clientUrl,
        '--advertise-client-urls', member.clientUrl,
        '--listen-peer-urls', member.peerUrl,
        '--initial-advertise-peer-urls', member.peerUrl,
        '--initial-cluster', initialCluster,
        '--initial-cluster-token', `seamark-test-${base}`,
        '--initial-cluster-state', 'new',
        '--heartbeat-interval', '50',
        '--election-timeout', '500',
        '--log-level', 'error',
      ],
      { stdio: 'ignore' },
    );
  };
  const paused = new Set<EtcdMember>();
  const alive = () => members.filter((m) => m.process !== undefined && !paused.has(m));
  const healthy = async () => {
    try {
      for (const member of alive()) {
        const response = await fetch(`${member.clientUrl}/health`, { signal: AbortSignal.timeout(2000) });
        if (!response.ok || (await response.json() as { health: string }).health !== 'true') return false;
      }
      return true;
    } catch {
      return false;
    }
  };
  await Promise.all(members.map(start));
  await waitUntil(healthy, 30000, 'etcd to answer');

  const kill = async (member: EtcdMember) => {
    const child = member.process;
    member.process = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  return {
    members,
    endpoints,
    kill,
    async start(member) {
      await start(member);
      await waitUntil(healthy, 30000, `etcd member ${member.name} to answer`);
    },
    pause(member) {
      paused.add(member);
      member.process?.kill('SIGSTOP');
    },
    resume(member) {
      paused.delete(member);
      member.process?.kill('SIGCONT');
    },
    gateway: (path, body) => call(alive()[0] as EtcdMember, path, body),
    async compact() {
      const status = await call(alive()[0] as EtcdMember, '/v3/kv/range', { key: Buffer.from('/').toString('base64') });
      const revision = Number((status.header as { revision: string }).revision);
      await call(alive()[0] as EtcdMember, '/v3/kv/compaction', { revision: String(revision), physical: true });
      return revision;
    },
    async leader() {
      for (const member of alive()) {
        const status = (await call(member, '/v3/maintenance/status')) as { leader: string; header: { member_id: string } };
        if (status.leader === status.header.member_id) return member;
      }
      throw new Error('no etcd leader');
    },
    async stop() {
      await Promise.all(members.map(kill));
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** A node's picture of the test's names: name, type and addresses (the node field and owner differ by design). */
export async function picture(node: RunningSeamark, namePrefix: string): Promise<string[]> {
  const names = await api(node.httpPort, 'GET', '/v1/names');
  return (names.body as { name: string; type: string; addresses: string[] }[])
    .filter((entry) => entry.name.startsWith(namePrefix) || entry.name.includes(`.${namePrefix}`))
    .map((entry) => `${entry.name} ${entry.type} ${[...entry.addresses].sort().join(',')}`)
    .sort();
}

/** Answers of a name on a node (A unless another type is asked for), data sorted; [] for NXDOMAIN. */
export async function answers(node: RunningSeamark, name: string, type = 'A'): Promise<string[]> {
  return (await dig(node.dnsPort, name, type)).answer.filter((r) => r.type === type).map((r) => r.data).sort();
}

