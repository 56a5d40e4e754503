// GET /v1/events over real sockets: the snapshot, live changes with their
// generation, resuming with Last-Event-ID, the heartbeat, `curl -N`, a
// client that does not read being dropped while the others go on, and many
// clients of a large registry while DNS keeps answering and memory stays put.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';

import { eventsRoutes, type EventStreamSettings } from '../../src/http/events.js';
import type { Instance } from '../../src/registry/instance.js';
import { Registry } from '../../src/registry/registry.js';
import { buildQuery, sendRaw } from '../helpers/raw.js';
import { seamarkForSuite } from '../helpers/seamark.js';
import { api, waitUntil } from './client.js';

interface SseEvent {
  event: string;
  id: string | undefined;
  data: string;
}

/** Reads an SSE stream with fetch; `events` fills as they arrive, `comments` with the `:` lines. */
function subscribe(url: string, headers: Record<string, string> = {}) {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const controller = new AbortController();
  const done = (async () => {
    const response = await fetch(url, { headers, signal: controller.signal });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const event: SseEvent = { event: 'message', id: undefined, data: '' };
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) comments.push(line);
          else if (line.startsWith('event: ')) event.event = line.slice(7);
          else if (line.startsWith('id: ')) event.id = line.slice(4);
          else if (line.startsWith('data: ')) event.data += line.slice(6);
        }
        if (event.data !== '') events.push(event);
      }
    }
  })().catch((error: unknown) => {
    if ((error as Error).name !== 'AbortError') throw error;
  });
  return { events, comments, close: () => controller.abort(), done };
}

const data = (event: SseEvent | undefined) => JSON.parse(event?.data ?? 'null');

describe('GET /v1/events on a running seamark', () => {
  const seamark = seamarkForSuite({ config: { docker: 'off', hosts: [{ names: ['static'], addresses: ['10.80.0.1'] }] } });
  const url = () => `http://127.0.0.1:${seamark.httpPort}/v1/events`;

  it('opens with a snapshot, then sends each change with its generation', async () => {
    const stream = subscribe(url());
    await waitUntil(() => stream.events.length >= 1, 10000, 'the snapshot');
    const snapshot = data(stream.events[0]);
    assert.equal(stream.events[0]?.event, 'snapshot');
    assert.ok(snapshot.instances.some((instance: Instance) => instance.names.includes('static.docker')));

    await api(seamark.httpPort, 'PUT', '/v1/records/vm1', { names: ['vm1'], addresses: ['10.80.0.5'] });
    await api(seamark.httpPort, 'PATCH', '/v1/records/vm1', { addresses: ['10.80.0.6'] });
    await api(seamark.httpPort, 'DELETE', '/v1/records/vm1');
    await waitUntil(() => stream.events.length >= 4, 10000, 'three changes');
    stream.close();

    const changes = stream.events.slice(1).map(data);
    assert.deepEqual(changes.map((c) => [c.kind, c.owner]), [['added', 'manual:vm1'], ['changed', 'manual:vm1'], ['removed', 'manual:vm1']]);
    // What the operator page reads a row by: the source of every change (a removal too) and a hand-made record's id.
    assert.deepEqual(changes.map((c) => [c.source, c.instance?.record]), [['manual', 'vm1'], ['manual', 'vm1'], ['manual', undefined]]);
    assert.ok(snapshot.instances.every((instance: Instance & { record?: string }) => instance.record === undefined), 'only hand-made instances carry a record id');
    assert.deepEqual(changes[1].instance.addresses, ['10.80.0.6']);
    assert.equal(changes[2].instance, undefined);
    const generations = changes.map((c) => c.generation as number) as [number, number, number];
    assert.ok(generations[0] > snapshot.generation && generations[1] > generations[0] && generations[2] > generations[1], `generations grow: ${snapshot.generation}, ${generations}`);
    assert.deepEqual(stream.events.slice(1).map((e) => e.id?.split('-')[1]), generations.map(String), 'each change carries its generation as id');
  });

  it('resumes after Last-Event-ID with only the changes missed, and sends a snapshot for an id it cannot resume', async () => {
    const first = subscribe(url());
    await waitUntil(() => first.events.length >= 1, 10000, 'the snapshot');
    first.close();
    const lastId = first.events[0]?.id as string;

    await api(seamark.httpPort, 'PUT', '/v1/records/missed', { names: ['missed'], addresses: ['10.80.0.7'] });
    const resumed = subscribe(url(), { 'last-event-id': lastId });
    await waitUntil(() => resumed.events.length >= 1, 10000, 'the missed change');
    await api(seamark.httpPort, 'DELETE', '/v1/records/missed');
    await waitUntil(() => resumed.events.length >= 2, 10000, 'the next change');
    resumed.close();
    assert.deepEqual(resumed.events.map((e) => [e.event, data(e).kind, data(e).owner]), [['instance', 'added', 'manual:missed'], ['instance', 'removed', 'manual:missed']]);

    // Another lifetime's id (generations restart at 0 with seamark) or a made-up one: start again from a snapshot.
    for (const id of ['00000000-1', 'garbage']) {
      const fresh = subscribe(`${url()}?lastEventId=${id}`);
      await waitUntil(() => fresh.events.length >= 1, 10000, 'a snapshot');
      fresh.close();
      assert.equal(fresh.events[0]?.event, 'snapshot');
    }
  });

  it('works with curl -N', async () => {
    const curl = spawn('curl', ['-sN', '--max-time', '3', url()]);
    let output = '';
    curl.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitUntil(() => output.includes('event: snapshot'), 10000, 'curl to print the snapshot');
    await api(seamark.httpPort, 'PUT', '/v1/records/curl', { names: ['curl'], addresses: ['10.80.0.8'] });
    await waitUntil(() => output.includes('"owner":"manual:curl"'), 10000, 'curl to print the change');
    curl.kill();
    assert.match(output, /^retry: 1000\n\nid: [0-9a-f]+-\d+\nevent: snapshot\ndata: \{"generation":\d+,"instances":\[/);
  });
});

describe('GET /v1/events, per client', () => {
  let app: FastifyInstance;
  let registry: Registry;
  let port: number;
  const settings: EventStreamSettings = { historySize: 5, clientBufferBytes: 256 * 1024, heartbeatMs: 200, maxStreams: 100, maxStreamsPerClient: 100 };
  before(async () => {
    registry = new Registry();
    app = Fastify({ logger: false });
    await app.register(eventsRoutes, { prefix: '/v1/events', registry, token: undefined, settings });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
  });
  after(async () => {
    await app.close();
  });
  const host = (n: number, healthy = true): Instance => ({ owner: `manual:h${n}`, source: 'manual', names: [`h${n}.docker`], addresses: [`10.81.${n >> 8}.${n & 255}`], srv: [], healthy });

  it('sends a heartbeat on an idle stream', async () => {
    const stream = subscribe(`http://127.0.0.1:${port}/v1/events`);
    await waitUntil(() => stream.comments.some((c) => c.startsWith(': heartbeat')), 5000, 'a heartbeat');
    stream.close();
  });

  it('tells health changes from other changes, and takes a whole resync apart into instance events', async () => {
    const stream = subscribe(`http://127.0.0.1:${port}/v1/events`);
    await waitUntil(() => stream.events.length >= 1, 5000, 'the snapshot');
    registry.upsert(host(1));
    registry.upsert(host(1, false));
    registry.replaceByPrefix('manual:', [host(2), host(1, false)]);
    await waitUntil(() => stream.events.length >= 4, 5000, 'four events');
    stream.close();
    assert.deepEqual(stream.events.slice(1).map((e) => [data(e).kind, data(e).owner]), [['added', 'manual:h1'], ['health', 'manual:h1'], ['added', 'manual:h2']]);
    registry.replaceByPrefix('manual:', []);
  });

  it('sends a snapshot to a client that missed more changes than are kept', async () => {
    const first = subscribe(`http://127.0.0.1:${port}/v1/events`);
    await waitUntil(() => first.events.length >= 1, 5000, 'the snapshot');
    first.close();
    for (let i = 0; i < settings.historySize + 2; i++) registry.upsert(host(100 + i));
    const resumed = subscribe(`http://127.0.0.1:${port}/v1/events`, { 'last-event-id': first.events[0]?.id as string });
    await waitUntil(() => resumed.events.length >= 1, 5000, 'a snapshot');
    resumed.close();
    assert.equal(resumed.events[0]?.event, 'snapshot');
    assert.equal(data(resumed.events[0]).instances.length, settings.historySize + 2);
  });

  it('drops a client that does not read, and the registry and the other clients go on', async () => {
    const reader = subscribe(`http://127.0.0.1:${port}/v1/events`);
    await waitUntil(() => reader.events.length >= 1, 5000, 'the snapshot');
    // A client that sends the request and then never reads.
    const stalled = connect(port, '127.0.0.1');
    stalled.write('GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n');
    let closed = false;
    stalled.on('close', () => (closed = true));
    stalled.on('error', () => undefined);
    await new Promise((resolve) => stalled.once('data', resolve));
    stalled.pause();

    // Big instances: tens of MB of events, beyond what the socket buffers hold.
    const names = Array.from({ length: 60 }, (_, i) => `name-${i}-${'x'.repeat(40)}.docker`);
    // Changes come in small bursts, well inside a reading client's budget.
    const changes = 6000;
    for (let i = 0; i < changes; i++) {
      registry.upsert({ ...host(1000 + (i % 50)), names, addresses: [`10.82.${i >> 8}.${i & 255}`] });
      if (i % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const last = registry.generation;
    await waitUntil(() => reader.events.some((e) => data(e).generation === last), 30000, 'the reading client to get every change');
    reader.close();
    stalled.resume();
    await waitUntil(() => closed, 10000, 'the stalled client to be disconnected');
  });
});

describe('GET /v1/events, first client after changes nobody listened to', () => {
  it('reports changes to instances that were there before it connected as changed and removed, not added or nothing', async () => {
    const registry = new Registry();
    const app = Fastify({ logger: false });
    await app.register(eventsRoutes, { prefix: '/v1/events', registry, token: undefined, settings: { historySize: 5, clientBufferBytes: 256 * 1024, heartbeatMs: 60000 } });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const port = (app.server.address() as { port: number }).port;
      const vm = (address: string, healthy = true): Instance => ({ owner: 'manual:old', source: 'manual', names: ['old.docker'], addresses: [address], srv: [], healthy });
      // Changes while no client has ever listened: the hub keeps nothing for them.
      registry.upsert(vm('10.82.0.1'));
      registry.upsert(vm('10.82.0.2'));
      registry.upsert({ ...vm('10.82.0.9'), owner: 'manual:gone', names: ['gone.docker'] });
      const stream = subscribe(`http://127.0.0.1:${port}/v1/events`);
      await waitUntil(() => stream.events.length >= 1, 5000, 'the snapshot');
      assert.deepEqual(data(stream.events[0]).instances.map((i: Instance) => i.addresses[0]), ['10.82.0.2', '10.82.0.9']);
      registry.upsert(vm('10.82.0.3'));
      registry.upsert(vm('10.82.0.3', false));
      registry.remove('manual:gone');
      await waitUntil(() => stream.events.length >= 4, 5000, 'three events');
      stream.close();
      assert.deepEqual(stream.events.slice(1).map((e) => [data(e).kind, data(e).owner]), [['changed', 'manual:old'], ['health', 'manual:old'], ['removed', 'manual:gone']]);
    } finally {
      await app.close();
    }
  });
});

/** Resident memory of a process, MB. */
function residentMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}

/** Opens /v1/events and counts the bytes that come; `snapshot` turns true once the snapshot event has come whole. */
function countingStream(port: number) {
  const state = { status: 0, bytes: 0, snapshot: false, request: undefined as ClientRequest | undefined };
  state.request = httpRequest({ host: '127.0.0.1', port, path: '/v1/events', agent: false }, (response) => {
    state.status = response.statusCode ?? 0;
    let tail = '';
    response.on('data', (chunk: Buffer) => {
      state.bytes += chunk.length;
      tail = (tail + chunk.toString('latin1', Math.max(0, chunk.length - 8))).slice(-8);
      if (!state.snapshot && tail.endsWith(']}\n\n')) state.snapshot = true;
    });
  });
  state.request.on('error', () => undefined);
  state.request.end();
  return state;
}

describe('GET /v1/events, many clients on a large registry (3,000 records × 64 names)', () => {
  const RECORDS = 3000;
  // Names of about 50 characters: an 11.6 MB snapshot, as in the report this reproduces.
  const nameOf = (i: number, j: number) => `r${i}-n${j}-${'x'.repeat(38)}`;
  const seamark = seamarkForSuite(() => {
    const hosts = Array.from({ length: RECORDS }, (_, i) => ({ names: Array.from({ length: 64 }, (_, j) => nameOf(i, j)), addresses: [`10.90.${i >> 8}.${i & 255}`] }));
    // The stream limits raised so that every client of these tests gets its stream.
    return { config: { docker: 'off', upstreams: [], logLevel: 'info', eventsMaxStreams: 250, eventsMaxStreamsPerClient: 250, httpMaxConnections: 600, hosts } };
  });

  it('answers every DNS query and /healthz while 150 clients open a stream each, and memory stays far below a snapshot per client', { timeout: 240_000 }, async () => {
    const rssBefore = residentMb(seamark.pid);
    const streams = Array.from({ length: 150 }, () => countingStream(seamark.httpPort));
    let unanswered = 0;
    let peak = rssBefore;
    for (let i = 0; i < 300; i++) {
      const reply = await sendRaw(seamark.dnsPort, buildQuery(`${nameOf((i * 7) % RECORDS, i % 64)}.docker`, 1, { id: i }), 2000);
      if (reply?.readUInt16BE(6) !== 1) unanswered++;
      if (i % 20 === 0) peak = Math.max(peak, residentMb(seamark.pid));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const health = await fetch(`http://127.0.0.1:${seamark.httpPort}/healthz`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(health.status, 200);
    await waitUntil(
      () => {
        peak = Math.max(peak, residentMb(seamark.pid));
        return streams.every((stream) => stream.snapshot);
      },
      180_000,
      'every client to get its whole snapshot',
    );
    for (const stream of streams) stream.request?.destroy();
    assert.equal(unanswered, 0, 'every DNS query answered (within 2 s each) while the clients connected');
    assert.ok(streams.every((stream) => stream.status === 200));
    const snapshotMb = (streams[0]?.bytes ?? 0) / 1024 / 1024;
    console.log(`snapshot ${snapshotMb.toFixed(1)} MB; resident ${rssBefore.toFixed(0)} MB before, ${peak.toFixed(0)} MB at most with 150 clients`);
    // One copy per client would be 150 × the snapshot (about 1.7 GB here).
    assert.ok(peak - rssBefore < 20 * snapshotMb, `resident grew ${(peak - rssBefore).toFixed(0)} MB for a ${snapshotMb.toFixed(1)} MB snapshot`);
  });

  it('clients that never read hold no copy of the snapshot each; a reading client still gets every change', { timeout: 120_000 }, async () => {
    const reader = subscribe(`http://127.0.0.1:${seamark.httpPort}/v1/events`);
    await waitUntil(() => reader.events.length >= 1, 60_000, 'the reader\'s snapshot');
    const rssBefore = residentMb(seamark.pid);
    const stalled = Array.from({ length: 60 }, () => {
      const socket = connect(seamark.httpPort, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write('GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n');
      socket.pause();
      return socket;
    });
    try {
      // Changes while they stall: queued for them as shared bytes, not copied.
      for (let i = 0; i < 20; i++) {
        const reply = await api(seamark.httpPort, 'PUT', `/v1/records/stall-${i}`, { names: Array.from({ length: 32 }, (_, j) => `stall-${i}-${j}`), addresses: ['10.91.0.1'] });
        assert.equal(reply.status, 201, reply.text);
      }
      await waitUntil(() => reader.events.filter((e) => e.event === 'instance').length >= 20, 30_000, 'the reader to get the 20 changes');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const grown = residentMb(seamark.pid) - rssBefore;
      const snapshotMb = (reader.events[0]?.data.length ?? 0) / 1024 / 1024;
      console.log(`60 stalled clients of a ${snapshotMb.toFixed(1)} MB snapshot: resident grew ${grown.toFixed(0)} MB`);
      assert.ok(grown < 10 * snapshotMb, `resident grew ${grown.toFixed(0)} MB with 60 stalled clients (one copy each: ${(60 * snapshotMb).toFixed(0)} MB)`);
    } finally {
      reader.close();
      for (const socket of stalled) socket.destroy();
    }
  });
});
