// GET /v1/events: the registry's changes as Server-Sent Events, for the
// operator page and `curl -N`. A client first gets a snapshot (or, when it
// resumes with Last-Event-ID, the changes it missed), then one event per
// instance added, changed, removed or turned healthy/unhealthy.
// Each byte is encoded once for every client (the snapshot once per
// generation) and written to each a chunk at a time as its socket drains; a
// client whose queued changes pass its budget is dropped, so a slow reader
// costs bounded memory and nothing else. Streams are capped in all and per
// client address, so that they never take the connections /healthz, /readyz
// and writes need.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { Logger } from 'pino';
import type { Instance, Source } from '../registry/instance.js';
import { recordOfOwner } from '../registry/owners.js';
import type { Registry, RegistryChange } from '../registry/registry.js';
import { requireToken, type ApiToken } from './auth.js';
import { ErrorSchema, errorBody } from './errors.js';

export type ChangeKind = 'added' | 'changed' | 'health' | 'removed';

/** One instance's change, as sent in an `instance` event. */
export interface InstanceEvent {
  generation: number;
  kind: ChangeKind;
  owner: string;
  /** The instance's source (config, manual or docker), also when it was removed. */
  source: Source;
  /** The instance as it is now; absent when removed. */
  instance?: SentInstance;
}

/** An instance as the stream sends it: a hand-made one also carries its record id (for `/v1/records/{id}`). */
export type SentInstance = Instance & { record?: string };

export interface EventStreamSettings {
  /** Changes kept for clients that reconnect; older ones get a fresh snapshot. */
  historySize: number;
  /** Unsent bytes of changes a client may have queued (beyond its snapshot or missed changes) before it is dropped. */
  clientBufferBytes: number;
  /** Milliseconds between heartbeat comments on an idle stream. */
  heartbeatMs: number;
  /** Streams open at once; more get 503. */
  maxStreams: number;
  /** Streams open at once from one client address; more get 429. */
  maxStreamsPerClient: number;
}

export const DEFAULT_EVENT_STREAM_SETTINGS: EventStreamSettings = {
  historySize: 10000,
  clientBufferBytes: 4 * 1024 * 1024,
  heartbeatMs: 15000,
  maxStreams: 64,
  maxStreamsPerClient: 16,
};

/** The history also stays under this many bytes: one resync of many instances can be megabytes. */
const HISTORY_MAX_BYTES = 16 * 1024 * 1024;

/** How long after the last client left changes are still recorded for it to resume. */
const RESUME_WINDOW_MS = 5 * 60 * 1000;

/** Bytes handed to a client's socket at a time: the socket buffers at most about this much per client. */
const CHUNK_BYTES = 64 * 1024;

/**
 * Snapshots of past generations that clients are still reading are kept up to this many bytes together (the
 * newest two always): a client still reading an older one is dropped and starts again from a new one.
 */
const SNAPSHOTS_MAX_BYTES = 64 * 1024 * 1024;

/** Seconds a refused client is told to wait (Retry-After). */
const RETRY_AFTER_SECONDS = 10;

/** One generation's snapshot event, encoded once and sent to every client that starts then. */
interface Snapshot {
  generation: number;
  bytes: Buffer;
}

interface Client {
  response: ServerResponse;
  address: string;
  /**
   * What is still to be written, oldest first: shared Buffers (the snapshot, kept changes, each tick's
   * events), never a copy per client. Written a chunk at a time, the next once the socket drains.
   */
  queue: Buffer[];
  /** Bytes of queue[0] already written. */
  offset: number;
  /** The snapshot the client is reading, until it has all been written. */
  snapshot: Snapshot | undefined;
  /** Queued bytes of changes, the snapshot left out (it is shared and bounded on its own). */
  queuedBytes: number;
  /** Queued bytes allowed before the client is dropped: the budget, plus the missed changes it opened with until they are written. */
  allowance: number;
  /** Bytes of the opening (missed changes) still in the queue. */
  openingBytes: number;
  waitingForDrain: boolean;
}

/** The SSE encoding of one change; each carries `id:` so a reconnect resumes after it. */
interface SentChange {
  generation: number;
  bytes: Buffer;
}

/** Why a stream cannot be opened now: the status, and a message saying which limit and what to do. */
export interface StreamRefusal {
  statusCode: 429 | 503;
  message: string;
}

/**
 * Turns registry mutations into per-instance events, keeps a bounded history
 * for resuming clients and fans events out to connected clients once per tick.
 * Every byte a client is sent is encoded once for all clients; each client
 * holds references into it and a position, and gets its next chunk when its
 * socket drains, so many clients or a slow one never hold copies.
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
  private readonly streamsByAddress = new Map<string, number>();
  private latestSnapshot: Snapshot | undefined;
  private pending = '';
  private flushScheduled = false;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly registry: Registry,
    private readonly settings: EventStreamSettings,
    private readonly log: Logger,
  ) {
    this.unsubscribe = registry.onMutation((change, generation) => this.record(change, generation), '/v1/events stream');
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
    this.streamsByAddress.clear();
  }

  /** Whether a client at `address` may open a stream now; undefined when it may. */
  refusal(address: string): StreamRefusal | undefined {
    const { maxStreams, maxStreamsPerClient } = this.settings;
    const fromAddress = this.streamsByAddress.get(address) ?? 0;
    if (fromAddress >= maxStreamsPerClient) {
      return {
        statusCode: 429,
        message:
          `too many event streams from ${address}: ${fromAddress} open, at most ${maxStreamsPerClient} per client address (eventsMaxStreamsPerClient); ` +
          `close one (each browser tab of the operator page holds one) or retry after ${RETRY_AFTER_SECONDS} s`,
      };
    }
    if (this.clients.size >= maxStreams) {
      return {
        statusCode: 503,
        message: `too many event streams: ${this.clients.size} open, at most ${maxStreams} (eventsMaxStreams); retry after ${RETRY_AFTER_SECONDS} s`,
      };
    }
    return undefined;
  }

  get retryAfterSeconds(): number {
    return RETRY_AFTER_SECONDS;
  }

  /** Starts a stream: the missed changes after `lastEventId` when they are all still kept, else a snapshot. */
  attach(response: ServerResponse, address: string, lastEventId: string | undefined): void {
    if (!this.mirrored) {
      for (const instance of this.registry.all()) this.instancesByOwner.set(instance.owner, instance);
      this.mirrored = true;
    }
    const missed = this.changesSince(lastEventId);
    const snapshot = missed === undefined ? this.currentSnapshot() : undefined;
    const openingBytes = missed?.reduce((sum, bytes) => sum + bytes.length, 0) ?? 0;
    const client: Client = {
      response,
      address,
      // A retry hint for EventSource, then what the client needs to be current.
      queue: [RETRY_HINT, ...(snapshot === undefined ? (missed ?? []) : [snapshot.bytes])],
      offset: 0,
      snapshot,
      queuedBytes: openingBytes,
      allowance: this.settings.clientBufferBytes + openingBytes,
      openingBytes,
      waitingForDrain: false,
    };
    this.clients.add(client);
    this.streamsByAddress.set(address, (this.streamsByAddress.get(address) ?? 0) + 1);
    response.on('close', () => this.detach(client));
    response.on('drain', () => {
      client.waitingForDrain = false;
      this.pump(client);
    });
    this.pump(client);
  }

  private detach(client: Client): void {
    if (!this.clients.delete(client)) return;
    const left = (this.streamsByAddress.get(client.address) ?? 1) - 1;
    if (left === 0) this.streamsByAddress.delete(client.address);
    else this.streamsByAddress.set(client.address, left);
    client.queue.length = 0;
    client.snapshot = undefined;
    this.keepHistoryUntil = Date.now() + RESUME_WINDOW_MS;
  }

  private drop(client: Client, message: string, fields: Record<string, unknown>): void {
    this.log.warn({ client: client.address, ...fields }, message);
    this.detach(client);
    client.response.destroy();
  }

  /** The snapshot of the current generation: built once, shared by every client that starts before the next change. */
  private currentSnapshot(): Snapshot {
    const generation = this.registry.generation;
    if (this.latestSnapshot?.generation === generation) return this.latestSnapshot;
    const data = JSON.stringify({ generation, instances: Array.from(this.registry.all(), sentInstance) });
    const snapshot: Snapshot = { generation, bytes: Buffer.from(`id: ${this.eventId(generation)}\nevent: snapshot\ndata: ${data}\n\n`) };
    this.latestSnapshot = snapshot;
    this.limitSnapshotsInFlight(snapshot);
    return snapshot;
  }

  /** Drops the clients still reading the oldest snapshots while those kept alive by clients pass SNAPSHOTS_MAX_BYTES. */
  private limitSnapshotsInFlight(newest: Snapshot): void {
    const readers = new Map<Snapshot, Client[]>();
    for (const client of this.clients) {
      if (client.snapshot === undefined || client.snapshot === newest) continue;
      const list = readers.get(client.snapshot);
      if (list === undefined) readers.set(client.snapshot, [client]);
      else list.push(client);
    }
    const older = [...readers.keys()].sort((a, b) => a.generation - b.generation);
    let bytes = newest.bytes.length + older.reduce((sum, snapshot) => sum + snapshot.bytes.length, 0);
    // The newest and the one before it always stay.
    for (const snapshot of older.slice(0, -1)) {
      if (bytes <= SNAPSHOTS_MAX_BYTES) break;
      bytes -= snapshot.bytes.length;
      for (const client of readers.get(snapshot) ?? []) {
        this.drop(client, 'events client dropped: it reads its snapshot slower than the registry changes; it may reconnect', { generation: snapshot.generation });
      }
    }
  }

  /** The encoded changes after `lastEventId`, or undefined when a snapshot is needed. */
  private changesSince(lastEventId: string | undefined): Buffer[] | undefined {
    if (lastEventId === undefined) return undefined;
    const match = /^([0-9a-f]+)-(\d+)$/.exec(lastEventId.trim());
    if (match === null || match[1] !== this.epoch) return undefined;
    const since = Number(match[2]);
    const current = this.registry.generation;
    if (since > current) return undefined;
    if (since === current) return [];
    const oldest = this.history[0];
    // Every generation after `since` must still be in the history: one change is one generation.
    if (oldest === undefined || oldest.generation > since + 1) return undefined;
    return this.history.filter((change) => change.generation > since).map((change) => change.bytes);
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
      this.latestSnapshot = undefined;
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
    const bytes = Buffer.from(text);
    this.history.push({ generation, bytes });
    this.historyBytes += bytes.length;
    let drop = 0;
    while (this.history.length - drop > this.settings.historySize || this.historyBytes > HISTORY_MAX_BYTES) {
      this.historyBytes -= (this.history[drop] as SentChange).bytes.length;
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
    return { generation, kind, owner: instance.owner, source: instance.source, instance: sentInstance(instance) };
  }

  private removed(owner: string, generation: number): InstanceEvent[] {
    const before = this.instancesByOwner.get(owner);
    if (before === undefined) return [];
    this.instancesByOwner.delete(owner);
    return [{ generation, kind: 'removed', owner, source: before.source }];
  }

  /** Queues text for every client; encoded and written once per tick, so a burst of changes is one write per client. */
  private broadcast(text: string): void {
    if (this.clients.size === 0) return;
    this.pending += text;
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const bytes = Buffer.from(this.pending);
      this.pending = '';
      for (const client of this.clients) {
        client.queue.push(bytes);
        client.queuedBytes += bytes.length;
        if (client.queuedBytes > client.allowance) {
          this.drop(client, 'events client dropped: it reads slower than the registry changes; it may reconnect', { queuedBytes: client.queuedBytes });
        } else {
          this.pump(client);
        }
      }
    });
  }

  /** Writes the client's queue a chunk at a time until its socket asks to wait ('drain' calls this again). */
  private pump(client: Client): void {
    const { response, queue } = client;
    while (!client.waitingForDrain && queue.length > 0) {
      const head = queue[0] as Buffer;
      const chunk = head.subarray(client.offset, client.offset + CHUNK_BYTES);
      client.offset += chunk.length;
      if (client.offset >= head.length) {
        queue.shift();
        client.offset = 0;
        if (client.snapshot !== undefined && head === client.snapshot.bytes) client.snapshot = undefined;
        else if (head !== RETRY_HINT) this.written(client, head.length);
      }
      if (!response.write(chunk)) client.waitingForDrain = true;
    }
  }

  /** Accounts for `bytes` of changes handed to the socket. */
  private written(client: Client, bytes: number): void {
    client.queuedBytes -= bytes;
    if (client.openingBytes > 0) {
      const opening = Math.min(bytes, client.openingBytes);
      client.openingBytes -= opening;
      client.allowance -= opening;
    }
  }
}

const RETRY_HINT = Buffer.from('retry: 1000\n\n');

export interface EventsRoutesOptions {
  registry: Registry;
  token: ApiToken;
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
          'per change: `{generation, kind: added|changed|health|removed, owner, source, instance?}`; a hand-made instance',
          'also carries `record`, its record id. Every change carries',
          '`id: <epoch>-<generation>`; a client that reconnects with that id in `Last-Event-ID` (or `?lastEventId=`)',
          'gets the changes it missed, or a new snapshot when they are no longer kept or seamark restarted.',
          'A `: heartbeat` comment comes every 15 s. A client that reads too slowly is disconnected (and may reconnect).',
          'Streams are limited in all (503) and per client address (429), both with Retry-After.',
        ].join(' '),
        querystring: {
          type: 'object',
          properties: { lastEventId: { type: 'string', maxLength: 64, description: 'As Last-Event-ID, for clients that cannot set headers' } },
          additionalProperties: false,
        },
        headers: { type: 'object', properties: { 'last-event-id': { type: 'string', maxLength: 64, description: 'The id of the last event received: resume after it' } } },
        produces: ['text/event-stream'],
        response: { 200: { type: 'string', description: 'text/event-stream' }, 429: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request, reply) => {
      const lastEventId = request.headers['last-event-id'];
      const address = request.socket.remoteAddress ?? '';
      const refusal = hub.refusal(address);
      if (refusal !== undefined) {
        // Closed after the answer: a refused client keeps no connection either.
        return reply
          .code(refusal.statusCode)
          .header('retry-after', String(hub.retryAfterSeconds))
          .header('connection', 'close')
          .send(errorBody(refusal.statusCode, refusal.message));
      }
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
      hub.attach(response, address, typeof lastEventId === 'string' ? lastEventId : request.query.lastEventId);
    },
  );
};

/** The instance with its record id when it is a hand-made record; any other as it is (no copy). */
function sentInstance(instance: Instance): SentInstance {
  const record = recordOfOwner(instance.owner);
  return record === undefined ? instance : { ...instance, record };
}
