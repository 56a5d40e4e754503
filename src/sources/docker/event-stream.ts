// The Docker event stream of one connection: subscribes to GET /events (the
// time limit covers its first bytes), parses the newline-delimited JSON and
// hands on the id of every container an event may have changed. Owns the
// connection's EventStream record (its abort controller, the bytes seen, when
// bytes last came), which is `state.stream` while the stream lives.
import { StringDecoder } from 'node:string_decoder';
import type { Logger } from 'pino';
import type { EventStream, WatchState } from './watch-state.js';

/** Container actions that can change what a container publishes; everything else (exec_*, attach, …) is noise. */
const CONTAINER_ACTIONS = new Set([
  'start', 'restart', 'die', 'stop', 'kill', 'destroy', 'pause', 'unpause', 'rename', 'health_status', 'update', 'oom',
]);
const NETWORK_ACTIONS = new Set(['connect', 'disconnect']);

interface DockerEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

export interface Subscription {
  /** Settles when the stream ends, fails or is aborted (by `close`, a stall check or stop). */
  ended: Promise<void>;
  /** Ends the stream and clears `state.stream`. */
  close(): void;
}

/**
 * Subscribes to container and network events (before the sync of a
 * connection, so nothing that happens during its list + inspect is missed)
 * and calls `onContainerEvent` with each container's id as its events arrive.
 */
export async function subscribe(state: WatchState, onContainerEvent: (id: string) => void): Promise<Subscription> {
  const { docker, log } = state.options;
  const controller = new AbortController();
  const stream = await state.call<NodeJS.ReadableStream>(
    'GET /events',
    (signal) => docker.getEvents({ filters: { type: ['container', 'network'] }, abortSignal: signal }) as Promise<NodeJS.ReadableStream>,
    state.lifetime.signal,
    controller,
  );
  const record: EventStream = { controller, bytes: 0, quietSince: performance.now() };
  state.stream = record;
  const ended = readEvents(stream, record, log, onContainerEvent);
  const endWithLifetime = () => controller.abort();
  state.lifetime.signal.addEventListener('abort', endWithLifetime, { once: true });
  return {
    ended,
    close() {
      state.lifetime.signal.removeEventListener('abort', endWithLifetime);
      if (state.stream === record) state.stream = undefined;
      controller.abort();
      (stream as { destroy?: () => void }).destroy?.();
    },
  };
}

/** Parses the newline-delimited JSON event stream; resolves when it ends, fails or is aborted. */
function readEvents(stream: NodeJS.ReadableStream, record: EventStream, log: Logger, onContainerEvent: (id: string) => void): Promise<void> {
  return new Promise((resolve) => {
    const decoder = new StringDecoder('utf8');
    let pending = '';
    stream.on('data', (chunk: Buffer | string) => {
      record.bytes += chunk.length;
      record.quietSince = performance.now();
      pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
      let newline;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line === '') continue;
        const containerId = containerOfEvent(line, log);
        if (containerId !== undefined) onContainerEvent(containerId);
      }
    });
    stream.once('end', () => resolve());
    stream.once('close', () => resolve());
    stream.once('error', (error: Error) => {
      log.debug({ err: error.message }, 'Docker event stream error');
      resolve();
    });
    record.controller.signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** The container an event line is about, when the event can change what it publishes. */
function containerOfEvent(line: string, log: Logger): string | undefined {
  let event: DockerEvent;
  try {
    event = JSON.parse(line) as DockerEvent;
  } catch {
    log.warn({ line: line.slice(0, 200) }, 'ignoring a Docker event that is not JSON');
    return undefined;
  }
  const type = event.Type ?? 'container';
  // `health_status: healthy` and friends carry their detail after a colon.
  const action = (event.Action ?? event.status ?? '').split(':')[0]?.trim() ?? '';
  let containerId: string | undefined;
  if (type === 'container' && CONTAINER_ACTIONS.has(action)) containerId = event.Actor?.ID ?? event.id;
  else if (type === 'network' && NETWORK_ACTIONS.has(action)) containerId = event.Actor?.Attributes?.container;
  if (containerId === undefined || containerId === '') return undefined;
  log.trace({ type, action, container: containerId }, 'Docker event');
  return containerId;
}
