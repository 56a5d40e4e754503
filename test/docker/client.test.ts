// A real container client: busybox's own resolver, pointed at seamark with
// `--dns`, finds another container by name.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { freePort, seamarkForSuite } from '../helpers/seamark.js';
import { bridgeGateway, containerAddresses, describeWithDocker, docker, IMAGE, runContainer } from './engine.js';

describeWithDocker('a container resolves another through seamark', 'cli', { timeout: 120000 }, (prefix) => {
  let gateway: string;
  const seamark = seamarkForSuite(async () => {
    gateway = await bridgeGateway();
    // Port 53 on the bridge gateway: where `--dns <address>` sends a container's queries.
    const dnsPort = await freePort();
    return { dnsPort, config: { dns: [`127.0.0.1:${dnsPort}`, `${gateway}:53`], zones: ['docker'], http: 'off' }, waitFor: 'Docker containers synced' };
  });

  it('busybox nslookup in a container started with --dns finds a container by name', async () => {
    const target = await runContainer(`${prefix}target`);
    const [address] = await containerAddresses(target);
    const output = await docker('run', '--rm', '--name', `${prefix}client`, '--dns', gateway, IMAGE, 'nslookup', `${prefix}target.docker`);
    assert.match(output, new RegExp(`Address:?\\s+${address!.replace(/\./g, '\\.')}`), output);
  });

  it('the container sees NXDOMAIN for a name that does not exist', async () => {
    const result = await docker('run', '--rm', '--name', `${prefix}client2`, '--dns', gateway, IMAGE, 'sh', '-c', `nslookup ${prefix}absent.docker; echo exit=$?`);
    assert.match(result, /NXDOMAIN|can't find|exit=1/, result);
  });
});
