// Answers that fit the asker, with real Docker networks: a service on two networks, clients on each. busybox's
// nslookup inside each client container asks seamark at its own network's gateway; each gets only the address it
// can reach. The host, which is no container, gets the configured preferred network's address.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { dig } from '../helpers/dig.js';
import { freePort, startSeamark, type RunningSeamark } from '../helpers/seamark.js';
import { describeWithDocker, docker, runContainer, waitUntil } from './engine.js';

/** The addresses busybox nslookup printed for the name (the server's own lines left out). */
function answered(output: string): string[] {
  const answers = output.split(/\nName:/).slice(1).join('\n');
  return [...answers.matchAll(/Address:?\s+([0-9a-f.:]+)\s*$/gm)].map((match) => match[1] as string).sort();
}

async function gatewayOf(network: string): Promise<string> {
  return docker('network', 'inspect', network, '--format', '{{range .IPAM.Config}}{{.Gateway}}{{end}}');
}

async function addressOn(container: string, network: string): Promise<string> {
  return docker('inspect', '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, container);
}

describeWithDocker('per-network answers', 'net', { timeout: 180000 }, (prefix) => {
  const front = `${prefix}front`;
  const back = `${prefix}back`;
  const other = `${prefix}other`;
  const service = `${prefix}svc`;
  const gateways = new Map<string, string>();
  const addresses = new Map<string, string>();
  let seamark: RunningSeamark;
  let strict: RunningSeamark;
  let port: number;
  let strictPort: number;

  /** What a client container gets for the service through the seamark on `at`, asked at its network's gateway. */
  const fromContainer = async (client: string, network: string, at: number, name = `${service}.docker`): Promise<string[]> => {
    const output = await docker('exec', client, 'sh', '-c', `nslookup -type=a ${name} ${gateways.get(network)}:${at}; true`);
    return answered(output);
  };

  before(async () => {
    for (const network of [front, back, other]) {
      await docker('network', 'create', network);
      gateways.set(network, await gatewayOf(network));
    }
    port = await freePort();
    strictPort = await freePort();
    const listen = (at: number) => [`127.0.0.1:${at}`, ...[...gateways.values()].map((gateway) => `${gateway}:${at}`)];
    // No upstreams: nothing is forwarded beyond this machine.
    [seamark, strict] = await Promise.all([
      startSeamark({ dnsPort: port, config: { dns: listen(port), upstreams: [], preferredNetworks: [back] }, waitFor: 'Docker containers synced' }),
      startSeamark({ dnsPort: strictPort, config: { dns: listen(strictPort), upstreams: [], unsharedNetworks: 'nodata' }, waitFor: 'Docker containers synced' }),
    ]);
    await runContainer(service, ['--network', front]);
    await docker('network', 'connect', back, service);
    for (const network of [front, back]) addresses.set(network, await addressOn(service, network));
    await runContainer(`${prefix}on-front`, ['--network', front]);
    await runContainer(`${prefix}on-back`, ['--network', back]);
    await runContainer(`${prefix}on-other`, ['--network', other]);
    // Both addresses served: the strict server gives the host both, the other its preferred network's.
    await waitUntil('the service on both networks', async () => (await dig(strictPort, `${service}.docker`, 'A')).answer.length === 2, 20000);
    await waitUntil('the service on its preferred network', async () => (await dig(port, `${service}.docker`, 'A')).answer[0]?.data === addresses.get(back), 20000);
    await waitUntil('the clients published', async () => (await dig(port, `${prefix}on-other.docker`, 'A')).answer.length === 1, 20000);
  });
  after(() => Promise.all([seamark?.stop(), strict?.stop()]));

  it('a container on one network gets only the address on that network, every time', async () => {
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await fromContainer(`${prefix}on-front`, front, port), [addresses.get(front)]);
      assert.deepEqual(await fromContainer(`${prefix}on-back`, back, port), [addresses.get(back)]);
    }
  });

  it('a container that shares no network gets every address, or NODATA when unsharedNetworks is nodata', async () => {
    assert.deepEqual(await fromContainer(`${prefix}on-other`, other, port), [addresses.get(back), addresses.get(front)].sort());
    assert.deepEqual(await fromContainer(`${prefix}on-other`, other, strictPort), []);
    // The name still exists for it: NODATA, not NXDOMAIN.
    const output = await docker('exec', `${prefix}on-other`, 'sh', '-c', `nslookup -type=a ${service}.docker ${gateways.get(other)}:${strictPort}; true`);
    assert.doesNotMatch(output, /NXDOMAIN/, output);
  });

  it('the host gets the preferred network, or every address without one', async () => {
    assert.deepEqual((await dig(port, `${service}.docker`, 'A')).answer.map((record) => record.data), [addresses.get(back)]);
    assert.deepEqual((await dig(strictPort, `${service}.docker`, 'A')).answer.map((record) => record.data).sort(), [addresses.get(back), addresses.get(front)].sort());
  });

  it('the reverse name of an address a container cannot reach is not answered to it', async () => {
    const reverse = async (client: string, network: string, address: string) =>
      docker('exec', client, 'sh', '-c', `nslookup ${address} ${gateways.get(network)}:${strictPort}; true`);
    assert.match(await reverse(`${prefix}on-front`, front, addresses.get(front) as string), new RegExp(`${service}\\.docker`));
    assert.doesNotMatch(await reverse(`${prefix}on-front`, front, addresses.get(back) as string), new RegExp(`${service}\\.docker`));
  });

  it('/v1/lookup answers as a given client would be answered', async () => {
    const ask = async (from: string) => {
      const reply = await fetch(`http://127.0.0.1:${seamark.httpPort}/v1/lookup?name=${service}&from=${from}`);
      assert.equal(reply.status, 200);
      return (await reply.json()) as { answer: { data: string }[]; client: { networks: string[] | null }; text: string };
    };
    const onFront = await ask(await addressOn(`${prefix}on-front`, front));
    assert.deepEqual(onFront.answer.map((record) => record.data), [addresses.get(front)]);
    assert.deepEqual(onFront.client.networks, [front]);
    assert.match(onFront.text, new RegExp(`asked from .*a container on ${front}`));
    const fromHost = await ask('192.0.2.1');
    assert.equal(fromHost.client.networks, null);
    assert.deepEqual(fromHost.answer.map((record) => record.data), [addresses.get(back)]);
    const bad = await fetch(`http://127.0.0.1:${seamark.httpPort}/v1/lookup?name=${service}&from=nowhere`);
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /from/);
  });
});
