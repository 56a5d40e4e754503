// A Docker API that stalls or slows: seamark behind a proxy in front of the
// real Docker socket that holds, refuses or delays chosen requests. Whatever
// stalls, events keep being applied, the stall shows on /readyz, /metrics and
// in the log, and once it clears /v1/names equals `docker ps` within seconds.
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { startSeamark, type RunningSeamark } from '../helpers/seamark.js';
import {
  addressesOf, containerAddresses, docker, DockerSocketProxy, dockerUnavailable, IMAGE, readyz, removeByPrefix, runContainer, sameSet,
  seamarkResolver, skipLoudly, testPrefix, waitForDockerPs, waitUntil,
} from './engine.js';

const unavailable = dockerUnavailable();
if (unavailable !== undefined) skipLoudly(unavailable);
const prefix = testPrefix('flt');
const LIST = /^GET \/containers\/json/;
const EVENTS = /^GET \/events/;

describe('a stalled or slow Docker API', { skip: unavailable, timeout: 300000 }, () => {
  const started: { seamark: RunningSeamark; proxy: DockerSocketProxy }[] = [];
  afterEach(async () => {
    for (const { seamark, proxy } of started.splice(0)) {
      await seamark.stop();
      await proxy.cut();
    }
  });
  after(() => removeByPrefix(prefix));

  /** seamark reading Docker through a fresh proxy, with the HTTP API on. */
  async function throughProxy(config: Record<string, unknown>) {
    const proxy = new DockerSocketProxy();
    await proxy.open();
    const seamark = await startSeamark({ config: { zones: ['docker'], docker: `unix://${proxy.path}`, ...config }, waitFor: 'Docker containers synced' });
    started.push({ seamark, proxy });
    const resolver = seamarkResolver(seamark.dnsPort);
    const resolves = (host: string, expected: string[], timeoutMs = 10000) =>
      waitUntil(`${host} → ${expected.join(',') || 'nothing'}`, async () => sameSet(await addressesOf(resolver, `${host}.docker`), expected), timeoutMs);
    const degraded = async () => (await readyz(seamark.httpPort)).body.degraded?.docker;
    const degradedMetric = async () => /^seamark_source_degraded\{source="docker"\} (\d)/m.exec(await (await fetch(`http://127.0.0.1:${seamark.httpPort}/metrics`)).text())?.[1];
    const warned = (pattern: RegExp) => seamark.logs.some((l) => l.level === 40 && pattern.test(`${String(l.msg)} ${String(l.err ?? '')}`));
    const served = (host: string) => addressesOf(resolver, `${host}.docker`);
    return { seamark, proxy, resolves, served, degraded, degradedMetric, warned };
  }

  it('a container list that never answers during a reconcile holds back no event, shows as degraded, and is retried', async () => {
    const { seamark, proxy, resolves, degraded, degradedMetric, warned } = await throughProxy({ dockerReconcile: 2, dockerTimeout: 2, dockerEventsCheck: 0 });
    const leaving = await runContainer(`${prefix}list-leaving`);
    await resolves(`${prefix}list-leaving`, await containerAddresses(leaving));

    proxy.failMatching(LIST, 'stall');
    await waitUntil('a reconcile to be stuck on its list', async () => proxy.faulted(LIST) > 0, 10000, 50);
    const arriving = await runContainer(`${prefix}list-arriving`);
    await docker('rm', '-f', leaving);
    await resolves(`${prefix}list-arriving`, await containerAddresses(arriving));
    await resolves(`${prefix}list-leaving`, []);

    await waitUntil('/readyz to say the Docker source is degraded', async () => /did not answer GET \/containers\/json/.test((await degraded()) ?? ''), 10000, 100);
    assert.equal(await degradedMetric(), '1');
    assert.equal((await readyz(seamark.httpPort)).status, 200, 'degraded is still ready: the last picture is served');
    assert.ok(warned(/Docker reconcile failed.*did not answer GET \/containers\/json within 2 s/), 'the stall is a warning');

    proxy.faultFor = undefined;
    await waitForDockerPs(seamark.httpPort, `${prefix}list-`);
    await waitUntil('the degraded state to clear', async () => (await degraded()) === undefined, 10000, 100);
    assert.equal(await degradedMetric(), '0');
  });

  it('an event stream that never starts is a warning, and once it answers seamark equals docker ps', async () => {
    const { seamark, proxy, degraded, warned } = await throughProxy({ dockerReconcile: 0, dockerTimeout: 2, dockerEventsCheck: 0 });
    const leaving = await runContainer(`${prefix}ev-leaving`);
    await waitForDockerPs(seamark.httpPort, `${prefix}ev-`);

    proxy.failMatching(EVENTS, 'stall');
    proxy.dropConnections(EVENTS);
    await waitUntil('seamark to ask for events again', async () => proxy.faulted(EVENTS) > 0, 10000, 50);
    await runContainer(`${prefix}ev-arriving`);
    await docker('rm', '-f', leaving);
    await waitUntil('/readyz to say the Docker source is degraded', async () => /did not answer GET \/events/.test((await degraded()) ?? ''), 10000, 100);
    assert.ok(warned(/cannot reach Docker.*did not answer GET \/events within 2 s/), 'the stall is a warning');

    proxy.faultFor = undefined;
    await waitForDockerPs(seamark.httpPort, `${prefix}ev-`);
    await waitUntil('the degraded state to clear', async () => (await degraded()) === undefined, 10000, 100);
  });

  it('an event stream that goes silent while containers change is found stalled and reconnected', async () => {
    const { seamark, proxy, resolves, warned } = await throughProxy({ dockerReconcile: 0, dockerTimeout: 2, dockerEventsCheck: 1 });
    proxy.silenceConnections(EVENTS);
    const arriving = await runContainer(`${prefix}silent-arriving`);
    await resolves(`${prefix}silent-arriving`, await containerAddresses(arriving));
    assert.ok(warned(/event stream is stalled/), 'the stall is a warning');
    await waitForDockerPs(seamark.httpPort, `${prefix}silent-`);
  });

  it('a reconcile still catches what a silent stream missed: a rename, a new and a removed container', async () => {
    const { seamark, proxy, resolves } = await throughProxy({ dockerReconcile: 1, dockerTimeout: 2, dockerEventsCheck: 0 });
    const renamed = await runContainer(`${prefix}rn-old`);
    const removed = await runContainer(`${prefix}rn-removed`);
    await waitForDockerPs(seamark.httpPort, `${prefix}rn-`);
    proxy.silenceConnections(EVENTS);
    await docker('rename', renamed, `${prefix}rn-new`);
    await docker('rm', '-f', removed);
    const arriving = await runContainer(`${prefix}rn-arriving`);
    await resolves(`${prefix}rn-new`, await containerAddresses(renamed));
    await resolves(`${prefix}rn-old`, []);
    await resolves(`${prefix}rn-arriving`, await containerAddresses(arriving));
    await waitForDockerPs(seamark.httpPort, `${prefix}rn-`);
  });

  it('an inspect that hangs on docker start is retried: the container appears, and its later events count', async () => {
    const { seamark, proxy, resolves, degraded, warned } = await throughProxy({ dockerReconcile: 0, dockerTimeout: 2, dockerEventsCheck: 0 });
    const id = await docker('create', '--name', `${prefix}hang`, IMAGE, 'sleep', '3600');
    const inspect = new RegExp(`^GET /containers/${id}/json`);
    proxy.failMatching(inspect, 'stall', 2);
    await docker('start', id);
    await waitUntil('/readyz to say the Docker source is degraded', async () => /cannot inspect 1 container/.test((await degraded()) ?? ''), 15000, 50);
    // The log line travels through the child's stdout: it may land just after /readyz changed.
    const warning = new RegExp(`cannot inspect container.*did not answer GET /containers/${id.slice(0, 12)}/json within 2 s`);
    await waitUntil('a warning naming the inspect that did not answer', async () => warned(warning), 5000, 50);
    await resolves(`${prefix}hang`, await containerAddresses(id), 20000);
    await waitUntil('the degraded state to clear', async () => (await degraded()) === undefined, 10000, 100);
    await docker('kill', id);
    await resolves(`${prefix}hang`, []);
    await waitForDockerPs(seamark.httpPort, `${prefix}hang`);
  });

  it('a reconnect during a slow reconcile lists afresh instead of taking the reconcile\'s older picture', async () => {
    const { seamark, proxy, resolves, served } = await throughProxy({ dockerReconcile: 2, dockerTimeout: 30, dockerEventsCheck: 0 });
    const removed = await runContainer(`${prefix}rc-removed`);
    await runContainer(`${prefix}rc-stays`);
    await waitForDockerPs(seamark.httpPort, `${prefix}rc-`);

    // A reconcile's list is answered (with `removed` in it) but arrives 15 s late.
    proxy.failMatching(LIST, { delayResponseMs: 15000 }, 1);
    await waitUntil('a reconcile to wait for its late list', async () => proxy.faulted(LIST) === 1 && proxy.heldChunks > 0, 10000, 20);
    // seamark loses its event stream, and `removed` goes while it cannot see.
    proxy.failMatching(EVENTS, 'refuse');
    proxy.dropConnections(EVENTS);
    await docker('rm', '-f', removed);
    proxy.faultFor = undefined;

    await resolves(`${prefix}rc-removed`, []);
    assert.ok(proxy.heldChunks > 0, 'removed left DNS before the old reconcile picture arrived');
    await waitForDockerPs(seamark.httpPort, `${prefix}rc-`);
    await waitUntil('the late picture to be delivered', async () => proxy.heldChunks === 0, 20000, 100);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(await served(`${prefix}rc-removed`), [], 'the abandoned reconcile did not bring it back');
    await waitForDockerPs(seamark.httpPort, `${prefix}rc-`);
  });

  it('events are applied while a reconcile waits for a slow inspect, and the reconcile does not undo them', async () => {
    const { seamark, proxy, resolves, served } = await throughProxy({ dockerReconcile: 2, dockerTimeout: 30, dockerEventsCheck: 0 });
    const slow = await runContainer(`${prefix}ri-slow`);
    const victim = await runContainer(`${prefix}ri-victim`);
    await waitForDockerPs(seamark.httpPort, `${prefix}ri-`);

    // The next reconcile reads both while they run; both answers arrive 10 s late.
    proxy.failMatching(new RegExp(`^GET /containers/(${slow}|${victim})/json`), { delayResponseMs: 10000 }, 2);
    await waitUntil('a reconcile to wait for both inspects', async () => proxy.faulted(/^GET \/containers\/\w+\/json/) === 2 && proxy.heldChunks > 0, 30000, 20);
    await docker('kill', victim);
    await resolves(`${prefix}ri-victim`, []);
    assert.ok(proxy.heldChunks > 0, 'the kill left DNS while the reconcile was still waiting');

    await waitUntil('the late answers to be delivered', async () => proxy.heldChunks === 0, 20000, 100);
    const syncs = seamark.logs.filter((l) => l.msg === 'Docker containers synced').length;
    await waitUntil('the reconcile to finish', async () => seamark.logs.filter((l) => l.msg === 'Docker containers synced').length > syncs, 10000, 50);
    assert.deepEqual(await served(`${prefix}ri-victim`), [], 'the reconcile did not undo the kill');
    await waitForDockerPs(seamark.httpPort, `${prefix}ri-`);
  });
});
