// GET /v1/events: the registry's changes as Server-Sent Events, for the
// operator page and `curl -N`. A client first gets a snapshot (or, when it
// resumes with Last-Event-ID, the changes it missed), then one event per
// instance added, changed, removed or turned healthy/unhealthy.
// Writing never waits for a client: events are queued per client and a
// client whose queue passes its budget is dropped, so a slow reader costs
// memory up to that budget and nothing else.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { Logger } from 'pino';
import type { Instance } from '../registry/instance.js';
import type { Registry, RegistryChange } from '../registry/registry.js';
import { requireToken } from './auth.js';

export type ChangeKind = 'added' | 'changed' | 'health' | 'removed';

/** One instance's change, as sent in an `instance` event. */
export interface InstanceEvent {
  generation: number;
  kind: ChangeKind;
  owner: string;
  /** The instance as it is now; absent when removed. */
  instance?: Instance;
}

export interface EventStreamSettings {
  /** Changes kept for clients that reconnect; older ones get a fresh snapshot. */
  historySize: number;
  /** Unsent bytes a client may have queued (beyond its snapshot) before it is dropped. */
  clientBufferBytes: number;
  /** Milliseconds between heartbeat comments on an idle stream. */
  heartbeatMs: number;
}

export const DEFAULT_EVENT_STREAM_SETTINGS: EventStreamSettings = { historySize: 10000, clientBufferBytes: 4 * 1024 * 1024, heartbeatMs: 15000 };

/** The history also stays under this many characters: one resync of many instances can be megabytes. */
const HISTORY_MAX_CHARS = 16 * 1024 * 1024;

/** How long after the last client left changes are still recorded for it to resume. */
const RESUME_WINDOW_MS = 5 * 60 * 1000;

interface Client {
  response: ServerResponse;
  /** Queued bytes allowed before the client is dropped (its snapshot's size is added until it drains). */
  budget: number;
}

/** The SSE text of one change; each carries `id:` so a reconnect resumes after it. */
interface SentChange {
  generation: number;
  text: string;
}

/**
 * Turns registry mutations into per-instance events, keeps a bounded history
 * for resuming clients and fans events out to connected clients once per tick.
 */
export class EventHub {
  /** Tells a resumed id from another process lifetime's: generations restart at 0. */
  readonly epoch = randomBytes(4).toString('hex');
  /** The registry's instances as of the last recorded change, to tell added from changed: kept only while changes are recorded. */
  private readonly instancesByOwner = new Map<string, Instance>();
  private mirrored = false;
  private readonly history: SentChange[] = [];
  private historyBytes = 0;
  /** Changes are recorded while a client is connected and for a while after the last one left, so it can resume. */
  private keepHistoryUntil = 0;
  private readonly clients = new Set<Client>();
  private pending = '';
  private flushScheduled = false;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly registry: Registry,
    private readonly settings: EventStreamSettings,
    private readonly log: Logger,
  ) {
    this.unsubscribe = registry.onMutation((change, generation) => this.record(change, generation));
    this.heartbeat = setInterval(() => this.broadcast(`: heartbeat ${new Date().toISOString()}\n\n`), settings.heartbeatMs);
    this.heartbeat.unref();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  close(): void {
    this.unsubscribe();
    clearInterval(this.heartbeat);
    for (const client of this.clients) client.response.end();
    this.clients.clear();
  }

  /** Starts a stream: the missed changes after `lastEventId` when they are all still kept, else a snapshot. */
  attach(response: ServerResponse, lastEventId: string | undefined): void {
    if (!this.mirrored) {
      for (const instance of this.registry.all()) this.instancesByOwner.set(instance.owner, instance);
      this.mirrored = true;
    }
    const missed = this.changesSince(lastEventId);
    const opening = missed ?? this.snapshotText();
    const client: Client = { response, budget: this.settings.clientBufferBytes + Buffer.byteLength(opening) };
    this.clients.add(client);
    response.on('close', () => {
      this.clients.delete(client);
      this.keepHistoryUntil = Date.now() + RESUME_WINDOW_MS;
    });
    response.on('drain', () => {
      client.budget = this.settings.clientBufferBytes;
    });
    // A retry hint for EventSource, then what the client needs to be current.
    this.send(client, `retry: 1000\n\n${opening}`);
  }

  private snapshotText(): string {
    const generation = this.registry.generation;
    const data = JSON.stringify({ generation, instances: [...this.registry.all()] });
    return `id: ${this.eventId(generation)}\nevent: snapshot\ndata: ${data}\n\n`;
  }

  /** The SSE text of every change after `lastEventId`, or undefined when a snapshot is needed. */
  private changesSince(lastEventId: string | undefined): string | undefined {
    if (lastEventId === undefined) return undefined;
    const match = /^([0-9a-f]+)-(\d+)$/.exec(lastEventId.trim());
    if (match === null || match[1] !== this.epoch) return undefined;
    const since = Number(match[2]);
    const current = this.registry.generation;
    if (since > current) return undefined;
    if (since === current) return '';
    const oldest = this.history[0];
    // Every generation after `since` must still be in the history: one change is one generation.
    if (oldest === undefined || oldest.generation > since + 1) return undefined;
    let text = '';
    for (const change of this.history) if (change.generation > since) text += change.text;
    return text;
  }

  private eventId(generation: number): string {
    return `${this.epoch}-${generation}`;
  }

  private record(change: RegistryChange, generation: number): void {
    if (this.clients.size === 0 && Date.now() > this.keepHistoryUntil) {
      // Nobody has listened for a while: nothing is kept (a client that comes now gets a snapshot, and the picture is taken again then).
      this.instancesByOwner.clear();
      this.mirrored = false;
      this.history.length = 0;
      this.historyBytes = 0;
      return;
    }
    const events = this.eventsOf(change, generation);
    let text = '';
    events.forEach((event, i) => {
      // Only the last event of a generation carries the id: a client cut off inside one gets all of it again.
      const id = i === events.length - 1 ? `id: ${this.eventId(generation)}\n` : '';
      text += `${id}event: instance\ndata: ${JSON.stringify(event)}\n\n`;
    });
    // A change that changed nothing (a resync with the same picture) still moves the generation.
    if (events.length === 0) text = `id: ${this.eventId(generation)}\nevent: generation\ndata: ${JSON.stringify({ generation })}\n\n`;
    this.history.push({ generation, text });
    this.historyBytes += text.length;
    let drop = 0;
    while (this.history.length - drop > this.settings.historySize || this.historyBytes > HISTORY_MAX_CHARS) {
      this.historyBytes -= (this.history[drop] as SentChange).text.length;
      drop++;
    }
    if (drop > 0) this.history.splice(0, drop);
    this.broadcast(text);
  }

  private eventsOf(change: RegistryChange, generation: number): InstanceEvent[] {
    if (change.kind === 'upsert') return [this.upserted(change.instance, generation)];
    if (change.kind === 'remove') return this.removed(change.owner, generation);
    const events: InstanceEvent[] = [];
    const kept = new Set(change.instances.map((instance) => instance.owner));
    for (const owner of [...this.instancesByOwner.keys()]) {
      if (owner.startsWith(change.ownerPrefix) && !kept.has(owner)) events.push(...this.removed(owner, generation));
    }
    for (const instance of change.instances) {
      const before = this.instancesByOwner.get(instance.owner);
      if (before === undefined || JSON.stringify(before) !== JSON.stringify(instance)) events.push(this.upserted(instance, generation));
    }
    return events;
  }

  private upserted(instance: Instance, generation: number): InstanceEvent {
    const before = this.instancesByOwner.get(instance.owner);
    this.instancesByOwner.set(instance.owner, instance);
    const kind: ChangeKind = before === undefined ? 'added' : before.healthy !== instance.healthy ? 'health' : 'changed';
    return { generation, kind, owner: instance.owner, instance };
  }

  private removed(owner: string, generation: number): InstanceEvent[] {
    if (!this.instancesByOwner.delete(owner)) return [];
    return [{ generation, kind: 'removed', owner }];
  }

  /** Queues text for every client; written once per tick, so a burst of changes is one write per client. */
  private broadcast(text: string): void {
    if (this.clients.size === 0) return;
    this.pending += text;
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const chunk = this.pending;
      this.pending = '';
      for (const client of this.clients) this.send(client, chunk);
    });
  }

  private send(client: Client, text: string): void {
    if (text === '') return;
    client.response.write(text);
    if (client.response.writableLength > client.budget) {
      this.log.warn({ queuedBytes: client.response.writableLength }, 'events client dropped: it reads slower than the registry changes; it may reconnect');
      this.clients.delete(client);
      client.response.destroy();
    }
  }
}

export interface EventsRoutesOptions {
  registry: Registry;
  token: string | undefined;
  settings?: Partial<EventStreamSettings>;
}

export const eventsRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: EventsRoutesOptions }> = async (app, { registry, token, settings }) => {
  const hub = new EventHub(registry, { ...DEFAULT_EVENT_STREAM_SETTINGS, ...settings }, app.log as unknown as Logger);
  // Before the server closes: it waits for open connections, and a stream stays open until ended.
  app.addHook('preClose', async () => hub.close());
  app.addHook('onRequest', requireToken(token));
  app.get(
    '/',
    {
      schema: {
        tags: ['live'],
        summary: 'Server-Sent Events of registry changes (text/event-stream); try `curl -N`',
        description: [
          'The stream opens with `event: snapshot` (`{generation, instances: [...]}`) and goes on with one `event: instance`',
          'per change: `{generation, kind: added|changed|health|removed, owner, instance?}`. Every change carries',
          '`id: <epoch>-<generation>`; a client that reconnects with that id in `Last-Event-ID` (or `?lastEventId=`)',
          'gets the changes it missed, or a new snapshot when they are no longer kept or seamark restarted.',
          'A `: heartbeat` comment comes every 15 s. A client that reads too slowly is disconnected (and may reconnect).',
        ].join(' '),
        querystring: {
          type: 'object',
          properties: { lastEventId: { type: 'string', maxLength: 64, description: 'As Last-Event-ID, for clients that cannot set headers' } },
          additionalProperties: false,
        },
        headers: { type: 'object', properties: { 'last-event-id': { type: 'string', maxLength: 64, description: 'The id of the last event received: resume after it' } } },
        produces: ['text/event-stream'],
        response: { 200: { type: 'string', description: 'text/event-stream' } },
      },
    },
    async (request, reply) => {
      const lastEventId = request.headers['last-event-id'];
      reply.hijack();
      const response = reply.raw;
      response.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
        connection: 'keep-alive',
      });
      // A stream lives until the client goes: no request or idle timeout applies to it.
      request.raw.socket.setTimeout(0);
      request.raw.socket.setNoDelay(true);
      hub.attach(response, typeof lastEventId === 'string' ? lastEventId : request.query.lastEventId);
    },
  );
};
