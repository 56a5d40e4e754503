// The page's subscription to /v1/events. The browser's EventSource does the
// work (reconnects, Last-Event-ID) while no token is held; EventSource cannot
// send an Authorization header, so with a token the same stream is read with
// fetch and the few lines of SSE parsing below.
import { authHeaders, currentToken } from './api.js';

export interface StreamHandlers {
  /** An SSE event: its name and parsed data. */
  onEvent(name: string, data: unknown): void;
  onState(state: 'live' | 'reconnecting'): void;
  /** The stream was refused (401 and the like): the caller decides whether to ask for the token. */
  onRefused(status: number): void;
}

export interface EventStream {
  close(): void;
}

const EVENT_NAMES = ['snapshot', 'instance', 'generation'];

export function openEventStream(url: string, handlers: StreamHandlers): EventStream {
  return currentToken() === undefined ? viaEventSource(url, handlers) : viaFetch(url, handlers);
}

function viaEventSource(url: string, handlers: StreamHandlers): EventStream {
  const source = new EventSource(url);
  source.onopen = () => handlers.onState('live');
  for (const name of EVENT_NAMES) {
    source.addEventListener(name, (event) => handlers.onEvent(name, JSON.parse((event as MessageEvent<string>).data)));
  }
  source.onerror = () => {
    handlers.onState('reconnecting');
    // CLOSED: the server answered with something other than a stream (a 401): EventSource gives up.
    if (source.readyState === EventSource.CLOSED) handlers.onRefused(401);
  };
  return { close: () => source.close() };
}

function viaFetch(url: string, handlers: StreamHandlers): EventStream {
  const controller = new AbortController();
  let lastEventId: string | undefined;
  let retryMs = 1000;
  const run = async () => {
    while (!controller.signal.aborted) {
      try {
        const headers: Record<string, string> = { ...authHeaders(), accept: 'text/event-stream' };
        if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
        const response = await fetch(url, { headers, signal: controller.signal });
        if (!response.ok || response.body === null) {
          handlers.onRefused(response.status);
          return;
        }
        handlers.onState('live');
        await readEvents(response.body, (name, data, id) => {
          if (id !== undefined) lastEventId = id;
          if (name === 'retry') retryMs = Number(data) || retryMs;
          else handlers.onEvent(name, JSON.parse(data));
        });
      } catch {
        if (controller.signal.aborted) return;
      }
      handlers.onState('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  };
  void run();
  return { close: () => controller.abort() };
}

/** Parses text/event-stream (WHATWG HTML §9.2): fields up to a blank line make one event. */
async function readEvents(body: ReadableStream<Uint8Array>, dispatch: (name: string, data: string, id: string | undefined) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  let name = 'message';
  let data: string[] = [];
  let id: string | undefined;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffered += decoder.decode(value, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).replace(/\r$/, '');
      buffered = buffered.slice(newline + 1);
      if (line === '') {
        if (data.length > 0) dispatch(name, data.join('\n'), id);
        name = 'message';
        data = [];
        id = undefined;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') name = text;
      else if (field === 'data') data.push(text);
      else if (field === 'id') id = text;
      else if (field === 'retry') dispatch('retry', text, undefined);
    }
  }
}
