// The soak: seamark with two DNS workers under a steady dnsperf load, while
// containers come and go on the real Docker engine, hand-made records are
// written, renewed and deleted through the HTTP API, the upstream resolver (a
// dnsmasq on loopback) goes away and comes back, and a DNS worker is killed
// now and then. A checker asks for every name whose state it knows and judges
// each answer against that state when the query left:
//   - a name that exists (a record acknowledged, a container seen) is never NXDOMAIN and has its address;
//   - a removed name (record deleted, container stopped or removed) stops answering within one second;
//   - a forwarded name has the upstream's address, or SERVFAIL when the upstream was away at some moment
//     seamark could have been waiting on it for that query (outages.ts);
//   - a query in flight when its name began to change may get the state before or after.
// It prints, per interval, queries answered, lost and wrong, p99 latency and
// resident memory, and exits 1 on any wrong answer or memory that keeps growing.
//
//   npm run soak                    ten minutes
//   npm run soak -- --minutes 1     the CI form (intervals of 15 s)
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { IMAGE, docker, runContainer } from '../docker/engine.js';
import { startDnsmasq, type RunningDnsmasq } from '../helpers/dnsmasq.js';
import { buildQuery } from '../helpers/raw.js';
import { startSeamark, type RunningSeamark } from '../helpers/seamark.js';
import { UpstreamOutages } from './outages.js';

const { values: flags } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, qps: { type: 'string', default: '1000' } } });
const MINUTES = Number(flags.minutes);
const DNSPERF_QPS = Number(flags.qps);
if (!(MINUTES > 0) || !(DNSPERF_QPS > 0)) throw new Error('--minutes and --qps take positive numbers');
const DURATION_MS = MINUTES * 60_000;
/** Report interval: a minute, or a quarter of a short run. */
const INTERVAL_MS = Math.min(60_000, DURATION_MS / 4);
const REMOVAL_DEADLINE_MS = 1000;
/** seamark's forwardTimeout in this run, and how late a timer may fire on a loaded machine. */
const FORWARD_TIMEOUT_MS = 1000;
/** seamark's forwardFailureTtl in this run: a lookup that failed is SERVFAIL from the failure cache this long. */
const FAILURE_TTL_MS = 1000;
const TIMER_SLACK_MS = 500;
const CHECK_TIMEOUT_MS = 3000;
const STABLE = 20;
const UPSTREAM_NAME = 'up.example';
const UPSTREAM_ADDRESS = '192.0.2.53';

/** What an answer must be, fixed when its query left. */
type Expectation =
  | { kind: 'address'; name: string; address: string }
  | { kind: 'removed'; name: string; removedAt: number }
  | { kind: 'forward' };

interface Interval {
  answered: number;
  lost: number;
  wrong: number;
  latencies: number[];
  primaryRss: number;
  workersRss: number;
}

const startedAt = performance.now();
const outages = new UpstreamOutages(FORWARD_TIMEOUT_MS, TIMER_SLACK_MS, startedAt, FAILURE_TTL_MS);
const intervals: Interval[] = [];
const wrongAnswers: string[] = [];
const failures: string[] = [];
const forwarded = { address: 0, servfailInOutage: 0 };
const counts = { containersStarted: 0, containersRemoved: 0, recordsWritten: 0, recordsRenewed: 0, recordsDeleted: 0, upstreamOutages: 0, workersKilled: 0 };
/** The latest a removed name was still answered, after its removal. */
let latestAnswerAfterRemovalMs = 0;
let stopping = false;

function interval(): Interval {
  const index = Math.min(Math.floor((performance.now() - startedAt) / INTERVAL_MS), Math.ceil(DURATION_MS / INTERVAL_MS) - 1);
  while (intervals.length <= index) intervals.push({ answered: 0, lost: 0, wrong: 0, latencies: [], primaryRss: 0, workersRss: 0 });
  return intervals[index] as Interval;
}

function wrong(text: string): void {
  interval().wrong++;
  if (wrongAnswers.length < 50) wrongAnswers.push(`${outages.at(performance.now())}: ${text}`);
}

/** The checker's DNS client: one UDP socket, queries matched to replies by ID. */
class Checker {
  private readonly socket = createSocket('udp4');
  private readonly pending = new Map<number, { sentAt: number; expect: Expectation; timer: NodeJS.Timeout; name: string }>();
  private nextId = 1;

  constructor(private readonly port: number) {
    this.socket.on('message', (reply) => this.judge(reply));
  }

  async open(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
  }

  close(): void {
    for (const { timer } of this.pending.values()) clearTimeout(timer);
    this.socket.close();
  }

  ask(name: string, expect: Expectation): void {
    let id = this.nextId;
    while (this.pending.has(id)) id = (id % 0xffff) + 1;
    this.nextId = (id % 0xffff) + 1;
    const timer = setTimeout(() => {
      this.pending.delete(id);
      interval().lost++;
    }, CHECK_TIMEOUT_MS);
    this.pending.set(id, { sentAt: performance.now(), expect, timer, name });
    this.socket.send(buildQuery(name, 1, { id }), this.port, '127.0.0.1');
  }

  private judge(reply: Buffer): void {
    const id = reply.readUInt16BE(0);
    const query = this.pending.get(id);
    if (query === undefined) return;
    this.pending.delete(id);
    clearTimeout(query.timer);
    const now = performance.now();
    const current = interval();
    current.answered++;
    // Latency of seamark's own answers: a forwarded one waits on the upstream (a second while it is away).
    if (query.expect.kind !== 'forward') current.latencies.push(now - query.sentAt);
    const rcode = reply.readUInt16BE(2) & 0xf;
    const addresses = readAddresses(reply);
    const { expect, sentAt, name } = query;
    if (expect.kind === 'address') {
      const changedInFlight = (changeBegan.get(name) ?? -Infinity) >= sentAt;
      if ((rcode !== 0 || !addresses.includes(expect.address)) && !changedInFlight) wrong(`${name} exists (${expect.address}) but got rcode ${rcode} [${addresses.join(', ')}]`);
    } else if (expect.kind === 'removed') {
      const since = sentAt - expect.removedAt;
      if (addresses.length > 0 && since > REMOVAL_DEADLINE_MS) wrong(`${name} still answered ${Math.round(since)} ms after it was removed`);
      if (addresses.length > 0) latestAnswerAfterRemovalMs = Math.max(latestAnswerAfterRemovalMs, since);
    } else if (rcode === 2) {
      const why = outages.judgeServfail(sentAt, now);
      if (why === undefined) forwarded.servfailInOutage++;
      else wrong(`${name}: ${why}`);
    } else if (rcode !== 0 || addresses.join() !== UPSTREAM_ADDRESS) {
      wrong(`${name} (forwarded) got rcode ${rcode} [${addresses.join(', ')}], expected ${UPSTREAM_ADDRESS} or SERVFAIL`);
    } else {
      forwarded.address++;
    }
  }
}

/** The A records of the answer section (names compressed or not). */
function readAddresses(message: Buffer): string[] {
  const skipName = (offset: number): number => {
    while (offset < message.length) {
      const length = message[offset] as number;
      if (length === 0) return offset + 1;
      if (length >= 0xc0) return offset + 2;
      offset += length + 1;
    }
    return offset;
  };
  let offset = skipName(12) + 4;
  const addresses: string[] = [];
  for (let i = 0; i < message.readUInt16BE(6) && offset < message.length; i++) {
    offset = skipName(offset);
    const type = message.readUInt16BE(offset);
    const length = message.readUInt16BE(offset + 8);
    if (type === 1 && length === 4) addresses.push([...message.subarray(offset + 10, offset + 14)].join('.'));
    offset += 10 + length;
  }
  return addresses;
}

/** When each name last began to change: a query in flight then may be answered with the state before or after. */
const changeBegan = new Map<string, number>();

function stopChecking(live: Map<string, LiveName>, key: string, name: string): void {
  live.delete(key);
  changeBegan.set(name, performance.now());
}

/** Names being watched after their removal, until they have answered NXDOMAIN for a while. */
const removals: { name: string; removedAt: number }[] = [];

function watchRemoval(name: string, removedAt: number): void {
  removals.push({ name, removedAt });
}

// --- The parts that change the picture -----------------------------------------------------------

interface LiveName {
  name: string;
  address: string;
}

async function api(seamark: RunningSeamark, method: string, path: string, body?: unknown): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${seamark.httpPort}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Hand-made records: written, rewritten with a new address, renewed and deleted. */
async function churnRecords(seamark: RunningSeamark, live: Map<string, LiveName>, deadline: number): Promise<void> {
  let serial = 0;
  while (performance.now() < deadline && !stopping) {
    // The map is shared with the container churn: only records this loop wrote are its to change.
    const ids = [...live.keys()].filter((id) => id.startsWith('churn-'));
    const roll = Math.random();
    try {
      // Between 8 and 40 live records: creation and deletion balance out, so the work stays steady.
      if (ids.length < 8 || (roll < 0.3 && ids.length < 40)) {
        const id = `churn-${++serial}`;
        const record = { name: `${id}.docker`, address: `10.78.${(serial >> 8) & 255}.${serial & 255}` };
        const status = await api(seamark, 'PUT', `/v1/records/${id}`, { names: [id], addresses: [record.address], lease: 600 });
        if (status !== 201) failures.push(`PUT /v1/records/${id} answered ${status}`);
        else live.set(id, record);
        counts.recordsWritten++;
      } else if (roll < 0.5) {
        const id = ids[Math.floor(Math.random() * ids.length)] as string;
        const record = live.get(id) as LiveName;
        // In flux while the write is in flight: not checked until acknowledged.
        stopChecking(live, id, record.name);
        const address = `10.79.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 256)}`;
        const status = await api(seamark, 'PUT', `/v1/records/${id}`, { names: [id], addresses: [address], lease: 600 });
        if (status !== 200) failures.push(`PUT /v1/records/${id} (replace) answered ${status}`);
        live.set(id, { name: record.name, address });
        counts.recordsWritten++;
      } else if (roll < 0.75) {
        const id = ids[Math.floor(Math.random() * ids.length)] as string;
        const status = await api(seamark, 'POST', `/v1/records/${id}/renew`);
        if (status !== 200) failures.push(`POST /v1/records/${id}/renew answered ${status}`);
        counts.recordsRenewed++;
      } else {
        const id = ids[Math.floor(Math.random() * ids.length)] as string;
        const record = live.get(id) as LiveName;
        stopChecking(live, id, record.name);
        const status = await api(seamark, 'DELETE', `/v1/records/${id}`);
        if (status !== 204) failures.push(`DELETE /v1/records/${id} answered ${status}`);
        watchRemoval(record.name, performance.now());
        counts.recordsDeleted++;
      }
    } catch (error) {
      failures.push(`HTTP API: ${(error as Error).message}`);
    }
    await sleep(200);
  }
}

/** Containers started, seen, then stopped or removed; at most four at a time. */
async function churnContainers(prefix: string, live: Map<string, LiveName>, deadline: number): Promise<void> {
  let serial = 0;
  const running: { id: string; name: string }[] = [];
  while (performance.now() < deadline && !stopping) {
    try {
      if (running.length < 4) {
        const container = `${prefix}c${++serial}`;
        const id = await runContainer(container);
        counts.containersStarted++;
        // Stopping meanwhile: removed here, before the cleanup's sweep (which waits for this loop).
        if (stopping) return void (await docker('rm', '-f', id).catch(() => ''));
        const address = await docker('inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', id);
        const name = `${container}.docker`;
        const ipv4 = address.split(' ').find((a) => a.includes('.'));
        if (ipv4 === undefined) {
          failures.push(`container ${container} has no IPv4 address`);
        } else if (await appears(name, 10_000)) {
          live.set(`container:${id}`, { name, address: ipv4 });
          running.push({ id, name });
        } else {
          wrong(`container ${container} (${ipv4}) was not answered within 10 s of starting`);
        }
      } else {
        const [oldest] = running.splice(0, 1);
        if (oldest !== undefined) {
          stopChecking(live, `container:${oldest.id}`, oldest.name);
          // Half are stopped first (a stopped container leaves the answers too), half removed running.
          if (serial % 2 === 0) await docker('stop', '-t', '0', oldest.id);
          else await docker('rm', '-f', oldest.id);
          watchRemoval(oldest.name, performance.now());
          if (serial % 2 === 0) await docker('rm', '-f', oldest.id);
          counts.containersRemoved++;
        }
      }
    } catch (error) {
      failures.push(`docker: ${(error as Error).message.split('\n')[0]}`);
    }
    await sleep(1000);
  }
}

/** Polls until `name` answers with an address (the Docker event reaches seamark a little after `docker run`). */
async function appears(name: string, withinMs: number): Promise<boolean> {
  const until = performance.now() + withinMs;
  while (performance.now() < until) {
    const found = await probe(name);
    if (found) return true;
    await sleep(100);
  }
  return false;
}

let probePort = 0;
/** One query outside the checker's books: does `name` have an A record now? */
function probe(name: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => (socket.close(), resolve(false)), 1000);
    socket.on('message', (reply) => {
      clearTimeout(timer);
      socket.close();
      resolve(readAddresses(reply).length > 0);
    });
    socket.send(buildQuery(name, 1), probePort, '127.0.0.1');
  });
}

/** The upstream goes away for a while and comes back on the same port. */
async function flapUpstream(upstream: { current: RunningDnsmasq }, deadline: number): Promise<void> {
  const period = Math.min(60_000, DURATION_MS / 3);
  while (performance.now() + period < deadline && !stopping) {
    await sleep(period / 2);
    if (stopping) return;
    const outage = outages.begin(performance.now());
    await upstream.current.stop();
    counts.upstreamOutages++;
    await sleep(Math.min(10_000, period / 4));
    upstream.current = await startDnsmasq({ [UPSTREAM_NAME]: UPSTREAM_ADDRESS }, [], upstream.current.port);
    // Stopped meanwhile (Ctrl-C): the cleanup has already stopped the old one.
    if (stopping) return upstream.current.stop();
    outages.end(outage, performance.now());
    await sleep(period / 4);
  }
}

/** Kills one DNS worker now and then; the primary must start another. */
async function killWorkers(seamark: RunningSeamark, deadline: number): Promise<void> {
  const period = Math.min(30_000, DURATION_MS / 3);
  while (performance.now() + period / 2 < deadline && !stopping) {
    await sleep(period / 2 + Math.random() * (period / 2));
    if (stopping) return;
    const workers = childPids(seamark.pid);
    const victim = workers[Math.floor(Math.random() * workers.length)];
    if (victim === undefined) {
      failures.push('no DNS worker to kill: the primary has none');
      continue;
    }
    process.kill(victim, 'SIGKILL');
    counts.workersKilled++;
    const until = performance.now() + 10_000;
    while (childPids(seamark.pid).filter((pid) => pid !== victim).length < 2 && performance.now() < until) await sleep(200);
    if (childPids(seamark.pid).filter((pid) => pid !== victim).length < 2) failures.push(`DNS worker ${victim} killed: no replacement within 10 s`);
  }
}

function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function rssMb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

// --- The run ------------------------------------------------------------------------------------

function startDnsperf(port: number, names: string[], seconds: number): { child: ChildProcess; output: Promise<string> } {
  const dir = mkdtempSync(join(tmpdir(), 'seamark-soak-'));
  const file = join(dir, 'queries');
  writeFileSync(file, `${names.map((name) => `${name} A`).join('\n')}\n`);
  const child = spawn('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(seconds), '-Q', String(DNSPERF_QPS), '-c', '4', '-t', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const output = new Promise<string>((resolve) =>
    child.once('exit', () => {
      rmSync(dir, { recursive: true, force: true });
      resolve(text);
    }),
  );
  return { child, output };
}

/** seamark_forward_upstream_errors_total summed over upstreams, from /metrics. */
async function upstreamFailures(seamark: RunningSeamark): Promise<string> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${seamark.httpPort}/metrics`)).text();
    const values = [...text.matchAll(/^seamark_forward_upstream_errors_total\{[^}]*\} (\d+)/gm)].map((match) => Number(match[1]));
    return String(values.reduce((sum, value) => sum + value, 0));
  } catch (error) {
    return `unknown (${(error as Error).message})`;
  }
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function median(values: number[]): number {
  return percentile(values, 50);
}

/** Containers are named `smt-soak-<pid>-c<n>`: a later run can tell those of a soak that is no longer running. */
const CONTAINER_PREFIX = 'smt-soak-';

/** Removes the soak containers (created, running or stopped) whose names `doomed` picks; returns their names. */
async function removeContainers(doomed: (name: string) => boolean): Promise<string[]> {
  const listed = await docker('ps', '-a', '--filter', `name=^/${CONTAINER_PREFIX}`, '--format', '{{.ID}} {{.Names}}');
  const chosen = listed
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ') as [string, string])
    .filter(([, name]) => doomed(name));
  for (let i = 0; i < chosen.length; i += 50) await docker('rm', '-f', '-v', ...chosen.slice(i, i + 50).map(([id]) => id));
  return chosen.map(([, name]) => name);
}

/** Whether the containers named after `pid` may still be in use: that process is a soak. */
function soakRunning(pid: number): boolean {
  try {
    return pid === process.pid || readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('soak');
  } catch {
    return false;
  }
}

/** What the run has started, undone last first by `cleanup`; each step runs even when one before it fails. */
const cleanupSteps: { what: string; step: () => unknown }[] = [];
let cleaned: Promise<void> | undefined;

function cleanup(): Promise<void> {
  return (cleaned ??= (async () => {
    stopping = true;
    for (const { what, step } of cleanupSteps.reverse()) {
      try {
        await step();
      } catch (error) {
        console.error(`soak: cleanup: ${what}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
  })());
}

async function main(): Promise<number> {
  // `docker version` and the image, not `docker info`: info can stall for minutes on a busy engine.
  try {
    await docker('version', '--format', '{{.Server.Version}}');
    await docker('image', 'inspect', '--format', '{{.Id}}', IMAGE);
  } catch (error) {
    console.error(`soak: needs a Docker engine and ${IMAGE} (test/docker/build-image.sh): ${(error as Error).message.split('\n')[0]}`);
    return 1;
  }
  // A soak killed outright (SIGKILL, a stalled engine that created a container after the soak's last look) leaves containers.
  const leftOver = await removeContainers((name) => {
    const pid = /^smt-soak-(\d+)-/.exec(name)?.[1];
    return pid === undefined || !soakRunning(Number(pid));
  });
  if (leftOver.length > 0) console.log(`soak: removed ${leftOver.length} containers left by earlier soaks: ${leftOver.join(' ')}`);
  const prefix = `${CONTAINER_PREFIX}${process.pid}-`;
  let containerChurn = Promise.resolve();
  cleanupSteps.push({
    what: 'containers',
    async step() {
      // A `docker run` in flight ends first: the churn removes what it started once stopping, the sweep the rest.
      await Promise.race([containerChurn, sleep(30_000)]);
      await removeContainers((name) => name.startsWith(prefix));
    },
  });
  const upstream = { current: await startDnsmasq({ [UPSTREAM_NAME]: UPSTREAM_ADDRESS }) };
  cleanupSteps.push({ what: 'upstream', step: () => upstream.current.stop() });
  const seamark = await startSeamark({
    config: { upstreams: [`127.0.0.1:${upstream.current.port}`], forwardTimeout: FORWARD_TIMEOUT_MS / 1000, forwardFailureTtl: FAILURE_TTL_MS / 1000, logLevel: 'info', dockerReconcile: 30 },
    args: ['--workers', '2'],
  });
  cleanupSteps.push({ what: 'seamark', step: async () => (await seamark.stop(), rmSync(dirname(seamark.dataDir), { recursive: true, force: true })) });
  probePort = seamark.dnsPort;
  const checker = new Checker(seamark.dnsPort);
  await checker.open();
  cleanupSteps.push({ what: 'checker', step: () => checker.close() });
  const live = new Map<string, LiveName>();
  const stable: LiveName[] = [];
  for (let i = 1; i <= STABLE; i++) {
    const record = { name: `stable-${i}.docker`, address: `10.77.0.${i}` };
    const status = await api(seamark, 'PUT', `/v1/records/stable-${i}`, { names: [`stable-${i}`], addresses: [record.address] });
    if (status !== 201) throw new Error(`PUT /v1/records/stable-${i} answered ${status}`);
    stable.push(record);
  }

  console.log(`soak: ${MINUTES} min; seamark --workers 2 (pid ${seamark.pid}); dnsperf at ${DNSPERF_QPS} qps; Docker containers, hand-made records, upstream dnsmasq on 127.0.0.1:${upstream.current.port}`);
  const deadline = startedAt + DURATION_MS;
  const dnsperf = startDnsperf(seamark.dnsPort, [...stable.map((r) => r.name), UPSTREAM_NAME, 'nothing-here.docker'], Math.round(DURATION_MS / 1000));
  cleanupSteps.push({ what: 'dnsperf', step: () => dnsperf.child.kill() });
  containerChurn = churnContainers(prefix, live, deadline);
  const background = Promise.all([
    churnRecords(seamark, live, deadline),
    containerChurn,
    flapUpstream(upstream, deadline),
    killWorkers(seamark, deadline),
  ]);

  // The checker: every 100 ms a stable name, every live name, the forwarded name and every fresh removal.
  let tick = 0;
  while (performance.now() < deadline && !stopping) {
    const now = performance.now();
    const record = stable[tick % STABLE] as LiveName;
    checker.ask(record.name, { kind: 'address', name: record.name, address: record.address });
    if (tick % 3 === 0) for (const { name, address } of live.values()) checker.ask(name, { kind: 'address', name, address });
    checker.ask(UPSTREAM_NAME, { kind: 'forward' });
    for (let i = removals.length - 1; i >= 0; i--) {
      const removal = removals[i] as { name: string; removedAt: number };
      if (now - removal.removedAt > 3000) removals.splice(i, 1);
      else checker.ask(removal.name, { kind: 'removed', name: removal.name, removedAt: removal.removedAt });
    }
    if (tick % 50 === 0) {
      const current = interval();
      current.primaryRss = rssMb(seamark.pid);
      current.workersRss = childPids(seamark.pid).reduce((sum, pid) => sum + rssMb(pid), 0);
    }
    tick++;
    await sleep(100);
  }
  // Interrupted by a signal: its cleanup is under way and exits.
  if (stopping) return 1;
  stopping = true;
  await sleep(CHECK_TIMEOUT_MS);
  await background;
  const perf = await dnsperf.output;

  // --- The report ---
  const unit = INTERVAL_MS === 60_000 ? 'minute' : `${INTERVAL_MS / 1000} s`;
  console.log(`\n| ${unit} | checked | answered | lost | wrong | p99 ms (zone names) | primary RSS MB | workers RSS MB |`);
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  intervals.forEach((row, i) => {
    const checked = row.answered + row.lost;
    console.log(`| ${i + 1} | ${checked} | ${row.answered} | ${row.lost} | ${row.wrong} | ${percentile(row.latencies, 99).toFixed(2)} | ${row.primaryRss.toFixed(0)} | ${row.workersRss.toFixed(0)} |`);
  });
  const sent = /Queries sent:\s+(\d+)/.exec(perf)?.[1];
  const completed = /Queries completed:\s+(\d+)/.exec(perf)?.[1];
  const lost = /Queries lost:\s+(\d+)/.exec(perf)?.[1];
  const latency = /Average Latency \(s\):\s+([\d.]+)/.exec(perf)?.[1];
  console.log(`\ndnsperf: ${sent ?? '?'} sent, ${completed ?? '?'} answered, ${lost ?? '?'} lost, mean latency ${latency === undefined ? '?' : (Number(latency) * 1000).toFixed(2)} ms`);
  const totalWrong = intervals.reduce((sum, row) => sum + row.wrong, 0);
  console.log(`checker: ${intervals.reduce((s, r) => s + r.answered, 0)} answered, ${intervals.reduce((s, r) => s + r.lost, 0)} lost, ${totalWrong} wrong`);
  console.log(
    `events: ${counts.containersStarted} containers started, ${counts.containersRemoved} stopped/removed; ${counts.recordsWritten} record writes, ` +
      `${counts.recordsRenewed} renewals, ${counts.recordsDeleted} deletes; ${counts.upstreamOutages} upstream outages; ${counts.workersKilled} DNS workers killed`,
  );

  console.log(
    `forwarded name: ${forwarded.address} answered with the upstream's address, ${forwarded.servfailInOutage} SERVFAIL while an upstream outage was under way; ` +
      `seamark's upstream failures (workers alive at the end): ${await upstreamFailures(seamark)}`,
  );
  console.log(`removed names: the latest answer after a removal left ${Math.round(latestAnswerAfterRemovalMs)} ms after it (deadline ${REMOVAL_DEADLINE_MS} ms)`);

  // Memory that keeps growing: the later half of the run (after warm-up) against its first half.
  const afterWarmup = intervals.slice(Math.max(1, Math.floor(intervals.length / 4)));
  const half = Math.floor(afterWarmup.length / 2);
  const early = median(afterWarmup.slice(0, Math.max(1, half)).map((r) => r.primaryRss));
  const late = median(afterWarmup.slice(half).map((r) => r.primaryRss));
  const growth = late - early;
  console.log(`primary memory after warm-up: ${early.toFixed(0)} MB → ${late.toFixed(0)} MB`);
  if (growth > Math.max(24, early * 0.2)) failures.push(`primary resident memory keeps growing: ${early.toFixed(0)} MB → ${late.toFixed(0)} MB`);

  for (const line of wrongAnswers) console.log(`WRONG ${line}`);
  for (const line of failures) console.log(`FAIL ${line}`);
  const ok = totalWrong === 0 && failures.length === 0 && counts.containersStarted > 0;
  console.log(ok ? '\nsoak: passed' : '\nsoak: FAILED');
  return ok ? 0 : 1;
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  process.once(signal, () => {
    console.error(`soak: ${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(code));
  });
}
main().then(
  (code) => cleanup().finally(() => process.exit(code)),
  (error: unknown) => {
    console.error(error);
    return cleanup().finally(() => process.exit(1));
  },
);
