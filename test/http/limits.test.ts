// Connection limits and timeouts on a real seamark: idle and trickling clients
// are cut off, a flood of idle sockets cannot use up the file descriptors that
// writes and DNS need, a store that runs out of them answers 503 without
// revealing a path, event streams are capped so that they never lock out
// /healthz or writes, and DNS answers through a flood of requests.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { Agent, request, type ClientRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { dig } from '../helpers/dig.js';
import { buildQuery, sendRaw } from '../helpers/raw.js';
import { type RunningSeamark, withSeamark } from '../helpers/seamark.js';
import { waitUntil } from './client.js';

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => (socket.closed ? resolve() : socket.once('close', () => resolve())));
}

function openFiles(seamark: RunningSeamark): number {
  return readdirSync(`/proc/${seamark.pid}/fd`).length;
}

/** Lets the process open only a few more files than it has open now; returns the new limit. */
function tightenFileLimit(seamark: RunningSeamark, headroom: number): number {
  const limit = openFiles(seamark) + headroom;
  execFileSync('prlimit', ['--pid', String(seamark.pid), `--nofile=${limit}:${limit}`]);
  return limit;
}

/** A JSON request over one kept-alive connection, so it needs no new file descriptor on the server. */
function put(agent: Agent, port: number, path: string, body: unknown): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port, path, method: 'PUT', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text }));
    });
    req.once('error', reject);
    req.end(payload);
  });
}

async function floodIdle(port: number, count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i++) {
    try {
      const socket = await openSocket(port);
      socket.on('error', () => undefined);
      sockets.push(socket);
    } catch {
      // Refused or reset: the server is protecting itself, which is fine.
    }
  }
  return sockets;
}

/** What a test opens against seamark: a kept-alive connection, idle sockets of a flood, event streams held open. */
interface Opened {
  agent: Agent;
  sockets: Socket[];
  held: ClientRequest[];
}

/** Runs `test` on a seamark of its own (`config` beside docker: off); what it opened is closed after it, whatever it did. */
async function withLimitedSeamark(config: Record<string, unknown>, test: (seamark: RunningSeamark, opened: Opened) => Promise<void>): Promise<void> {
  await withSeamark({ config: { docker: 'off', ...config } }, async (seamark) => {
    const opened: Opened = { agent: new Agent({ keepAlive: true, maxSockets: 1 }), sockets: [], held: [] };
    try {
      await test(seamark, opened);
    } finally {
      for (const socket of opened.sockets) socket.destroy();
      for (const req of opened.held) req.destroy();
      opened.agent.destroy();
    }
  });
}

describe('HTTP limits', () => {
  it('closes an idle connection and one whose body trickles in, after httpTimeout', async () => {
    await withSeamark({ config: { docker: 'off', httpTimeout: 1 } }, async (seamark) => {
      const idle = await openSocket(seamark.httpPort);
      idle.on('error', () => undefined);
      const trickle = await openSocket(seamark.httpPort);
      trickle.on('error', () => undefined);
      trickle.write('PUT /v1/records/slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{');
      const dripper = setInterval(() => trickle.writable && trickle.write(' '), 300);
      let idleClosed = false;
      let trickleClosed = false;
      void closed(idle).then(() => (idleClosed = true));
      void closed(trickle).then(() => (trickleClosed = true));
      try {
        await waitUntil(() => idleClosed, 20000, 'the idle connection to be closed');
        await waitUntil(() => trickleClosed, 20000, 'the trickling connection to be closed');
      } finally {
        clearInterval(dripper);
        idle.destroy();
        trickle.destroy();
      }
    });
  });

  it('keeps serving writes and DNS over TCP while idle sockets flood in beyond httpMaxConnections', async () => {
    await withLimitedSeamark({ httpMaxConnections: 20 }, async (seamark, { agent, sockets }) => {
      assert.equal((await put(agent, seamark.httpPort, '/v1/records/before', { names: ['before'], addresses: ['10.93.0.1'] })).status, 201);
      tightenFileLimit(seamark, 60);
      sockets.push(...(await floodIdle(seamark.httpPort, 150)));
      const reply = await put(agent, seamark.httpPort, '/v1/records/during', { names: ['during'], addresses: ['10.93.0.2'] });
      assert.equal(reply.status, 201, reply.text);
      const answer = await dig(seamark.dnsPort, 'during.docker', 'A', '+tcp');
      assert.deepEqual(answer.answer.map((r) => r.data), ['10.93.0.2']);
    });
  });

  it('answers 503 without a path when the store runs out of file descriptors, and writes again once they are back', async () => {
    await withLimitedSeamark({ httpMaxConnections: 100000 }, async (seamark, { agent, sockets }) => {
      assert.equal((await put(agent, seamark.httpPort, '/v1/records/first', { names: ['first'], addresses: ['10.94.0.1'] })).status, 201);
      const limit = tightenFileLimit(seamark, 30);
      sockets.push(...(await floodIdle(seamark.httpPort, 60)));
      // The server accepts the flood at its own pace: the write must come once every descriptor is taken.
      await waitUntil(() => openFiles(seamark) >= limit, 20000, 'the idle sockets to take every file descriptor');
      const refused = await put(agent, seamark.httpPort, '/v1/records/starved', { names: ['starved'], addresses: ['10.94.0.2'] });
      assert.equal(refused.status, 503, refused.text);
      assert.ok(!refused.text.includes(seamark.dataDir), refused.text);
      assert.ok(!refused.text.includes('/'), `no path in ${refused.text}`);
      assert.match(refused.text, /EMFILE/);
      assert.equal(refused.headers['retry-after'], '5');
      for (const socket of sockets.splice(0)) socket.destroy();
      await waitUntil(async () => (await put(agent, seamark.httpPort, '/v1/records/starved', { names: ['starved'], addresses: ['10.94.0.2'] })).status === 201, 20000, 'writes to work again');
    });
  });

  it('holds 600 /v1/events streams to their caps, with 503 or 429 and Retry-After, while /healthz, /readyz and a PUT succeed', { timeout: 120_000 }, async () => {
    await withLimitedSeamark({}, async (seamark, { held }) => {
      // From 40 loopback addresses, 15 each: within the per-address cap (16), beyond the cap on all streams (64).
      // A hundred at a time: 600 connections at once would pass httpMaxConnections (512), whose excess the server
      // closes unanswered, before the refused streams' connections are gone.
      const statuses: Awaited<ReturnType<typeof openStream>>[] = [];
      for (let batch = 0; batch < 6; batch++) {
        statuses.push(...(await Promise.all(Array.from({ length: 100 }, (_, j) => openStream(seamark.httpPort, `127.0.0.${1 + ((batch * 100 + j) % 40)}`, held)))));
      }
      const count = (status: number) => statuses.filter((s) => s.status === status).length;
      assert.equal(count(200), 64, `streams open: ${count(200)}`);
      assert.equal(count(503), 600 - 64);
      assert.ok(statuses.filter((s) => s.status === 503).every((s) => s.retryAfter === '10'));
      const health = await fetch(`http://127.0.0.1:${seamark.httpPort}/healthz`);
      assert.equal(health.status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${seamark.httpPort}/readyz`)).status, 200);
      const agent = new Agent({ keepAlive: false });
      const written = await put(agent, seamark.httpPort, '/v1/records/during-streams', { names: ['during-streams'], addresses: ['10.95.0.1'] });
      assert.equal(written.status, 201, written.text);
      // And DNS serves it.
      assert.equal((await dig(seamark.dnsPort, 'during-streams.docker', 'A')).answer[0]?.data, '10.95.0.1');
    });
  });

  it('refuses a stream beyond eventsMaxStreamsPerClient with 429 and a message naming the limit, and one beyond eventsMaxStreams with 503', { timeout: 60_000 }, async () => {
    await withLimitedSeamark({ eventsMaxStreams: 5, eventsMaxStreamsPerClient: 3 }, async (seamark, { held }) => {
      for (let i = 0; i < 3; i++) assert.equal((await openStream(seamark.httpPort, '127.0.0.1', held)).status, 200);
      const perClient = await openStream(seamark.httpPort, '127.0.0.1', held);
      assert.equal(perClient.status, 429);
      assert.equal(perClient.retryAfter, '10');
      assert.equal(perClient.body.error, 'Too Many Requests');
      assert.equal(
        perClient.body.message,
        'too many event streams from 127.0.0.1: 3 open, at most 3 per client address (eventsMaxStreamsPerClient); close one (each browser tab of the operator page holds one) or retry after 10 s',
      );
      for (let i = 0; i < 2; i++) assert.equal((await openStream(seamark.httpPort, '127.0.0.2', held)).status, 200);
      const overall = await openStream(seamark.httpPort, '127.0.0.3', held);
      assert.equal(overall.status, 503);
      assert.equal(overall.body.message, 'too many event streams: 5 open, at most 5 (eventsMaxStreams); retry after 10 s');
      // A stream that ends frees its place.
      held.shift()?.destroy();
      await waitUntil(async () => (await openStream(seamark.httpPort, '127.0.0.1', held)).status === 200, 10_000, 'a freed place');
    });
  });

  it('answers every DNS query through a flood of pipelined large-header requests', { timeout: 60_000 }, async () => {
    await withSeamark({ config: { docker: 'off', upstreams: [], hosts: [{ names: ['web'], addresses: ['10.96.0.1'] }] } }, async (seamark) => {
      const flood = startFlood(seamark.httpPort, 20);
      try {
        await waitUntil(() => flood.answered() > 1000, 20_000, 'the flood to be answered');
        let unanswered = 0;
        for (let i = 0; i < 200; i++) {
          const reply = await sendRaw(seamark.dnsPort, buildQuery('web.docker', 1, { id: i }), 1000);
          if (reply?.readUInt16BE(6) !== 1) unanswered++;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        assert.equal(unanswered, 0, 'every query answered within 1 s during the flood');
        assert.ok(flood.answered() > 1000);
      } finally {
        flood.stop();
      }
    });
  });
});

/** Opens GET /v1/events from `localAddress`; a 200 stream is kept open (in `held`), a refusal read whole. */
function openStream(port: number, localAddress: string, held: ClientRequest[]): Promise<{ status: number; retryAfter: string | undefined; body: { error?: string; message?: string } }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/v1/events', localAddress, agent: false }, (response) => {
      const status = response.statusCode ?? 0;
      const retryAfter = response.headers['retry-after'] as string | undefined;
      if (status === 200) {
        held.push(req);
        response.resume();
        return resolve({ status, retryAfter, body: {} });
      }
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status, retryAfter, body: JSON.parse(text) as { error?: string; message?: string } }));
    });
    req.once('error', reject);
    req.end();
  });
}

/** `connections` sockets that keep 32 pipelined GET /healthz requests of about 12 KB of headers in flight. */
function startFlood(port: number, connections: number): { answered: () => number; stop: () => void } {
  const headers = Array.from({ length: 12 }, (_, i) => `x-filler-${i}: ${'f'.repeat(1000)}\r\n`).join('');
  const batch = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`.repeat(16);
  let answered = 0;
  let stopped = false;
  const sockets: Socket[] = [];
  for (let i = 0; i < connections; i++) {
    const socket = connect({ host: '127.0.0.1', port });
    let inFlight = 0;
    const refill = () => {
      while (!stopped && inFlight <= 16) {
        socket.write(batch);
        inFlight += 16;
      }
    };
    socket.on('connect', refill);
    socket.on('data', (chunk: Buffer) => {
      const responses = chunk.toString('latin1').split('HTTP/1.1 ').length - 1;
      answered += responses;
      inFlight -= responses;
      refill();
    });
    socket.on('error', () => undefined);
    sockets.push(socket);
  }
  return {
    answered: () => answered,
    stop: () => {
      stopped = true;
      for (const socket of sockets) socket.destroy();
    },
  };
}
