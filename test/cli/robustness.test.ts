// The CLI against servers that misbehave (a stalling one, an endless one, one
// that is not seamark), on a port fetch refuses, and its usage errors; the
// server's own config errors never echo the token.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { MAIN, startSeamark } from '../helpers/seamark.js';

const run = promisify(execFile);
type Failure = { code: number; stdout: string; stderr: string };
const cli = (args: string[]) => run(process.execPath, [MAIN, 'records', ...args], { env: { PATH: process.env.PATH ?? '' }, maxBuffer: 1024 * 1024 });

async function listening<T extends Server | ReturnType<typeof createTcpServer>>(server: T, port = 0): Promise<number> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

describe('seamark records against misbehaving servers', () => {
  it('gives up on a server that never answers, after --timeout, with exit 1', async () => {
    const sockets: Socket[] = [];
    const server = createTcpServer((socket) => sockets.push(socket));
    const port = await listening(server);
    try {
      await assert.rejects(cli(['list', '--url', `http://127.0.0.1:${port}`, '--timeout', '1']), (error: Failure) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr, /did not answer within 1 s/);
        return true;
      });
    } finally {
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });

  it('stops reading a reply that never ends', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    const server = createHttpServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const pump = () => {
        while (!response.destroyed && response.write(chunk));
        if (!response.destroyed) response.once('drain', pump);
      };
      pump();
    });
    const port = await listening(server);
    try {
      await assert.rejects(cli(['list', '--url', `http://127.0.0.1:${port}`, '--timeout', '60']), (error: Failure) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr, /larger than 64 MiB/);
        return true;
      });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('shows the HTTP status of a reply that is not JSON', async () => {
    const server = createHttpServer((_request, response) => {
      response.writeHead(502, { 'content-type': 'text/html' });
      response.end('<html><body>bad gateway from the proxy</body></html>');
    });
    const port = await listening(server);
    try {
      await assert.rejects(cli(['list', '--url', `http://127.0.0.1:${port}`]), (error: Failure) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr, /502 Bad Gateway/);
        assert.match(error.stderr, /bad gateway from the proxy/);
        return true;
      });
    } finally {
      server.close();
    }
  });

  it('talks to seamark on a port the Fetch standard calls bad (10080)', async () => {
    const seamark = await startSeamark({ config: { docker: 'off', http: '127.0.0.1:10080' } });
    try {
      await cli(['add', '--id', 'on-bad-port', '--name', 'badport', '--address', '10.91.0.1', '--url', 'http://127.0.0.1:10080']);
      const listed = await cli(['list', '--json', '--url', 'http://127.0.0.1:10080']);
      assert.deepEqual((JSON.parse(listed.stdout) as { id: string }[]).map((r) => r.id), ['on-bad-port']);
    } finally {
      await seamark.stop();
    }
  });

  it('prints the usage to stderr, not stdout, and exits 2 when no subcommand is given', async () => {
    await assert.rejects(cli([]), (error: Failure) => {
      assert.equal(error.code, 2);
      assert.equal(error.stdout, '');
      assert.match(error.stderr, /give a subcommand[\s\S]*Usage:/);
      return true;
    });
    const help = await cli(['--help']);
    assert.match(help.stdout, /^Usage:/);
  });

  it("never echoes the token's value in a configuration error", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seamark-token-'));
    const file = join(dir, 'seamark.yaml');
    writeFileSync(file, 'docker: "off"\ntoken: ["supersecret"]\n');
    await assert.rejects(run(process.execPath, [MAIN, '--config', file]), (error: Failure) => {
      assert.notEqual(error.code, 0);
      assert.match(error.stderr + error.stdout, /token/);
      assert.ok(!(error.stderr + error.stdout).includes('supersecret'), error.stderr);
      return true;
    });
  });
});
