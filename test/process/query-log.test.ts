// The query log (--query-log): a line per answer saying who asked what and where the answer came from; off by
// default, turned on by a reload, and bounded by queryLogRate with the lines left out counted.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { dig } from '../helpers/dig.js';
import { startDnsmasq, type RunningDnsmasq } from '../helpers/dnsmasq.js';
import { buildQuery } from '../helpers/raw.js';
import { startSeamark, type RunningSeamark } from '../helpers/seamark.js';

let upstream: RunningDnsmasq;
const running: RunningSeamark[] = [];
before(async () => {
  upstream = await startDnsmasq({ 'outside.example': '192.0.2.7' });
});
after(async () => {
  for (const seamark of running) await seamark.stop();
  await upstream?.stop();
});

const queryLines = (seamark: RunningSeamark) => seamark.logs.filter((entry) => entry.msg === 'query');

async function until(check: () => boolean): Promise<void> {
  for (let waited = 0; !check(); waited += 50) {
    if (waited > 10000) throw new Error('not within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const settings = () => ({ docker: 'off', upstreams: [`127.0.0.1:${upstream.port}`], hosts: [{ names: ['web'], addresses: ['10.9.0.1'] }] });

test('--query-log: client, name, type, rcode, source (zone, cache, forward) and latency of each answer, UDP and TCP', async () => {
  const seamark = await startSeamark({ config: settings(), args: ['--query-log'] });
  running.push(seamark);
  await dig(seamark.dnsPort, 'web.docker', 'A');
  await dig(seamark.dnsPort, 'web.docker', 'A');
  await dig(seamark.dnsPort, 'outside.example', 'A');
  await dig(seamark.dnsPort, 'missing.docker', 'AAAA', '+tcp');
  await until(() => queryLines(seamark).length >= 4);
  const lines = queryLines(seamark).map(({ client, transport, name, type, rcode, from }) => ({ client, transport, name, type, rcode, from }));
  assert.deepEqual(lines, [
    { client: '127.0.0.1', transport: 'udp', name: 'web.docker', type: 'A', rcode: 'NOERROR', from: 'zone' },
    { client: '127.0.0.1', transport: 'udp', name: 'web.docker', type: 'A', rcode: 'NOERROR', from: 'cache' },
    { client: '127.0.0.1', transport: 'udp', name: 'outside.example', type: 'A', rcode: 'NOERROR', from: 'forward' },
    { client: '127.0.0.1', transport: 'tcp', name: 'missing.docker', type: 'AAAA', rcode: 'NXDOMAIN', from: 'zone' },
  ]);
  for (const line of queryLines(seamark)) assert.ok(typeof line.ms === 'number' && line.ms >= 0, 'latency in ms');
});

test("an answer from the forwarder's own cache says forward-cache, not forward: no upstream was asked", async () => {
  // An upstream whose answers may be kept (a TTL above 0), and the answer cache off: a second ask of a forwarded
  // name is served by the forwarder's cache.
  const caching = await startDnsmasq({ 'kept.example': '192.0.2.8' }, ['--local-ttl=60']);
  try {
    const seamark = await startSeamark({ config: { ...settings(), upstreams: [`127.0.0.1:${caching.port}`], answerCacheSize: 0 }, args: ['--query-log'] });
    running.push(seamark);
    await dig(seamark.dnsPort, 'kept.example', 'A');
    await dig(seamark.dnsPort, 'kept.example', 'A');
    await until(() => queryLines(seamark).length >= 2);
    assert.deepEqual(queryLines(seamark).map((line) => line.from), ['forward', 'forward-cache']);
    assert.deepEqual(caching.queries, ['kept.example'], 'the upstream was asked once');
  } finally {
    await caching.stop();
  }
});

test('off by default; a reload turns it on, in the DNS thread', async () => {
  const seamark = await startSeamark({ config: settings() });
  running.push(seamark);
  await dig(seamark.dnsPort, 'web.docker', 'A');
  assert.equal(queryLines(seamark).length, 0);
  writeFileSync(seamark.configFile, stringify({ dns: [`127.0.0.1:${seamark.dnsPort}`], http: `127.0.0.1:${seamark.httpPort}`, dataDir: seamark.dataDir, logLevel: 'debug', ...settings(), queryLog: true }));
  process.kill(seamark.pid, 'SIGHUP');
  await until(() => seamark.logs.some((entry) => String(entry.msg).startsWith('configuration reloaded')));
  await dig(seamark.dnsPort, 'web.docker', 'A');
  await until(() => queryLines(seamark).length === 1);
});

test('bounded: past queryLogRate lines in a second the rest are counted, and the count is logged', async () => {
  const seamark = await startSeamark({ config: { ...settings(), queryLog: true, queryLogRate: 5 } });
  running.push(seamark);
  const socket = createSocket('udp4');
  let replies = 0;
  socket.on('message', () => replies++);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  try {
    for (let id = 1; id <= 40; id++) socket.send(buildQuery('web.docker', 1, { id }), seamark.dnsPort, '127.0.0.1');
    await until(() => replies === 40);
    const report = () => seamark.logs.find((entry) => String(entry.msg).startsWith('query log: '));
    await until(() => report() !== undefined);
    const lines = queryLines(seamark).length;
    assert.ok(lines >= 5 && lines < 40, `${lines} lines for 40 answers`);
    // Every answer is either a line or counted.
    const dropped = seamark.logs.filter((entry) => String(entry.msg).startsWith('query log: ')).reduce((sum, entry) => sum + (entry.dropped as number), 0);
    assert.equal(lines + dropped, 40);
    assert.match(String(report()?.msg), /lines left out \(over queryLogRate, 5 lines a second\)/);
  } finally {
    socket.close();
  }
});
