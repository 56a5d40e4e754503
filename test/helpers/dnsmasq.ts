// A real dnsmasq on a loopback port: the upstream the forwarder tests talk to.
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './seamark.js';

export interface RunningDnsmasq {
  port: number;
  process: ChildProcess;
  /** Names dnsmasq was asked for, in order (from its query log). */
  queries: string[];
  stop(): Promise<void>;
}

/** `records` maps a name to an IPv4 address dnsmasq answers for it (and nothing else: no upstream); `port`: a given one, else a free one. */
export async function startDnsmasq(records: Record<string, string>, extraArgs: string[] = [], port?: number): Promise<RunningDnsmasq> {
  port ??= await freePort();
  const args = [
    '--keep-in-foreground',
    '--no-daemon',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--bind-interfaces',
    '--listen-address=127.0.0.1',
    `--port=${port}`,
    '--log-queries',
    '--log-facility=-',
    '--user=root',
    ...Object.entries(records).map(([name, address]) => `--host-record=${name},${address}`),
    ...extraArgs,
  ];
  const child = spawn('dnsmasq', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const queries: string[] = [];
  let ready = false;
  await new Promise<void>((resolve, reject) => {
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        const query = /query\[\w+\] (\S+) from/.exec(line);
        if (query) queries.push(query[1] ?? '');
        if (!ready && /started, version/.test(line)) {
          ready = true;
          resolve();
        }
      }
    };
    child.stdout?.on('data', onLine);
    child.stderr?.on('data', onLine);
    child.once('exit', (code) => reject(new Error(`dnsmasq exited with ${code}`)));
    setTimeout(() => reject(new Error('dnsmasq did not start')), 5000).unref();
  });
  // dnsmasq logs "started" just before it binds; give it a moment.
  await new Promise((r) => setTimeout(r, 100));
  return {
    port,
    process: child,
    queries,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}
