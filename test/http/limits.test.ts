// Connection limits and timeouts on a real seamark: idle and trickling clients
// are cut off, a flood of idle sockets cannot use up the file descriptors that
// writes and DNS need, and a store that runs out of them answers 503 without
// revealing a path.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { dig } from '../helpers/dig.js';
import { startSeamark, type RunningSeamark } from '../helpers/seamark.js';
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

describe('HTTP limits', () => {
  it('closes an idle connection and one whose body trickles in, after httpTimeout', async () => {
    const seamark = await startSeamark({ config: { docker: 'off', httpTimeout: 1 } });
    try {
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
    } finally {
      await seamark.stop();
    }
  });

  it('keeps serving writes and DNS over TCP while idle sockets flood in beyond httpMaxConnections', async () => {
    const seamark = await startSeamark({ config: { docker: 'off', httpMaxConnections: 20 } });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let sockets: Socket[] = [];
    try {
      assert.equal((await put(agent, seamark.httpPort, '/v1/records/before', { names: ['before'], addresses: ['10.93.0.1'] })).status, 201);
      tightenFileLimit(seamark, 60);
      sockets = await floodIdle(seamark.httpPort, 150);
      const reply = await put(agent, seamark.httpPort, '/v1/records/during', { names: ['during'], addresses: ['10.93.0.2'] });
      assert.equal(reply.status, 201, reply.text);
      const answer = await dig(seamark.dnsPort, 'during.docker', 'A', '+tcp');
      assert.deepEqual(answer.answer.map((r) => r.data), ['10.93.0.2']);
    } finally {
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await seamark.stop();
    }
  });

  it('answers 503 without a path when the store runs out of file descriptors, and writes again once they are back', async () => {
    const seamark = await startSeamark({ config: { docker: 'off', httpMaxConnections: 100000 } });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let sockets: Socket[] = [];
    try {
      assert.equal((await put(agent, seamark.httpPort, '/v1/records/first', { names: ['first'], addresses: ['10.94.0.1'] })).status, 201);
      const limit = tightenFileLimit(seamark, 30);
      sockets = await floodIdle(seamark.httpPort, 60);
      // The server accepts the flood at its own pace: the write must come once every descriptor is taken.
      await waitUntil(() => openFiles(seamark) >= limit, 20000, 'the idle sockets to take every file descriptor');
      const refused = await put(agent, seamark.httpPort, '/v1/records/starved', { names: ['starved'], addresses: ['10.94.0.2'] });
      assert.equal(refused.status, 503, refused.text);
      assert.ok(!refused.text.includes(seamark.dataDir), refused.text);
      assert.ok(!refused.text.includes('/'), `no path in ${refused.text}`);
      assert.match(refused.text, /EMFILE/);
      assert.equal(refused.headers['retry-after'], '5');
      for (const socket of sockets) socket.destroy();
      sockets = [];
      await waitUntil(async () => (await put(agent, seamark.httpPort, '/v1/records/starved', { names: ['starved'], addresses: ['10.94.0.2'] })).status === 201, 20000, 'writes to work again');
    } finally {
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await seamark.stop();
    }
  });
});
