// Helpers for the tests against the real Docker engine: the docker CLI, a
// name prefix per test file for cleanup, and polling DNS until it agrees.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resolver } from 'node:dns/promises';
import { after, before, describe } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const IMAGE = 'seamark-test-busybox:latest';
const BUILD_SCRIPT = fileURLToPath(new URL('../../../test/docker/build-image.sh', import.meta.url));

export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { timeout: 120000, maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

/**
 * Why the Docker tests cannot run here, or undefined when an engine answers
 * (the test image is built if missing). Asks `docker version`, not `docker
 * info`: a daemon can hang on /info while it serves everything seamark uses.
 */
export function dockerUnavailable(): string | undefined {
  try {
    execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { stdio: 'pipe', timeout: 20000 });
  } catch (error) {
    return `no Docker engine reachable (${(error as Error).message.split('\n')[0]})`;
  }
  try {
    execFileSync('docker', ['image', 'inspect', IMAGE], { stdio: 'pipe' });
  } catch {
    execFileSync('bash', [BUILD_SCRIPT], { stdio: 'inherit' });
  }
  return undefined;
}

/** Says loudly that the Docker tests are skipped (never quietly). */
/**
 * Why a test that disturbs the host (restarting its Docker daemon outside systemd, firewall rules off) must not run
 * here, or undefined when it may: only when CI says so (CI=true) or the operator opts in (SEAMARK_TEST_DISTURB_HOST=1).
 */
export function hostDisturbanceRefused(): string | undefined {
  if (process.env.CI === 'true' || process.env.SEAMARK_TEST_DISTURB_HOST === '1') return undefined;
  return 'it restarts this host\'s Docker daemon (outside systemd, with --iptables=false); run it with CI=true or SEAMARK_TEST_DISTURB_HOST=1 on a machine you can disturb';
}

export function skipLoudly(reason: string): void {
  const line = '!'.repeat(78);
  console.log(`${line}\n!!! SKIPPING the Docker tests: ${reason}\n!!! CI must never skip them: start dockerd (see .ci/run).\n${line}`);
}

/**
 * What seamark serves for the containers whose names start with `prefix`
 * (`/v1/names`, Docker-owned A records) and what `docker ps` says it should
 * be, as sorted `<container-name>.docker=<addresses>` lines; a container
 * seamark serves that docker ps does not list shows as `<id> (not in docker ps)`.
 */
export async function namesAndDockerPs(httpPort: number, prefix: string): Promise<{ equal: boolean; seamark: string[]; docker: string[] }> {
  const ids = (await docker('ps', '-q', '--no-trunc', '--filter', `name=^/${prefix}`)).split('\n').filter(Boolean);
  const inspected = ids.length === 0 ? '' : await docker('inspect', '--format', '{{.Id}} {{.Name}} {{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', ...ids);
  const expected = new Map<string, string>();
  for (const [id = '', name = '', ...addresses] of inspected.split('\n').map((line) => line.trim().split(/\s+/))) {
    if (addresses.length > 0) expected.set(id, `${name.replace(/^\//, '')}.docker=${addresses.sort().join(',')}`);
  }
  const response = await fetch(`http://127.0.0.1:${httpPort}/v1/names`);
  if (response.status !== 200) throw new Error(`/v1/names answered ${response.status}: ${await response.text()}`);
  const entries = (await response.json()) as { name: string; type: string; owner: string; addresses: string[] }[];
  const served = new Map<string, Set<string>>();
  for (const entry of entries) {
    if (entry.type !== 'A' || !entry.owner.startsWith('docker:') || !entry.name.startsWith(prefix)) continue;
    const id = entry.owner.slice('docker:'.length);
    const lines = served.get(id) ?? new Set<string>();
    lines.add(`${entry.name}=${[...entry.addresses].sort().join(',')}`);
    served.set(id, lines);
  }
  const seamark = [...served].map(([id, lines]) => {
    const wanted = expected.get(id);
    return wanted !== undefined && lines.has(wanted) ? wanted : `${id.slice(0, 12)} (not in docker ps): ${[...lines].join(' ')}`;
  }).sort();
  const dockerPs = [...expected.values()].sort();
  return { equal: JSON.stringify(seamark) === JSON.stringify(dockerPs), seamark, docker: dockerPs };
}

/** Waits until `/v1/names` equals `docker ps` for the prefix; the error shows both. */
export async function waitForDockerPs(httpPort: number, prefix: string, timeoutMs = 10000): Promise<number> {
  let last: { seamark: string[]; docker: string[] } | undefined;
  return waitUntil('/v1/names to equal docker ps', async () => (last = await namesAndDockerPs(httpPort, prefix)).equal, timeoutMs, 100).catch((error: Error) => {
    throw new Error(`${error.message}\nseamark:   ${JSON.stringify(last?.seamark)}\ndocker ps: ${JSON.stringify(last?.docker)}`);
  });
}

/** `/readyz` as a client reads it. */
export async function readyz(httpPort: number): Promise<{ status: number; body: { ready: boolean; pending: string[]; degraded?: Record<string, string> } }> {
  const response = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
  return { status: response.status, body: (await response.json()) as { ready: boolean; pending: string[]; degraded?: Record<string, string> } };
}

/**
 * describe() for tests against the real engine: skipped, and said loudly, when there is none; the containers and
 * networks named with the suite's prefix (from `tag`, unique to the run) are removed before it and after it.
 * `body` is given the prefix to name what it creates.
 */
export function describeWithDocker(name: string, tag: string, options: { timeout?: number }, body: (prefix: string) => void): void {
  const unavailable = dockerUnavailable();
  if (unavailable !== undefined) skipLoudly(unavailable);
  const prefix = testPrefix(tag);
  describe(name, { skip: unavailable, ...options }, () => {
    before(() => removeByPrefix(prefix));
    body(prefix);
    after(() => removeByPrefix(prefix));
  });
}

/** A unique name prefix for one test file, so cleanup removes only what it created. */
export function testPrefix(tag: string): string {
  return `smt-${tag}-${process.pid.toString(36)}${Math.floor(Math.random() * 1296).toString(36)}-`;
}

/** Removes every container and network whose name starts with the prefix. */
export async function removeByPrefix(prefix: string): Promise<void> {
  const containers = (await docker('ps', '-aq', '--filter', `name=^/${prefix}`)).split('\n').filter(Boolean);
  for (let i = 0; i < containers.length; i += 50) await docker('rm', '-f', '-v', ...containers.slice(i, i + 50)).catch(() => '');
  const networks = (await docker('network', 'ls', '-q', '--filter', `name=^${prefix}`)).split('\n').filter(Boolean);
  if (networks.length > 0) await docker('network', 'rm', ...networks).catch(() => '');
}

/** `docker run -d` with the test image; returns the container id. */
export function runContainer(name: string, options: string[] = [], command: string[] = ['sleep', '3600']): Promise<string> {
  return docker('run', '-d', '--name', name, ...options, IMAGE, ...command);
}

/** Every IP address of a container, from `docker inspect`. */
export async function containerAddresses(name: string): Promise<string[]> {
  const text = await docker('inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{.GlobalIPv6Address}} {{end}}', name);
  return text.split(/\s+/).filter(Boolean);
}

/** A resolver that asks only seamark, one try, short timeout. */
export function seamarkResolver(port: number): Resolver {
  const resolver = new Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  return resolver;
}

/** A / AAAA answers of a name, sorted; [] for NXDOMAIN/NODATA. */
export async function addressesOf(resolver: Resolver, name: string, family: 4 | 6 = 4): Promise<string[]> {
  try {
    const answers = family === 4 ? await resolver.resolve4(name) : await resolver.resolve6(name);
    return answers.sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') return [];
    throw error;
  }
}

/** Polls until `check` returns true; fails with `what` and the last value after `timeoutMs`. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 10000, intervalMs = 20): Promise<number> {
  const started = performance.now();
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return performance.now() - started;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() - started > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((value, i) => value === [...b].sort()[i]);
}

/** The bridge network's gateway (seamark's address as the containers see it). */
export async function bridgeGateway(): Promise<string> {
  const gateway = await docker('network', 'inspect', 'bridge', '--format', '{{range .IPAM.Config}}{{.Gateway}}{{end}}');
  if (gateway !== '') return gateway;
  // Daemons that do not record it use the first address of the subnet on docker0.
  const { stdout } = await run('ip', ['-4', '-o', 'addr', 'show', 'docker0']);
  const match = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(stdout);
  if (!match?.[1]) throw new Error('cannot find the bridge gateway address');
  return match[1];
}

/** How dockerd is started here: never with the firewall touched. */
export const DOCKERD_ARGS = ['--iptables=false', '--ip-masq=false'];

/** Starts dockerd detached (it outlives the test) and waits for it to answer. */
export async function startDockerd(logFile: string): Promise<void> {
  const out = openSync(logFile, 'a');
  const child = spawn('dockerd', DOCKERD_ARGS, { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  await waitUntil('dockerd to answer', async () => {
    await docker('version', '--format', '{{.Server.Version}}');
    return true;
  }, 60000, 250);
}

/**
 * What the proxy does to one request: `stall` holds it (the daemon never sees
 * it, the client never gets an answer); `refuse` closes the connection;
 * `delayResponseMs` passes it at once but holds the daemon's answer that long
 * (the daemon's picture is taken now and arrives late).
 */
export type ProxyFault = 'stall' | 'refuse' | { delayResponseMs: number };

/**
 * A unix-socket proxy to the Docker socket, for faults a real engine cannot
 * produce on demand: cut and restore it (seamark goes blind), stall, refuse or
 * slow chosen requests, or silence the answers already streaming.
 */
export class DockerSocketProxy {
  readonly path: string;
  /** Chooses a fault for each new request (`GET /containers/json?...`); undefined: pass it through. */
  faultFor: ((request: string) => ProxyFault | undefined) | undefined;
  /** Every request line seen, in order, with the fault applied. */
  readonly requests: { request: string; fault?: ProxyFault }[] = [];
  /** Chunks of delayed answers not delivered yet. */
  heldChunks = 0;

  constructor(path = join(mkdtempSync(join(tmpdir(), 'seamark-proxy-')), 'docker.sock')) {
    this.path = path;
  }
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Each client connection with the last request it carried. */
  private readonly lastRequestOf = new Map<Socket, string>();
  private readonly silencers = new Map<Socket, () => void>();

  async open(): Promise<void> {
    this.server = createServer((client) => this.relay(client));
    await new Promise<void>((resolve) => this.server?.listen(this.path, resolve));
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  /** Closes the open connections whose last request matches (the listener stays open). */
  dropConnections(pattern: RegExp): void {
    for (const [client, request] of this.lastRequestOf) if (pattern.test(request)) client.destroy();
  }

  /** The open connections whose last request matches stop passing the daemon's bytes on (an event stream goes silent, its connection open). */
  silenceConnections(pattern: RegExp): void {
    for (const [client, silence] of this.silencers) if (pattern.test(this.lastRequestOf.get(client) ?? '')) silence();
  }

  /** Fault rule: `fault` for requests whose line matches `pattern`, at most `times` times (then the rule lifts itself). */
  failMatching(pattern: RegExp, fault: ProxyFault, times = Infinity): void {
    let left = times;
    this.faultFor = (request) => {
      if (left <= 0 || !pattern.test(request)) return undefined;
      left--;
      return fault;
    };
  }

  /** How many requests matching `pattern` got a fault so far. */
  faulted(pattern: RegExp): number {
    return this.requests.filter((r) => r.fault !== undefined && pattern.test(r.request)).length;
  }

  private relay(client: Socket): void {
    const upstream = connect('/var/run/docker.sock');
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    let stalled = false;
    let silenced = false;
    let responseDelayMs = 0;
    const silence = () => (silenced = true);
    this.silencers.set(client, silence);
    client.on('close', () => {
      this.silencers.delete(client);
      this.lastRequestOf.delete(client);
    });
    client.on('data', (chunk: Buffer) => {
      // Node's HTTP client sends one request at a time per connection; a request line starts a new one.
      const line = /^([A-Z]+) (\S+) HTTP\/1\.[01]\r\n/.exec(chunk.toString('latin1', 0, Math.min(chunk.length, 4096)));
      if (line !== null) {
        const request = `${line[1]} ${line[2]}`;
        const fault = this.faultFor?.(request);
        this.requests.push({ request, fault });
        this.lastRequestOf.set(client, request);
        if (fault === 'refuse') return void client.destroy();
        stalled = fault === 'stall';
        responseDelayMs = typeof fault === 'object' ? fault.delayResponseMs : 0;
      }
      if (!stalled) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (silenced || stalled) return;
      if (responseDelayMs === 0) return void client.write(chunk);
      this.heldChunks++;
      setTimeout(() => {
        this.heldChunks--;
        if (!client.destroyed) client.write(chunk);
      }, responseDelayMs);
    });
  }
}
