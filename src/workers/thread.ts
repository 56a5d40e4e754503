// The entry of the DNS thread: one DNS worker on a thread of the seamark
// process, talking to the primary over its parent port.
import { parentPort } from 'node:worker_threads';
import type { ToWorker } from './messages.js';
import { runDnsWorker } from './worker.js';

const port = parentPort;
if (port === null) throw new Error('src/workers/thread.js runs only as a worker thread');

let stopped: (() => void) | undefined;
await runDnsWorker({
  send: (message, written) => {
    port.postMessage(message);
    written?.();
  },
  onMessage: (listener) =>
    port.on('message', (message: ToWorker) => {
      if (message.type === 'stop') stopped?.();
      else listener(message);
    }),
  onceClosed: (listener) => (stopped = listener),
  // In a worker thread, process.exit ends the thread alone.
  exit: (code) => process.exit(code),
});
// Nothing is left to keep the thread alive: it ends, and the primary sees it exit.
port.close();
