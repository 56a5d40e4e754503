// A real container labelled seamark.name=*.<name>: every name below <name> that does not exist answers with its
// addresses (RFC 4592), a container of its own under it wins, and the PTR names the container, never the *.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dig } from '../helpers/dig.js';
import { startSeamark, type RunningSeamark } from '../helpers/seamark.js';
import { addressesOf, containerAddresses, dockerUnavailable, removeByPrefix, runContainer, sameSet, seamarkResolver, skipLoudly, testPrefix, waitUntil } from './engine.js';

const unavailable = dockerUnavailable();
if (unavailable !== undefined) skipLoudly(unavailable);
const prefix = testPrefix('records-wild');
const ENABLE = ['--label', 'seamark.enable=true'];

describe('a wildcard container name', { skip: unavailable, timeout: 120000 }, () => {
  let seamark: RunningSeamark;
  let resolver: ReturnType<typeof seamarkResolver>;
  const resolvesTo = (host: string, expected: string[]) =>
    waitUntil(`${host} → ${expected.join(',') || 'nothing'}`, async () => sameSet(await addressesOf(resolver, host), expected));

  before(async () => {
    await removeByPrefix(prefix);
    seamark = await startSeamark({ config: { zones: ['docker'], publishAll: false }, waitFor: 'Docker containers synced' });
    resolver = seamarkResolver(seamark.dnsPort);
  });
  after(async () => {
    await seamark?.stop();
    await removeByPrefix(prefix);
  });

  it('answers any name below it with the container’s addresses; a closer name wins; PTR names the container', async () => {
    const proxy = await runContainer(`${prefix}proxy`, [...ENABLE, '--label', `seamark.name=*.${prefix}apps`]);
    const proxyAddresses = await containerAddresses(proxy);
    await resolvesTo(`shop.${prefix}apps.docker`, proxyAddresses);
    await resolvesTo(`a.b.${prefix}apps.docker`, proxyAddresses);
    const direct = await dig(seamark.dnsPort, `blog.${prefix}apps.docker`, 'A');
    assert.deepEqual(direct.answer.map((r) => `${r.name} ${r.data}`), proxyAddresses.map((address) => `blog.${prefix}apps.docker. ${address}`), 'owner is the question');
    const parent = await dig(seamark.dnsPort, `${prefix}apps.docker`, 'A');
    assert.equal(parent.status, 'NOERROR', 'the parent of a wildcard exists: NODATA');
    assert.deepEqual(parent.answer, []);
    const ptr = await dig(seamark.dnsPort, '-x', proxyAddresses[0] ?? '');
    assert.deepEqual(ptr.answer.map((r) => r.data), [`${prefix}proxy.docker.`]);

    const shop = await runContainer(`${prefix}shop`, [...ENABLE, '--label', `seamark.name=shop.${prefix}apps`]);
    await resolvesTo(`shop.${prefix}apps.docker`, await containerAddresses(shop));
    await resolvesTo(`blog.${prefix}apps.docker`, proxyAddresses);
    assert.equal((await dig(seamark.dnsPort, `x.shop.${prefix}apps.docker`, 'A')).status, 'NXDOMAIN', 'nothing below an existing name is covered');

    await removeByPrefix(`${prefix}proxy`);
    await waitUntil('the wildcard to go with its container', async () => (await dig(seamark.dnsPort, `blog.${prefix}apps.docker`, 'A')).status === 'NXDOMAIN');
  });
});
