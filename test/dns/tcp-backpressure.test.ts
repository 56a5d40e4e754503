// TCP pipelining with backpressure (RFC 7766 §6.2.1.1): a client that sends many queries and does not
// read its answers is paused (seamark stops reading its queries rather than hold every answer in memory),
// other clients are answered meanwhile, and once it reads it gets every answer, each once.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { buildQuery, sendRaw, withOpt } from '../helpers/raw.js';
import { metric, startSeamark } from '../helpers/seamark.js';

const QUERIES = 20_000;
const ADDRESSES = 60;

test('a client that pipelines and does not read is paused, then gets every answer once it reads', { timeout: 60_000 }, async () => {
  // About 1 KB per answer: 20 MB of answers, far beyond what the kernel buffers of one loopback connection hold.
  const addresses = Array.from({ length: ADDRESSES }, (_, i) => `10.9.0.${i + 1}`);
  const seamark = await startSeamark({ config: { docker: 'off', upstreams: [], tcpIdleTimeout: 60, hosts: [{ names: ['many'], addresses }] } });
  const client = connect(seamark.dnsPort, '127.0.0.1');
  try {
    await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject));
    client.pause();
    const before = await metric(seamark, 'seamark_dns_queries_total');
    const frames = Array.from({ length: QUERIES }, (_, i) => {
      const query = buildQuery('many.docker', 1, { id: i });
      const length = Buffer.alloc(2);
      length.writeUInt16BE(query.length);
      return Buffer.concat([length, query]);
    });
    client.write(Buffer.concat(frames));

    // Answered while the client does not read: seamark stops once its socket buffers are full, and stays stopped.
    let answered = -1;
    for (let i = 0; i < 100; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const now = (await metric(seamark, 'seamark_dns_queries_total')) - before;
      if (now === answered && now > 0) break;
      answered = now;
    }
    assert.ok(answered > 0 && answered < QUERIES / 2, `${answered} of ${QUERIES} queries answered while the client does not read`);
    console.log(`${answered} of ${QUERIES} queries answered before seamark paused the client`);
    const other = await sendRaw(seamark.dnsPort, withOpt(buildQuery('many.docker', 1, { id: 1 })));
    assert.ok(other !== undefined && other.readUInt16BE(6) > 0, 'another client is answered meanwhile');

    // Now it reads: every answer arrives, each once, whole.
    const seen = new Uint8Array(QUERIES);
    let received = 0;
    let whole = 0;
    let pending: Buffer = Buffer.alloc(0);
    await new Promise<void>((resolve, reject) => {
      client.on('error', reject);
      client.on('data', (chunk: Buffer) => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        while (pending.length >= 2 && pending.length >= pending.readUInt16BE(0) + 2) {
          const answer = pending.subarray(2, pending.readUInt16BE(0) + 2);
          pending = pending.subarray(answer.length + 2);
          const id = answer.readUInt16BE(0);
          seen[id] = (seen[id] ?? 0) + 1;
          if (answer.readUInt16BE(6) === ADDRESSES) whole++;
          if (++received === QUERIES) resolve();
        }
      });
      client.resume();
    });
    assert.equal(whole, QUERIES, 'every answer holds every address');
    assert.ok(seen.every((count) => count === 1), 'every query answered exactly once');
  } finally {
    client.destroy();
    await seamark.stop();
  }
});
