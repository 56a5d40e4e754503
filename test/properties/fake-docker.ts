// A Docker API on a unix socket that answers with documents the test chose:
// the three calls seamark's Docker source makes (an event stream, the
// container list, one inspect per container). A test double, allowed here
// only because a real engine cannot produce malformed or odd inspect
// documents on demand (missing fields, nulls, wrong types, an Id that is not
// the container's); everything else in these tests is real (dockerode,
// seamark, DNS over sockets).
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class FakeDockerApi {
  readonly path = join(mkdtempSync(join(tmpdir(), 'seamark-fake-docker-')), 'docker.sock');
  /** Inspect documents by container id, as served (any JSON at all). */
  documents = new Map<string, unknown>();
  private server: Server | undefined;
  private readonly eventStreams = new Set<ServerResponse>();

  async open(): Promise<void> {
    this.server = createServer((request, response) => this.answer(request, response));
    await new Promise<void>((resolve) => this.server?.listen(this.path, resolve));
  }

  async close(): Promise<void> {
    for (const stream of this.eventStreams) stream.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Replaces the containers, announcing each change on the event stream as the daemon would (destroy, start). */
  replace(documents: Map<string, unknown>): void {
    const before = this.documents;
    this.documents = documents;
    for (const id of before.keys()) if (!documents.has(id)) this.event(id, 'destroy');
    for (const id of documents.keys()) this.event(id, 'start');
  }

  private event(id: string, action: string): void {
    const line = JSON.stringify({ Type: 'container', Action: action, Actor: { ID: id, Attributes: {} }, time: Math.floor(Date.now() / 1000) }) + '\n';
    for (const stream of this.eventStreams) stream.write(line);
  }

  private answer(request: IncomingMessage, response: ServerResponse): void {
    const path = (request.url ?? '').replace(/^\/v\d+\.\d+/, '').split('?')[0] ?? '';
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (path === '/events') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.flushHeaders();
      this.eventStreams.add(response);
      response.on('close', () => this.eventStreams.delete(response));
      return;
    }
    if (path === '/containers/json') {
      // The list is the daemon's own summary: always well-formed, whatever the inspect documents hold.
      return json(200, [...this.documents.keys()].map((id) => ({ Id: id, Names: [`/${id.slice(0, 12)}`], State: 'running', Status: 'Up 1 second' })));
    }
    const inspect = /^\/containers\/([^/]+)\/json$/.exec(path);
    if (inspect !== null) {
      const id = decodeURIComponent(inspect[1] ?? '');
      return this.documents.has(id) ? json(200, this.documents.get(id)) : json(404, { message: `No such container: ${id}` });
    }
    if (path === '/_ping') return void response.end('OK');
    if (path === '/version') return json(200, { Version: '27.0.0-fake', ApiVersion: '1.46' });
    json(404, { message: `page not found: ${path}` });
  }
}
