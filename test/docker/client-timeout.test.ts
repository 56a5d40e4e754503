// DOCKER_CLIENT_TIMEOUT in seamark's environment (read by docker-modem with a
// tcp:// DOCKER_HOST) must not cut the event stream whenever Docker is quiet.
import assert from 'node:assert/strict';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { after, it } from 'node:test';
import { freePort, seamarkForSuite } from '../helpers/seamark.js';
import { addressesOf, containerAddresses, describeWithDocker, runContainer, seamarkResolver, waitUntil } from './engine.js';

describeWithDocker('Docker over tcp:// with DOCKER_CLIENT_TIMEOUT set', 'cto', { timeout: 60000 }, (prefix) => {
  let forwarder: Server;
  const connections = new Set<Socket>();
  const seamark = seamarkForSuite(async () => {
    // The daemon's socket on a loopback TCP port, as a remote DOCKER_HOST would be.
    const port = await freePort();
    forwarder = createServer((client) => {
      const daemon = createConnection('/var/run/docker.sock');
      for (const socket of [client, daemon]) {
        connections.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => connections.delete(socket));
      }
      client.pipe(daemon).pipe(client);
    });
    await new Promise<void>((resolve) => forwarder.listen(port, '127.0.0.1', resolve));
    return {
      config: { zones: ['docker'], docker: '', dockerEventsCheck: 0 },
      env: { DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_CLIENT_TIMEOUT: '500' },
      waitFor: 'Docker containers synced',
    };
  });
  after(() => {
    for (const socket of connections) socket.destroy();
    forwarder?.close();
  });

  it('keeps one event stream through quiet spells far longer than the timeout, and a new container resolves from its event', async () => {
    // Three times DOCKER_CLIENT_TIMEOUT of quiet: a stream cut at the timeout would have ended by then.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const ended = seamark.logs.filter((l) => String(l.msg).startsWith('Docker event stream ended'));
    assert.equal(ended.length, 0, 'the event stream was never cut');
    assert.equal(seamark.logs.filter((l) => l.msg === 'following Docker events').length, 1, 'one subscription');
    await runContainer(`${prefix}web`);
    const expected = await containerAddresses(`${prefix}web`);
    const resolver = seamarkResolver(seamark.dnsPort);
    await waitUntil('the new container to resolve', async () => (await addressesOf(resolver, `${prefix}web.docker`)).join() === expected.join(), 10000, 50);
  });
});
