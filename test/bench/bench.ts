// Benchmark: seamark beside dnsmasq and Knot DNS serving the same names on
// loopback, and beside the Node floor (a bare dgram server copying a fixed
// reply), all driven by dnsperf with the same queries in the same run. Prints
// queries/s, loss, mean and p99 latency, server CPU µs per query and resident
// memory for every row, seamark's memory with 1,000 and 100,000 names, its
// start-up time with 100,000 records in the embedded store, and the time from
// a registry change (an HTTP write) to the new answer on the wire, and DNS
// under API load: at rest, while 150 clients hold /v1/events streams on a
// large registry, and through a flood of pipelined large-header requests.
//
//   npm run bench -- --help       this text
//   npm run bench                 full run (a few minutes)
//   npm run bench -- --short      a quick pass that checks everything runs
//   npm run bench -- --smoke      seconds, not minutes (what npm test runs): one worker, few queries per row,
//                                 no 100,000-name rows and no "DNS under API load" rows
//   npm run bench -- --api-load   only the "DNS under API load" rows
//                                 (--main <dist/src/main.js> runs another build, e.g. an older one, for them;
//                                 --dns-on-api-thread runs them with dnsThread: false)
//   npm run bench -- --dns-path   only the 1,000-name rows of one seamark worker (A, mix, forwarded, and A
//                                 under 20 changes/s) beside dnsmasq; --main runs another build for them
//   npm run bench -- --query-log  only the cost of the query log: one worker, 1,000 names, A and mix, with the
//                                 log off, on at its default cap (queryLogRate 100 lines/s) and on for every answer
//   npm run bench -- --networks   only the per-network rows: containers on two Docker networks asked from the
//                                 host and from a container on each network (needs a Docker engine)
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildQuery, sendRaw } from '../helpers/raw.js';
import { MAIN, freePort, metric } from '../helpers/seamark.js';
import { IMAGE, docker, dockerUnavailable } from '../docker/engine.js';
import type { ManualRecord } from '../../src/sources/manual/record.js';
import { DiskStore } from '../../src/store/disk.js';

const { values: flags } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
    queries: { type: 'string' },
    workers: { type: 'string', default: '1,2' },
    'api-load': { type: 'boolean', default: false },
    main: { type: 'string' },
    'dns-on-api-thread': { type: 'boolean', default: false },
    'dns-path': { type: 'boolean', default: false },
    'query-log': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
    networks: { type: 'boolean', default: false },
  },
});
if (flags.help === true) {
  // The usage is the comment at the top of this file.
  const source = readFileSync(new URL(import.meta.url), 'utf8').split('\n');
  console.log(source.slice(0, source.findIndex((line) => !line.startsWith('//'))).map((line) => line.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}
const SMOKE = flags.smoke === true;
const SHORT = flags.short === true || SMOKE;
const QUERIES = Number(flags.queries ?? (SMOKE ? 300 : SHORT ? 3000 : 200_000));
const WORKERS = SMOKE ? [1] : (flags.workers ?? '1,2').split(',').map(Number);
const SMALL = 1000;
const LARGE = 100_000;
const FORWARDED = 100;
/** Records in the embedded store for the start-up figure. */
const STORED = SMOKE ? 200 : SHORT ? 2000 : 100_000;
const FLOOR = new URL('./floor.js', import.meta.url).pathname;
const API_LOAD_ONLY = flags['api-load'] === true;
/** The seamark measured under API load: this build unless --main names another. */
const API_LOAD_MAIN = flags.main ?? MAIN;
/** --dns-path: only the 1,000-name rows of one worker and the churn row, beside dnsmasq. */
const DNS_PATH_ONLY = flags['dns-path'] === true;
/** --query-log: only the rows of the query log's cost. */
const QUERY_LOG_ONLY = flags['query-log'] === true;
/** --networks: only the per-network rows. */
const NETWORKS_ONLY = flags.networks === true;
/** Containers on two networks in the per-network rows. */
const NETWORK_SERVICES = 20;
/** Registry changes per second of the churn row (containers starting and stopping), made over the HTTP API. */
const CHURN_PER_SECOND = 20;
/** --dns-on-api-thread: the API-load rows with dnsThread: false, DNS on the API's event loop. */
const DNS_ON_API_THREAD = flags['dns-on-api-thread'] === true;
/** The large registry of the API-load rows: records × names each (3,000 × 64 as in issue 20). */
const LOAD_RECORDS = SHORT ? 300 : 3000;
const LOAD_NAMES_EACH = 64;
/** Names of about 50 characters: with 3,000 × 64 an 11.6 MB /v1/events snapshot, as in the issue. */
const loadName = (record: number, name: number) => `r${record}-n${name}-${'x'.repeat(38)}`;
const SSE_CLIENTS = 150;
const FLOOD_CONNECTIONS = 20;
/** Seconds and queries per second of each API-load row: a steady rate, so latency is not dnsperf's own queueing. */
const LOAD_SECONDS = SHORT ? 3 : 15;
const LOAD_QPS = 2000;

interface Server {
  name: string;
  port: number;
  pids: () => number[];
  stop: () => Promise<void>;
}

interface Row {
  server: string;
  workers: string;
  names: number;
  profile: string;
  qps: number;
  lost: string;
  meanMs: number;
  p99Ms: number;
  cpuUsPerQuery: number;
  /** Resident memory of every process of the server right after the row, MB. */
  rssMb: number;
}

const work = mkdtempSync(join(tmpdir(), 'seamark-bench-'));
const children: ChildProcess[] = [];

function address4(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}
function address6(i: number): string {
  return `fd00::${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}`;
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

function writeQueryFiles(names: number): Record<string, string> {
  const a = shuffle(Array.from({ length: names }, (_, i) => `host-${i}.docker A`));
  const mix: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const n = Math.floor(Math.random() * names);
    const roll = i % 10;
    if (roll < 7) mix.push(`host-${n}.docker A`);
    else if (roll === 7) mix.push(`missing-${n}.docker A`);
    else if (roll === 8) mix.push(`host-${n}.docker AAAA`);
    else mix.push(`_http._tcp.host-${n}.docker SRV`);
  }
  const forwarded = Array.from({ length: FORWARDED }, (_, i) => `ext-${i}.example.test A`);
  // NXDOMAIN without an SOA: cached by neither seamark nor dnsmasq, so every query goes upstream (a fresh socket each for seamark).
  const uncached = Array.from({ length: 1000 }, (_, i) => `nx-${i}.uncached.test A`);
  const files: Record<string, string> = {};
  for (const [profile, lines] of Object.entries({ A: a, 'mix (A/AAAA/SRV/NXDOMAIN)': shuffle(mix), forwarded, 'forwarded uncached': uncached })) {
    const file = join(work, `queries-${names}-${profile.replaceAll(' ', '-').replace(/[^a-zA-Z-]/g, '')}.txt`);
    writeFileSync(file, lines.join('\n') + '\n');
    files[profile] = file;
  }
  return files;
}

function cpuTicks(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime + stime
    } catch {
      // the process is gone
    }
  }
  return ticks;
}

/** The sum over the processes of a kB figure one of their /proc files gives, MB. */
function procMb(pids: number[], file: string, figure: RegExp): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += Number(figure.exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'))?.[1] ?? 0);
    } catch {
      // the process is gone
    }
  }
  return kb / 1024;
}

function residentMb(pids: number[]): number {
  return procMb(pids, 'status', /VmRSS:\s+(\d+)/);
}

/**
 * Proportional set size of the processes, MB: a page shared by several
 * processes (the node binary's code, mapped by every seamark process) is
 * split between them rather than counted in full by each, as VmRSS does.
 * What a further DNS worker really costs the host is its share here.
 */
function proportionalMb(pids: number[]): number {
  return procMb(pids, 'smaps_rollup', /^Pss:\s+(\d+)/m);
}

function descendants(pid: number): number[] {
  const all = [pid];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) all.push(Number(entry));
    } catch {
      // raced with an exit
    }
  }
  return all;
}

function start(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Waits until `name` A is answered on `port` with a NOERROR carrying an answer. */
async function answered(port: number, name: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const reply = await query(port, name, 200);
    if (reply !== undefined && (reply.readUInt16BE(2) & 0xf) === 0 && reply.readUInt16BE(6) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no answer for ${name} on port ${port}`);
}

function query(port: number, name: string, waitMs: number): Promise<Buffer | undefined> {
  return sendRaw(port, buildQuery(name, 1, { id: Math.floor(Math.random() * 65536) }), waitMs);
}

async function startUpstream(): Promise<number> {
  const port = await freePort();
  const args = ['-k', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--bind-interfaces', '--listen-address=127.0.0.1', `--port=${port}`, '--user=root', '--local-ttl=3600', '--local=/uncached.test/'];
  for (let i = 0; i < FORWARDED; i++) args.push(`--host-record=ext-${i}.example.test,192.0.2.${i % 250}`);
  start('dnsmasq', args);
  await answered(port, 'ext-0.example.test');
  return port;
}

/**
 * dnsmasq serving the same records as seamark, SRV included. dnsmasq walks
 * its SRV entries one by one for every query, so a second one without them
 * (its fastest set-up, fewer records than seamark serves) is measured too
 * where no SRV is asked.
 */
async function startDnsmasq(names: number, upstream: number, withSrv: boolean): Promise<Server> {
  const port = await freePort();
  const hosts = join(work, `hosts-${names}`);
  const lines: string[] = [];
  for (let i = 0; i < names; i++) lines.push(`${address4(i)} host-${i}.docker`, `${address6(i)} host-${i}.docker`);
  writeFileSync(hosts, lines.join('\n') + '\n');
  const conf = join(work, `dnsmasq-${names}-${withSrv ? 'srv' : 'plain'}.conf`);
  writeFileSync(conf, withSrv ? Array.from({ length: names }, (_, i) => `srv-host=_http._tcp.host-${i}.docker,host-${i}.docker,80`).join('\n') + '\n' : '');
  const child = start('dnsmasq', [
    '-k',
    `--conf-file=${conf}`,
    '--no-resolv',
    '--no-hosts',
    `--addn-hosts=${hosts}`,
    '--local=/docker/',
    `--server=127.0.0.1#${upstream}`,
    '--cache-size=10000',
    '--bind-interfaces',
    '--listen-address=127.0.0.1',
    `--port=${port}`,
    '--user=root',
    '--local-ttl=30',
  ]);
  await answered(port, 'host-0.docker');
  return { name: 'dnsmasq', port, pids: () => [child.pid as number], stop: () => stopChild(child) };
}

/** Knot DNS, authoritative only, one UDP worker, serving the same names (SRV included) from a zone file. */
async function startKnot(names: number): Promise<Server> {
  const port = await freePort();
  const dir = join(work, `knot-${names}`);
  mkdirSync(dir, { recursive: true });
  const lines = ['$ORIGIN docker.', '$TTL 30', '@ SOA ns.docker. hostmaster.docker. 1 60 30 86400 5', '@ NS ns.docker.', 'ns A 127.0.0.1'];
  for (let i = 0; i < names; i++) {
    lines.push(`host-${i} A ${address4(i)}`, `host-${i} AAAA ${address6(i)}`);
    if (names <= SMALL) lines.push(`_http._tcp.host-${i} SRV 0 0 80 host-${i}.docker.`);
  }
  writeFileSync(join(dir, 'docker.zone'), lines.join('\n') + '\n');
  const conf = join(dir, 'knot.conf');
  writeFileSync(
    conf,
    [
      'server:',
      `    rundir: "${dir}"`,
      `    listen: 127.0.0.1@${port}`,
      '    udp-workers: 1',
      '    tcp-workers: 1',
      '    background-workers: 1',
      'database:',
      `    storage: "${dir}"`,
      'control:',
      `    listen: "${join(dir, 'knot.sock')}"`,
      'log:',
      '  - target: stderr',
      '    any: error',
      'zone:',
      '  - domain: docker',
      `    storage: "${dir}"`,
      '    file: "docker.zone"',
      '',
    ].join('\n'),
  );
  const child = start('knotd', ['-c', conf]);
  await answered(port, 'host-0.docker');
  return { name: 'knot', port, pids: () => [child.pid as number], stop: () => stopChild(child) };
}

/** The Node floor: a bare dgram server copying a fixed reply (floor.ts). */
async function startFloor(): Promise<Server> {
  const port = await freePort();
  const child = start(process.execPath, [FLOOR, String(port)]);
  await answered(port, 'host-0.docker');
  return { name: 'node floor', port, pids: () => [child.pid as number], stop: () => stopChild(child) };
}

/** Seconds from starting seamark with `count` records in its embedded store to the last of them answered on the wire. */
async function startUpWithStoredRecords(count: number, upstream: number): Promise<{ seconds: number; rssMb: number }> {
  const dataDir = join(work, 'data-stored');
  const store = new DiskStore<ManualRecord>(dataDir);
  await store.load(() => undefined);
  const now = new Date().toISOString();
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < count) {
        const i = next++;
        await store.put({ id: `stored-${i}`, names: [`host-${i}.docker`], addresses: [address4(i), address6(i)], srv: [], createdAt: now, updatedAt: now });
      }
    }),
  );
  const port = await freePort();
  const file = join(work, 'seamark-stored.json');
  writeFileSync(file, JSON.stringify({ dns: [`127.0.0.1:${port}`], http: `127.0.0.1:${await freePort()}`, docker: 'off', dataDir, logLevel: 'warn', upstreams: [`127.0.0.1:${upstream}`] }));
  const started = performance.now();
  const child = start(process.execPath, [MAIN, '--config', file]);
  await answered(port, `host-${count - 1}.docker`, 300_000);
  const seconds = (performance.now() - started) / 1000;
  const rssMb = residentMb(descendants(child.pid as number));
  await stopChild(child);
  return { seconds, rssMb };
}

async function startSeamark(names: number, upstream: number, workers: number, main = MAIN, settings: Record<string, unknown> = {}): Promise<Server & { httpPort: number }> {
  const port = await freePort();
  const httpPort = await freePort();
  const config = {
    dns: [`127.0.0.1:${port}`],
    http: `127.0.0.1:${httpPort}`,
    docker: 'off',
    dataDir: join(work, `data-${names}-${workers}`),
    logLevel: 'warn',
    workers,
    upstreams: [`127.0.0.1:${upstream}`],
    hosts: Array.from({ length: names }, (_, i) => ({ names: [`host-${i}`], addresses: [address4(i), address6(i)], srv: names <= SMALL ? [{ service: 'http', port: 80 }] : [] })),
    ...settings,
  };
  const file = join(work, `seamark-${names}-${workers}.json`);
  writeFileSync(file, JSON.stringify(config));
  const child = start(process.execPath, [main, '--config', file]);
  await answered(port, 'host-0.docker');
  return { name: 'seamark', port, httpPort, pids: () => descendants(child.pid as number), stop: () => stopChild(child) };
}

/**
 * Runs dnsperf on one server with one query file; every server gets the same query count. `from`: run it in the
 * network namespace of that process (a container's), asking the server at `address` (its network's gateway).
 */
async function drive(
  server: Server,
  file: string,
  lines: number,
  steady?: { seconds: number; qps: number },
  from?: { pid: number; address: string },
): Promise<Omit<Row, 'server' | 'workers' | 'names' | 'profile'>> {
  const runs = Math.max(1, Math.ceil(QUERIES / lines));
  const pids = server.pids();
  const cpuBefore = cpuTicks(pids);
  const latencies: number[] = [];
  let summary = '';
  const amount = steady === undefined ? ['-n', String(runs)] : ['-l', String(steady.seconds), '-Q', String(steady.qps)];
  await new Promise<void>((resolve, reject) => {
    const dnsperf = ['dnsperf', '-s', from?.address ?? '127.0.0.1', '-p', String(server.port), '-d', file, ...amount, '-c', '8', '-q', '200', '-t', '2', '-v'];
    const child = from === undefined ? spawn(dnsperf[0] as string, dnsperf.slice(1)) : spawn('nsenter', ['-t', String(from.pid), '-n', ...dnsperf]);
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('> ')) latencies.push(Number(line.slice(line.lastIndexOf(' ') + 1)));
        else summary += line + '\n';
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`dnsperf exited with ${code}`))));
  });
  const cpuUs = ((cpuTicks(pids) - cpuBefore) / 100) * 1e6;
  const completed = Number(/Queries completed:\s+(\d+)/.exec(summary)?.[1] ?? 0);
  const lost = /Queries lost:\s+(\d+ \([\d.]+%\))/.exec(summary)?.[1] ?? '?';
  latencies.sort((x, y) => x - y);
  return {
    qps: Number(/Queries per second:\s+([\d.]+)/.exec(summary)?.[1] ?? 0),
    lost,
    meanMs: Number(/Average Latency \(s\):\s+([\d.]+)/.exec(summary)?.[1] ?? 0) * 1000,
    p99Ms: (latencies[Math.floor(latencies.length * 0.99)] ?? 0) * 1000,
    cpuUsPerQuery: completed > 0 ? cpuUs / completed : 0,
    rssMb: residentMb(pids),
  };
}

/** Time from an HTTP write to its answer on the wire, measured from the request and from the reply. */
async function changeToAnswer(server: Server & { httpPort: number }, round: number): Promise<{ fromRequestMs: number; fromReplyMs: number }> {
  const name = `changed-${round}.docker`;
  const started = performance.now();
  const reply = await fetch(`http://127.0.0.1:${server.httpPort}/v1/records/bench-${round}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ names: [`changed-${round}`], addresses: ['10.250.0.1'] }),
  });
  const replied = performance.now();
  if (!reply.ok) throw new Error(`PUT answered ${reply.status}`);
  for (;;) {
    const answer = await query(server.port, name, 500);
    if (answer !== undefined && answer.readUInt16BE(6) > 0) break;
  }
  const seen = performance.now();
  return { fromRequestMs: seen - started, fromReplyMs: seen - replied };
}

function table(rows: Row[]): string {
  const header = ['server', 'workers', 'names', 'queries', 'qps', 'lost', 'mean ms', 'p99 ms', 'CPU µs/query', 'RSS MB'];
  const body = rows.map((r) => [
    r.server,
    r.workers,
    String(r.names),
    r.profile,
    r.qps.toFixed(0),
    r.lost,
    r.meanMs.toFixed(3),
    r.p99Ms.toFixed(3),
    r.cpuUsPerQuery.toFixed(1),
    r.rssMb.toFixed(1),
  ]);
  return [header, header.map(() => '---'), ...body].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const notes: string[] = [];
  const upstream = await startUpstream();
  if (API_LOAD_ONLY) {
    await dnsUnderApiLoad(upstream, rows, notes);
    return print(rows, notes);
  }
  if (DNS_PATH_ONLY) {
    await dnsPath(upstream, rows, notes);
    return print(rows, notes);
  }
  if (QUERY_LOG_ONLY) {
    await queryLogCost(upstream, rows, notes);
    return print(rows, notes);
  }
  if (NETWORKS_ONLY) {
    await clientsOnNetworks(upstream, rows, notes);
    return print(rows, notes);
  }
  const files = writeQueryFiles(SMALL);
  const lineCounts: Record<string, number> = {};
  for (const [profile, file] of Object.entries(files)) lineCounts[profile] = readFileSync(file, 'utf8').trim().split('\n').length;

  const dnsmasq = await startDnsmasq(SMALL, upstream, false);
  const dnsmasqWithSrv = await startDnsmasq(SMALL, upstream, true);
  const knot = await startKnot(SMALL);
  const floor = await startFloor();
  // The peers measured beside seamark for each query profile: Knot is authoritative only, the floor answers A.
  const peers = (profile: string): [string, Server][] => [
    ['dnsmasq', dnsmasqWithSrv],
    ...(profile.startsWith('mix') ? [] : ([['dnsmasq (no SRV)', dnsmasq]] as [string, Server][])),
    ...(profile.startsWith('forwarded') ? [] : ([['knot', knot]] as [string, Server][])),
    ...(profile === 'A' ? ([['node floor', floor]] as [string, Server][]) : []),
  ];
  for (const workers of WORKERS) {
    const seamark = await startSeamark(SMALL, upstream, workers);
    notes.push(`seamark resident memory, ${SMALL} names, ${workers} worker${workers > 1 ? 's' : ''} (all processes), after start: ${residentMb(seamark.pids()).toFixed(1)} MB`);
    for (const [profile, file] of Object.entries(files)) {
      // Warm every cache the same way, then measure.
      await drive(seamark, file, Infinity).catch(() => undefined);
      for (const [, server] of peers(profile)) await drive(server, file, Infinity).catch(() => undefined);
      rows.push({ server: 'seamark', workers: String(workers), names: SMALL, profile, ...(await drive(seamark, file, lineCounts[profile] as number)) });
      for (const [name, server] of peers(profile)) {
        rows.push({ server: name, workers: '-', names: SMALL, profile, ...(await drive(server, file, lineCounts[profile] as number)) });
      }
    }
    const changes = [];
    for (let round = 0; round < (SMOKE ? 1 : 5); round++) changes.push(await changeToAnswer(seamark, round));
    const worst = changes.reduce((a, b) => (b.fromRequestMs > a.fromRequestMs ? b : a));
    notes.push(
      `change to answer (${workers} worker${workers > 1 ? 's' : ''}): HTTP PUT sent → new answer on the wire ${median(changes.map((c) => c.fromRequestMs)).toFixed(2)} ms median ` +
        `(worst ${worst.fromRequestMs.toFixed(2)} ms); HTTP reply → answer ${median(changes.map((c) => c.fromReplyMs)).toFixed(2)} ms median`,
    );
    notes.push(
      `seamark resident memory, ${SMALL} names, ${workers} worker${workers > 1 ? 's' : ''} (all processes), after every profile: ${residentMb(seamark.pids()).toFixed(1)} MB ` +
        `(proportional, shared pages counted once: ${proportionalMb(seamark.pids()).toFixed(1)} MB)`,
    );
    if (workers > 1) {
      // descendants() lists the main process first; the rest are the DNS workers.
      const dnsWorkers = seamark.pids().slice(1);
      notes.push(
        `seamark DNS worker, ${SMALL} names, each: ${(residentMb(dnsWorkers) / dnsWorkers.length).toFixed(1)} MB resident, ` +
          `${(proportionalMb(dnsWorkers) / dnsWorkers.length).toFixed(1)} MB proportional`,
      );
    }
    await seamark.stop();
  }
  for (const [name, server] of [['dnsmasq', dnsmasq], ['knot', knot], ['node floor', floor]] as const) {
    notes.push(`${name} resident memory, ${SMALL} names: ${residentMb(server.pids()).toFixed(1)} MB`);
  }
  await Promise.all([dnsmasq.stop(), dnsmasqWithSrv.stop(), knot.stop()]);
  if (SMOKE) {
    const stored = await startUpWithStoredRecords(STORED, upstream);
    notes.push(`seamark start-up with ${STORED} records in the embedded store: answering the last of them after ${stored.seconds.toFixed(2)} s (${stored.rssMb.toFixed(1)} MB resident)`);
    return print(rows, notes);
  }

  // 100,000 names: memory, and A queries over the whole set.
  const largeFiles = writeQueryFiles(LARGE);
  const largeSeamark = await startSeamark(LARGE, upstream, 1);
  notes.push(`seamark resident memory, ${LARGE} names, 1 worker, after start: ${residentMb(largeSeamark.pids()).toFixed(1)} MB`);
  const largeA = largeFiles.A as string;
  await drive(largeSeamark, largeA, Infinity).catch(() => undefined);
  rows.push({ server: 'seamark', workers: '1', names: LARGE, profile: 'A', ...(await drive(largeSeamark, largeA, LARGE)) });
  notes.push(`seamark resident memory, ${LARGE} names, 1 worker, after every name was asked: ${residentMb(largeSeamark.pids()).toFixed(1)} MB`);
  await largeSeamark.stop();
  const largePeers: [string, Server][] = [
    ['dnsmasq', await startDnsmasq(LARGE, upstream, false)],
    ['knot', await startKnot(LARGE)],
    ['node floor', floor],
  ];
  for (const [name, server] of largePeers) {
    await drive(server, largeA, Infinity).catch(() => undefined);
    rows.push({ server: name, workers: '-', names: LARGE, profile: 'A', ...(await drive(server, largeA, LARGE)) });
    await server.stop();
  }

  const stored = await startUpWithStoredRecords(STORED, upstream);
  notes.push(`seamark start-up with ${STORED} records in the embedded store: answering the last of them after ${stored.seconds.toFixed(2)} s (${stored.rssMb.toFixed(1)} MB resident)`);

  await clientsOnNetworks(upstream, rows, notes);
  await dnsUnderApiLoad(upstream, rows, notes);
  print(rows, notes);
}

/**
 * Per-network answers (README "Networks"): NETWORK_SERVICES containers on two Docker networks, asked for by A from
 * the host (one view, every address) and by dnsperf run inside the network namespace of a container on each
 * network (`nsenter -n`: its source address is the container's, so seamark answers it by its view). What keeping
 * answers per view costs shows as the difference between the rows.
 */
async function clientsOnNetworks(upstream: number, rows: Row[], notes: string[]): Promise<void> {
  const unavailable = dockerUnavailable();
  if (unavailable !== undefined) {
    notes.push(`per-network rows not run: ${unavailable}`);
    return;
  }
  const prefix = `smb-${process.pid.toString(36)}-`;
  const networks = [`${prefix}front`, `${prefix}back`];
  const cleanup = async () => {
    const containers = (await docker('ps', '-aq', '--filter', `name=^/${prefix}`)).split('\n').filter(Boolean);
    if (containers.length > 0) await docker('rm', '-f', ...containers).catch(() => '');
    for (const network of networks) await docker('network', 'rm', network).catch(() => '');
  };
  await cleanup();
  let seamark: (Server & { httpPort: number }) | undefined;
  try {
    const gateways: string[] = [];
    for (const network of networks) {
      await docker('network', 'create', network);
      gateways.push(await docker('network', 'inspect', network, '--format', '{{range .IPAM.Config}}{{.Gateway}}{{end}}'));
    }
    const names: string[] = [];
    for (let i = 0; i < NETWORK_SERVICES; i++) {
      await docker('run', '-d', '--name', `${prefix}svc-${i}`, '--network', networks[0] as string, IMAGE, 'sleep', '3600');
      await docker('network', 'connect', networks[1] as string, `${prefix}svc-${i}`);
      names.push(`${prefix}svc-${i}.docker`);
    }
    const clients: { network: string; pid: number; gateway: string }[] = [];
    for (const [i, network] of networks.entries()) {
      await docker('run', '-d', '--name', `${prefix}client-${i}`, '--network', network, IMAGE, 'sleep', '3600');
      clients.push({ network, pid: Number(await docker('inspect', '-f', '{{.State.Pid}}', `${prefix}client-${i}`)), gateway: gateways[i] as string });
    }
    const port = await freePort();
    const httpPort = await freePort();
    const file = join(work, 'networks-A.txt');
    writeFileSync(file, names.map((name) => `${name} A`).join('\n') + '\n');
    const configFile = join(work, 'seamark-networks.json');
    writeFileSync(
      configFile,
      JSON.stringify({ dns: [`127.0.0.1:${port}`, ...gateways.map((gateway) => `${gateway}:${port}`)], http: `127.0.0.1:${httpPort}`, dataDir: join(work, 'data-networks'), logLevel: 'warn', upstreams: [`127.0.0.1:${upstream}`] }),
    );
    const child = start(process.execPath, [MAIN, '--config', configFile]);
    seamark = { name: 'seamark', port, httpPort, pids: () => descendants(child.pid as number), stop: () => stopChild(child) };
    for (const name of names) await answered(port, name);
    const profile = `A, ${NETWORK_SERVICES} containers on 2 networks`;
    await drive(seamark, file, Infinity).catch(() => undefined);
    rows.push({ server: 'seamark', workers: '1', names: NETWORK_SERVICES, profile: `${profile}, from the host`, ...(await drive(seamark, file, NETWORK_SERVICES)) });
    for (const client of clients) {
      const from = { pid: client.pid, address: client.gateway };
      await drive(seamark, file, Infinity, undefined, from).catch(() => undefined);
      rows.push({ server: 'seamark', workers: '1', names: NETWORK_SERVICES, profile: `${profile}, from a container on ${client.network.slice(prefix.length)}`, ...(await drive(seamark, file, NETWORK_SERVICES, undefined, from)) });
    }
    notes.push(`per-network rows: the answer cache held ${await metric(seamark, 'seamark_dns_answer_cache_entries')} entries for ${NETWORK_SERVICES} names asked from 3 views`);
  } finally {
    await seamark?.stop();
    await cleanup();
  }
}

/**
 * The 1,000-name rows of one seamark worker (the build --main names, else this one) beside dnsmasq, and A
 * queries while the registry changes CHURN_PER_SECOND times a second: hand-made records created, changed and
 * deleted over the HTTP API, names other than the ones asked, as containers come and go beside a busy service.
 */
async function dnsPath(upstream: number, rows: Row[], notes: string[]): Promise<void> {
  const files = writeQueryFiles(SMALL);
  const dnsmasq = await startDnsmasq(SMALL, upstream, true);
  const seamark = await startSeamark(SMALL, upstream, 1, API_LOAD_MAIN);
  for (const [profile, file] of Object.entries(files)) {
    if (profile === 'forwarded uncached') continue;
    const lines = readFileSync(file, 'utf8').trim().split('\n').length;
    await drive(seamark, file, Infinity).catch(() => undefined);
    await drive(dnsmasq, file, Infinity).catch(() => undefined);
    rows.push({ server: 'seamark', workers: '1', names: SMALL, profile, ...(await drive(seamark, file, lines)) });
    rows.push({ server: 'dnsmasq', workers: '-', names: SMALL, profile, ...(await drive(dnsmasq, file, lines)) });
  }
  const counts = async () => ({ hits: await metric(seamark, 'seamark_dns_answer_cache_hits_total'), queries: await metric(seamark, 'seamark_dns_queries_total') });
  const before = await counts();
  const churn = startChurn(seamark);
  const churnProfile = `A, ${CHURN_PER_SECOND} changes/s`;
  const churnRow: Row = { server: 'seamark', workers: '1', names: SMALL, profile: churnProfile, ...(await drive(seamark, files.A as string, SMALL)) };
  rows.push(churnRow);
  const made = await churn.stop();
  const after = await counts();
  // What the churn costs the cache (answers it could not serve) apart from the CPU the changes themselves take.
  const hitShare = (100 * (after.hits - before.hits)) / Math.max(1, after.queries - before.queries);
  notes.push(
    `churn row: ${made.changes} changes over the HTTP API in ${made.seconds.toFixed(1)} s (${(made.changes / made.seconds).toFixed(1)}/s), ${made.failed} failed; ` +
      `the answer cache served ${hitShare.toFixed(2)} % of its queries` + cpuPerChange(rows, churnRow, after.queries - before.queries, made.changes),
  );
  await Promise.all([seamark.stop(), dnsmasq.stop()]);
}

/**
 * What the query log costs the DNS path: one worker, 1,000 names, with the log off (one check a query), on at its
 * default cap of 100 lines a second (the rest counted), and on with a line for every answer. Every row logs at
 * info, so the lines are formatted and written (to /dev/null, as the bench ignores seamark's stdout).
 */
async function queryLogCost(upstream: number, rows: Row[], notes: string[]): Promise<void> {
  const files = writeQueryFiles(SMALL);
  const variants: [string, Record<string, unknown>][] = [
    ['query log off', { logLevel: 'info' }],
    ['query log on, 100 lines/s', { logLevel: 'info', queryLog: true }],
    ['query log on, every answer', { logLevel: 'info', queryLog: true, queryLogRate: 1_000_000 }],
  ];
  for (const [label, settings] of variants) {
    const seamark = await startSeamark(SMALL, upstream, 1, MAIN, settings);
    for (const profile of ['A', 'mix (A/AAAA/SRV/NXDOMAIN)']) {
      const file = files[profile] as string;
      const lines = readFileSync(file, 'utf8').trim().split('\n').length;
      await drive(seamark, file, Infinity).catch(() => undefined);
      rows.push({ server: `seamark, ${label}`, workers: '1', names: SMALL, profile, ...(await drive(seamark, file, lines)) });
    }
    notes.push(`seamark, ${label}: ${residentMb(seamark.pids()).toFixed(1)} MB resident after its rows`);
    await seamark.stop();
  }
}

/** The CPU a change took (HTTP, validation, disk, replication to the DNS thread): the churn row's CPU beyond the quiet row's per query. */
function cpuPerChange(rows: Row[], churnRow: Row, queries: number, changes: number): string {
  const quiet = rows.find((row) => row.server === 'seamark' && row.names === churnRow.names && row.profile === 'A');
  if (quiet === undefined || changes === 0) return '';
  return `; each change took ${(((churnRow.cpuUsPerQuery - quiet.cpuUsPerQuery) * queries) / changes / 1000).toFixed(2)} ms of seamark's CPU`;
}

/** Creates, changes and deletes hand-made records CHURN_PER_SECOND times a second until stopped. */
function startChurn(server: Server & { httpPort: number }): { stop: () => Promise<{ changes: number; seconds: number; failed: number }> } {
  let changes = 0;
  let failed = 0;
  let running = true;
  const started = performance.now();
  const loop = (async () => {
    for (let round = 0; running; round++) {
      const due = started + (round * 1000) / CHURN_PER_SECOND;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      // 50 records in turn: created, readdressed, deleted, created again.
      const id = `churn-${round % 50}`;
      const phase = Math.floor(round / 50) % 3;
      const init: RequestInit =
        phase === 2
          ? { method: 'DELETE' }
          : { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ names: [id], addresses: [`10.251.${phase}.${round % 50}`] }) };
      const reply = await fetch(`http://127.0.0.1:${server.httpPort}/v1/records/${id}`, init).catch(() => undefined);
      if (reply?.ok === true) changes++;
      else failed++;
      await reply?.arrayBuffer().catch(() => undefined);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { changes, seconds: (performance.now() - started) / 1000, failed };
    },
  };
}

function print(rows: Row[], notes: string[]): void {
  console.log(`\nseamark benchmark — ${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, Node ${process.version}`);
  console.log(`${QUERIES} queries per row (dnsperf -c 8 -q 200, UDP, loopback)${SMOKE ? ' — smoke run: figures are not meaningful' : SHORT ? ' — short mode: figures are not meaningful' : ''}\n`);
  console.log(table(rows));
  console.log('');
  for (const note of notes) console.log(`- ${note}`);
}

/**
 * DNS under API load, with the default configuration (one worker): DNS p99 and
 * resident memory at rest, while 150 clients open /v1/events on a registry of
 * 3,000 records × 64 names and one more reconnects 6 times a second, and
 * through 20 connections of pipelined large-header requests. Queries at a
 * steady rate (LOAD_QPS), so the figures are the server's, not dnsperf's queue.
 */
async function dnsUnderApiLoad(upstream: number, rows: Row[], notes: string[]): Promise<void> {
  const names = LOAD_RECORDS * LOAD_NAMES_EACH;
  const queries = join(work, 'queries-load.txt');
  writeFileSync(queries, shuffle(Array.from({ length: 20_000 }, () => `${loadName(Math.floor(Math.random() * LOAD_RECORDS), Math.floor(Math.random() * LOAD_NAMES_EACH))}.docker A`)).join('\n') + '\n');
  const steady = { seconds: LOAD_SECONDS, qps: LOAD_QPS };
  const label = API_LOAD_MAIN !== MAIN ? 'seamark (--main)' : DNS_ON_API_THREAD ? 'seamark (dnsThread: false)' : 'seamark';
  const row = (profile: string, figures: Omit<Row, 'server' | 'workers' | 'names' | 'profile'>): Row => ({ server: label, workers: '1', names, profile, ...figures });

  let seamark = await startLargeRegistry(upstream);
  try {
    await drive(seamark, queries, Infinity, { seconds: 1, qps: LOAD_QPS }).catch(() => undefined);
    rows.push(row('A, DNS under API load: at rest', await drive(seamark, queries, Infinity, steady)));
    notes.push(`DNS under API load, ${LOAD_RECORDS} records × ${LOAD_NAMES_EACH} names, at rest: ${residentMb(seamark.pids()).toFixed(1)} MB resident`);

    const streams = startEventStreams(seamark.httpPort, SSE_CLIENTS);
    const peak = peakResident(seamark);
    rows.push(row(`A, DNS under API load: ${SSE_CLIENTS} /v1/events clients (+1 reconnecting 6/s)`, await drive(seamark, queries, Infinity, steady)));
    const sse = streams.stop();
    notes.push(
      `DNS under API load, ${SSE_CLIENTS} /v1/events clients: ${sse.snapshots} whole snapshots received ` +
        `(${(sse.snapshotBytes / 1e6).toFixed(1)} MB each) and ${sse.refused} refusals in ${LOAD_SECONDS} s; peak resident ${peak.stop().toFixed(1)} MB`,
    );
  } finally {
    await seamark.stop();
  }

  // A fresh server: what the streams left behind (an older build's buffers) must not weigh on the flood's row.
  seamark = await startLargeRegistry(upstream);
  try {
    await drive(seamark, queries, Infinity, { seconds: 1, qps: LOAD_QPS }).catch(() => undefined);
    const flood = startHttpFlood(seamark.httpPort, FLOOD_CONNECTIONS);
    const floodPeak = peakResident(seamark);
    rows.push(row(`A, DNS under API load: HTTP flood (${FLOOD_CONNECTIONS} pipelined connections, large headers)`, await drive(seamark, queries, Infinity, steady)));
    const answeredCount = flood.stop();
    notes.push(
      `DNS under API load, HTTP flood: ${answeredCount} requests answered in ${LOAD_SECONDS} s (${(answeredCount / LOAD_SECONDS).toFixed(0)}/s); ` +
        `peak resident ${floodPeak.stop().toFixed(1)} MB`,
    );
  } finally {
    await seamark.stop();
  }
}

/** seamark on its defaults (one worker) serving LOAD_RECORDS hosts of LOAD_NAMES_EACH names, event streams allowed for every client. */
async function startLargeRegistry(upstream: number): Promise<Server & { httpPort: number }> {
  const port = await freePort();
  const httpPort = await freePort();
  const hosts = Array.from({ length: LOAD_RECORDS }, (_, i) => ({
    names: Array.from({ length: LOAD_NAMES_EACH }, (_, j) => loadName(i, j)),
    addresses: [address4(i), address6(i)],
  }));
  // The limits are raised so that all 150 clients get their stream: the row measures what they cost, not their refusal.
  const config = {
    dns: [`127.0.0.1:${port}`],
    http: `127.0.0.1:${httpPort}`,
    docker: 'off',
    dataDir: join(work, 'data-load'),
    logLevel: 'warn',
    upstreams: [`127.0.0.1:${upstream}`],
    // A build from before these settings existed (--main) refuses them, and had no such limits.
    ...(API_LOAD_MAIN === MAIN ? { eventsMaxStreams: 200, eventsMaxStreamsPerClient: 200 } : {}),
    ...(DNS_ON_API_THREAD ? { dnsThread: false } : {}),
    hosts,
  };
  const file = join(work, 'seamark-load.json');
  writeFileSync(file, JSON.stringify(config));
  const child = start(process.execPath, [API_LOAD_MAIN, '--config', file]);
  await answered(port, `${loadName(LOAD_RECORDS - 1, 0)}.docker`, 120_000);
  return { name: 'seamark', port, httpPort, pids: () => descendants(child.pid as number), stop: () => stopChild(child) };
}

/** Samples the server's resident memory every 100 ms; stop() gives the highest seen, MB. */
function peakResident(server: Server): { stop: () => number } {
  let peak = residentMb(server.pids());
  const timer = setInterval(() => (peak = Math.max(peak, residentMb(server.pids()))), 100);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, residentMb(server.pids()));
    },
  };
}

/**
 * `count` clients that open /v1/events at once and stay, reading (and counting) what comes, plus one that
 * reconnects every 166 ms. A stream whose snapshot has come in whole counts as a snapshot; a non-200 as refused.
 */
function startEventStreams(httpPort: number, count: number): { stop: () => { snapshots: number; snapshotBytes: number; refused: number } } {
  const requests = new Set<ClientRequest>();
  let snapshots = 0;
  let snapshotBytes = 0;
  let refused = 0;
  let stopped = false;
  const open = (): ClientRequest => {
    const req = httpRequest({ host: '127.0.0.1', port: httpPort, path: '/v1/events' }, (response) => {
      if (response.statusCode !== 200) {
        refused++;
        response.resume();
        return;
      }
      // The snapshot ends at the first blank line after its `data:` line.
      let seen = 0;
      let tail = '';
      let whole = false;
      response.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (whole) return;
        tail = (tail + chunk.toString('latin1', Math.max(0, chunk.length - 64))).slice(-64);
        if (seen > 1000 && tail.endsWith('}\n\n')) {
          whole = true;
          snapshots++;
          snapshotBytes = seen;
        }
      });
    });
    req.on('error', () => undefined);
    req.on('close', () => requests.delete(req));
    req.end();
    requests.add(req);
    return req;
  };
  for (let i = 0; i < count; i++) open();
  let reconnecting = open();
  const timer = setInterval(() => {
    if (stopped) return;
    reconnecting.destroy();
    reconnecting = open();
  }, 166);
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
      for (const req of requests) req.destroy();
      return { snapshots, snapshotBytes, refused };
    },
  };
}

/**
 * `connections` sockets, each keeping 32 pipelined GET /healthz requests with about 12 KB of headers in flight.
 * stop() gives the number of responses received.
 */
function startHttpFlood(httpPort: number, connections: number): { stop: () => number } {
  const headers = Array.from({ length: 12 }, (_, i) => `x-filler-${i}: ${'f'.repeat(1000)}\r\n`).join('');
  const oneRequest = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: flood\r\n${headers}\r\n`;
  const DEPTH = 32;
  const batch = oneRequest.repeat(DEPTH / 2);
  let answeredCount = 0;
  const sockets: Socket[] = [];
  let stopped = false;
  const open = () => {
    const socket = connect({ host: '127.0.0.1', port: httpPort });
    let inFlight = 0;
    const refill = () => {
      while (!stopped && inFlight <= DEPTH / 2) {
        socket.write(batch);
        inFlight += DEPTH / 2;
      }
    };
    socket.on('connect', refill);
    socket.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      let at = -1;
      let responses = 0;
      while ((at = text.indexOf('HTTP/1.1 ', at + 1)) >= 0) responses++;
      answeredCount += responses;
      inFlight -= responses;
      refill();
    });
    socket.on('error', () => undefined);
    // A connection the server closes is opened again: the flood keeps its 20 connections.
    socket.on('close', () => {
      if (!stopped) open();
    });
    sockets.push(socket);
  };
  for (let i = 0; i < connections; i++) open();
  return {
    stop() {
      stopped = true;
      for (const socket of sockets) socket.destroy();
      return answeredCount;
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(async () => {
    await Promise.all(children.map(stopChild));
    rmSync(work, { recursive: true, force: true });
  });
